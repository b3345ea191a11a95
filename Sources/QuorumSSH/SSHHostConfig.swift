import Foundation

/// What ssh_config says about one host, for the keywords Quorum uses. `nil` means "not set"; the first value
/// obtained wins, as in OpenSSH, except `IdentityFile`, whose values accumulate.
public struct SSHHostConfig: Sendable, Equatable {
    public var hostName: String?
    public var user: String?
    public var port: Int?
    /// Raw values: `~` and `%` tokens are expanded by `expand` once user and host are final.
    public var identityFiles: [String] = []
    public var identitiesOnly: Bool?
    /// The raw `ProxyJump` value (`none` included).
    public var proxyJump: String?
    public var proxyCommand: String?
    public var userKnownHostsFiles: [String]?
    public var globalKnownHostsFiles: [String]?
    public var strictHostKeyChecking: String?
    public var hostKeyAlias: String?
    /// Where each keyword's value came from (`file:line`, or the option that gave it).
    public var sources: [String: String] = [:]

    public init() {}
}

/// An ssh option as given on a command line (`-o Keyword=value`, `-J`, `-p`…): applied before any file, so it wins.
public struct SSHOption: Sendable, Equatable {
    public var keyword: String
    public var arguments: [String]
    /// Where it came from, for messages (e.g. `ansible_ssh_common_args of ctl1`).
    public var origin: String

    public init(keyword: String, arguments: [String], origin: String) {
        self.keyword = keyword.lowercased()
        self.arguments = arguments
        self.origin = origin
    }

    /// Parses `Keyword=value` or `Keyword value` (the argument of `-o`).
    public static func parse(_ text: String, origin: String) throws -> SSHOption {
        let words: [String]
        do { words = try SSHConfigLexer.split(text) } catch { throw SSHConfigError(at: origin, "-o \(text): \(error)") }
        guard let keyword = words.first, words.count >= 2 else { throw SSHConfigError(at: origin, "-o \(text): expected Keyword=value") }
        let option = SSHOption(keyword: keyword, arguments: Array(words.dropFirst()), origin: origin)
        if let problem = SSHConfigValues.check(option.keyword, option.arguments) { throw SSHConfigError(at: origin, problem) }
        return option
    }
}

extension SSHConfig {
    /// The settings for `alias` (the name given to ssh: Ansible passes `ansible_host`, else the inventory name).
    /// `options` come first (command-line options win over the files).
    public func resolve(_ alias: String, options: [SSHOption] = [], localUser: String = SSHConfig.localUser) -> SSHHostConfig {
        var result = SSHHostConfig()
        for option in options { result.take(option.keyword, option.arguments, from: option.origin) }
        for directive in directives where applies(directive, alias: alias, soFar: result, localUser: localUser) {
            result.take(directive.keyword, directive.arguments, from: directive.location)
        }
        if let hostName = result.hostName { result.hostName = Self.expandTokens(hostName, ["h": alias]) }
        return result
    }

    private func applies(_ directive: Directive, alias: String, soFar: SSHHostConfig, localUser: String) -> Bool {
        directive.conditions.allSatisfy { condition in
            switch condition {
            case .host(let patterns): return HostPatterns.matchList(alias, patterns)
            case .match(let criteria):
                return criteria.allSatisfy { criterion in
                    let subject: String? =
                        switch criterion.kind {
                        case .all: nil
                        case .never: nil
                        case .host: soFar.hostName.map { Self.expandTokens($0, ["h": alias]) } ?? alias
                        case .originalHost: alias
                        case .user: soFar.user ?? localUser
                        case .localUser: localUser
                        }
                    let holds: Bool =
                        switch criterion.kind {
                        case .all: true
                        case .never: false
                        default: subject.map { HostPatterns.matchList($0, criterion.patterns) } ?? false
                        }
                    return holds != criterion.negated
                }
            }
        }
    }

    /// `$USER`, else the user database's name for this process's user: looked up once (each host's
    /// connection settings ask for it).
    public static let localUser: String = {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "root"
    }()

    /// Expands `%x` tokens from `values` (`%%` is a percent sign); unknown tokens are left as written.
    public static func expandTokens(_ text: String, _ values: [Character: String]) -> String {
        guard text.contains("%") else { return text }
        var out = ""
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            guard let token = iterator.next() else {
                out.append("%")
                break
            }
            if token == "%" { out.append("%") } else if let value = values[token] { out += value } else { out += "%\(token)" }
        }
        return out
    }
}

extension SSHHostConfig {
    /// Records a keyword's value unless an earlier one won (IdentityFile accumulates).
    mutating func take(_ keyword: String, _ arguments: [String], from source: String) {
        guard let value = arguments.first else { return }
        func once(_ apply: () -> Void) {
            guard sources[keyword] == nil else { return }
            sources[keyword] = source
            apply()
        }
        switch keyword {
        case "hostname": once { hostName = value }
        case "user": once { user = value }
        case "port": once { port = Int(value) }
        case "identityfile":
            if sources[keyword] == nil { sources[keyword] = source }
            identityFiles.append(value)
        case "identitiesonly": once { identitiesOnly = SSHConfigValues.yes(value) }
        case "proxyjump":
            // ProxyJump and ProxyCommand exclude each other: whichever comes first wins.
            guard sources["proxycommand"] == nil else { return }
            once { proxyJump = value }
        case "proxycommand":
            guard sources["proxyjump"] == nil else { return }
            once { proxyCommand = arguments.joined(separator: " ") }
        case "userknownhostsfile": once { userKnownHostsFiles = arguments }
        case "globalknownhostsfile": once { globalKnownHostsFiles = arguments }
        case "stricthostkeychecking": once { strictHostKeyChecking = value.lowercased() }
        case "hostkeyalias": once { hostKeyAlias = value }
        default: break
        }
    }
}

/// Value checks for the keywords Quorum interprets (others pass unchecked, as they are ignored).
enum SSHConfigValues {
    static func yes(_ value: String) -> Bool { ["yes", "true"].contains(value.lowercased()) }

    /// A message when `arguments` is not a valid value for `keyword`, nil when fine.
    static func check(_ keyword: String, _ arguments: [String]) -> String? {
        let interpreted: Set<String> = [
            "hostname", "user", "port", "identityfile", "identitiesonly", "proxyjump", "proxycommand",
            "userknownhostsfile", "globalknownhostsfile", "stricthostkeychecking", "hostkeyalias"
        ]
        guard interpreted.contains(keyword) else { return nil }
        guard let value = arguments.first else { return "\(keyword) needs a value" }
        switch keyword {
        case "port":
            guard let port = Int(value), (1...65535).contains(port) else { return "Port must be a number from 1 to 65535, not `\(value)`" }
        case "stricthostkeychecking":
            let allowed = ["yes", "no", "ask", "accept-new", "off", "true", "false"]
            guard allowed.contains(value.lowercased()) else {
                return "StrictHostKeyChecking must be one of \(allowed.joined(separator: ", ")), not `\(value)`"
            }
        case "identitiesonly":
            guard ["yes", "no", "true", "false"].contains(value.lowercased()) else { return "IdentitiesOnly must be yes or no, not `\(value)`" }
        case "proxyjump":
            if value.lowercased() == "none" { return nil }
            do { _ = try SSHJump.parseList(value) } catch { return "ProxyJump: \(error)" }
        default: break
        }
        return nil
    }
}
