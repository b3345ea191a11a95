/// Host entries as inventories write them: `name`, `name:port`, and ranges such as `ctl[1:3]`,
/// `db-[a:c]` or `web[01:10:2]` (expanded, zero padding kept).
enum HostName {
    struct Problem: Error { var message: String }

    /// The host names an entry stands for, and the port it names, if any.
    static func parse(_ entry: String) throws(Problem) -> (names: [String], port: Int?) {
        var text = entry
        var port: Int?
        let colons = outsideBrackets(entry).filter { $0.character == ":" }
        if colons.count == 1, let colon = colons.first {
            let suffix = entry[entry.index(after: colon.index)...]
            guard let number = Int(suffix), (1...65535).contains(number) else {
                throw Problem(message: "`\(entry)`: the part after `:` must be a port number")
            }
            port = number
            text = String(entry[..<colon.index])
        }
        let names = try expand(text)
        for name in names {
            if let problem = problem(with: name) { throw Problem(message: "invalid host name `\(name)`: \(problem)") }
        }
        return (names, port)
    }

    /// Why `name` cannot be a host name, or nil. Colons are allowed for IPv6 addresses.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "a host needs a name" }
        if name.contains("=") { return "it looks like a variable; variables follow the host name (`host key=value`)" }
        guard let bad = name.first(where: { !($0.isLetter || $0.isNumber || ".-_:%".contains($0)) }) else { return nil }
        if bad.isWhitespace { return "it contains a space" }
        return "`\(bad)` is not allowed in a host name"
    }

    /// Expands the first `[start:end(:step)]` range, then the rest of the name, recursively.
    static func expand(_ text: String) throws(Problem) -> [String] {
        guard let open = text.firstIndex(of: "[") else {
            if text.contains("]") { throw Problem(message: "`\(text)`: `]` without `[`") }
            return [text]
        }
        guard let close = text[open...].firstIndex(of: "]") else {
            throw Problem(message: "`\(text)`: host range is missing its closing `]`")
        }
        let head = text[..<open]
        let body = text[text.index(after: open)..<close]
        let rest = try expand(String(text[text.index(after: close)...]))
        let values = try rangeValues(String(body), in: text)
        guard values.count * rest.count <= 10_000 else { throw Problem(message: "`\(text)`: host range is too large") }
        return values.flatMap { value in rest.map { head + value + $0 } }
    }

    private static func rangeValues(_ body: String, in text: String) throws(Problem) -> [String] {
        let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "`\(text)`: a host range is written `[start:end]` or `[start:end:step]`"
        guard parts.count == 2 || parts.count == 3 else { throw Problem(message: usage) }
        let begin = parts[0].isEmpty ? "0" : parts[0]
        let end = parts[1]
        var step = 1
        if parts.count == 3 {
            guard let s = Int(parts[2]), s > 0 else { throw Problem(message: "`\(text)`: a range step must be a positive integer") }
            step = s
        }
        if let low = Int(begin), let high = Int(end), begin.allSatisfy(\.isASCII), end.allSatisfy(\.isASCII) {
            guard low <= high else { throw Problem(message: "`\(text)`: range start is after its end") }
            let width = begin.count > 1 && begin.hasPrefix("0") ? begin.count : 0
            if width > 0 && end.count != width {
                throw Problem(message: "`\(text)`: a zero-padded range needs start and end of the same length")
            }
            return stride(from: low, through: high, by: step).map { number in
                let digits = String(number)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
        }
        if begin.count == 1, end.count == 1, let low = begin.unicodeScalars.first, let high = end.unicodeScalars.first,
            low.properties.isAlphabetic, high.properties.isAlphabetic, low.isASCII, high.isASCII
        {
            guard low.value <= high.value else { throw Problem(message: "`\(text)`: range start is after its end") }
            return stride(from: low.value, through: high.value, by: step).compactMap { Unicode.Scalar($0).map { String($0) } }
        }
        throw Problem(message: usage)
    }

    /// The characters of `text` that are outside `[...]`, with their indices.
    private static func outsideBrackets(_ text: String) -> [(index: String.Index, character: Character)] {
        var depth = 0
        var result: [(String.Index, Character)] = []
        for index in text.indices {
            switch text[index] {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            default: if depth == 0 { result.append((index, text[index])) }
            }
        }
        return result
    }
}
