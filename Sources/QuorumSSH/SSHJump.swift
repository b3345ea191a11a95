/// One hop of a `ProxyJump` list (`-J`): `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`.
public struct SSHJump: Sendable, Equatable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int?

    public init(user: String? = nil, host: String, port: Int? = nil) {
        self.user = user
        self.host = host
        self.port = port
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// A comma-separated list, first hop first; `none` is the empty list.
    public static func parseList(_ text: String) throws -> [SSHJump] {
        if text.lowercased() == "none" { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { try parse(String($0)) }
    }

    public static func parse(_ text: String) throws -> SSHJump {
        var rest = Substring(text)
        if rest.hasPrefix("ssh://") { rest = rest.dropFirst(6) }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard user?.isEmpty == false else { throw Invalid(description: "empty user name in jump host `\(text)`") }
        }
        var host = String(rest)
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw Invalid(description: "missing ] in jump host `\(text)`") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else {
                    throw Invalid(description: "bad port in jump host `\(text)`")
                }
                port = value
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]) else { throw Invalid(description: "bad port in jump host `\(text)`") }
            port = value
        }
        if let port, !(1...65535).contains(port) { throw Invalid(description: "port out of range in jump host `\(text)`") }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" || $0 == "\t" }) else {
            throw Invalid(description: "bad host in jump host `\(text)`")
        }
        return SSHJump(user: user, host: host, port: port)
    }

    /// As written in a ProxyJump list.
    public var description: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return (user.map { "\($0)@" } ?? "") + name + (port.map { ":\($0)" } ?? "")
    }
}
