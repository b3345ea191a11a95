/// The type YAML gives an untagged plain scalar by its text: the rules of Yams' `Resolver.default` in its order
/// (bool, int, float, then null; merge, timestamp and value are strings to Quorum), written out by hand.
/// `Resolver.default` compiles its rules as NSRegularExpressions, which starts ICU on every run (about 2 ms of
/// CPU and 2.5 MiB) for a few short patterns. PlainScalarTypeTests hold it to Yams' own answers.
enum PlainScalarType: Equatable {
    case null, bool, int, float, string

    /// The type an explicit tag names (`!!int` is `tag:yaml.org,2002:int`); any other tag is a string's.
    init(tag: String) {
        switch tag {
        case "tag:yaml.org,2002:null": self = .null
        case "tag:yaml.org,2002:bool": self = .bool
        case "tag:yaml.org,2002:int": self = .int
        case "tag:yaml.org,2002:float": self = .float
        default: self = .string
        }
    }

    static func of(_ text: String) -> PlainScalarType {
        let bytes = Array(text.utf8)
        let found = classify(bytes[...])
        if found != .string { return found }
        // The rules end in ICU's `$`, which also matches before one line terminator that ends the text.
        for terminator in lineTerminators where bytes.count >= terminator.count && bytes.suffix(terminator.count).elementsEqual(terminator) {
            return classify(bytes.dropLast(terminator.count))
        }
        return .string
    }

    /// `\r\n` first: it ends a text as one terminator.
    private static let lineTerminators: [[UInt8]] =
        ["\r\n", "\n", "\u{0B}", "\u{0C}", "\r", "\u{85}", "\u{2028}", "\u{2029}"].map { Array($0.utf8) }

    private static let booleans: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF"
    ]
    private static let nulls: Set<String> = ["~", "null", "Null", "NULL", ""]

    private static func classify(_ bytes: ArraySlice<UInt8>) -> PlainScalarType {
        let text = String(decoding: bytes, as: UTF8.self)
        if booleans.contains(text) { return .bool }
        if isInt(bytes) { return .int }
        if isFloat(bytes) { return .float }
        if nulls.contains(text) { return .null }
        return .string
    }

    // MARK: The patterns

    /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
    /// [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
    private static func isInt(_ bytes: ArraySlice<UInt8>) -> Bool {
        let unsigned = droppingSign(bytes)
        if let rest = unsigned.dropping("0b"), !rest.isEmpty, rest.allSatisfy({ "01_".utf8.contains($0) }) { return true }
        if let rest = unsigned.dropping("0o") ?? unsigned.dropping("0"), !rest.isEmpty,
            rest.allSatisfy({ "01234567_".utf8.contains($0) })
        {
            return true
        }
        if let rest = unsigned.dropping("0x"), !rest.isEmpty, rest.allSatisfy({ isHexDigit($0) || $0 == underscore }) { return true }
        guard let first = unsigned.first, isDigit(first) else { return false }
        if first == zero { return unsigned.count == 1 }
        // [1-9], then [0-9_]* up to the first `:`, then the sexagesimal groups (none: a plain decimal).
        let colon = unsigned.firstIndex(of: colonByte) ?? unsigned.endIndex
        guard unsigned[unsigned.index(after: unsigned.startIndex)..<colon].allSatisfy(isDigitOrUnderscore) else { return false }
        return colon == unsigned.endIndex || isSexagesimal(unsigned[colon...])
    }

    /// `[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)? |
    /// [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
    private static func isFloat(_ bytes: ArraySlice<UInt8>) -> Bool {
        let unsigned = droppingSign(bytes)
        if [".inf", ".Inf", ".INF"].contains(where: { unsigned.elementsEqual($0.utf8) }) { return true }
        if [".nan", ".NaN", ".NAN"].contains(where: { bytes.elementsEqual($0.utf8) }) { return true }
        if let rest = bytes.dropping(".") {
            // No sign, at least one digit after the point, and an exponent's sign is required.
            let digits = rest.prefix(while: isDigitOrUnderscore)
            if !digits.isEmpty {
                let exponent = rest.dropFirst(digits.count)
                if exponent.isEmpty || isExponent(exponent, signRequired: true) { return true }
            }
        }
        guard let first = unsigned.first, isDigit(first) else { return false }
        let integer = unsigned.prefix(while: isDigitOrUnderscore)
        var rest = unsigned.dropFirst(integer.count)
        if let colonPart = rest.first, colonPart == colonByte {
            // `(?::[0-5]?[0-9])+\.[0-9_]*`: the groups hold no `.`, so they end at the first one.
            guard let point = rest.firstIndex(of: pointByte) else { return false }
            return isSexagesimal(rest[..<point]) && rest[rest.index(after: point)...].allSatisfy(isDigitOrUnderscore)
        }
        if let fraction = rest.dropping(".") { rest = fraction.drop(while: isDigitOrUnderscore) }
        return rest.isEmpty || isExponent(rest, signRequired: false)
    }

    /// `(?::[0-5]?[0-9])+`, the whole of `bytes`. Each group starts at a `:` and holds none, so splitting at
    /// the colons finds the only way to match.
    private static func isSexagesimal(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.first == colonByte else { return false }
        return bytes.dropFirst().split(separator: colonByte, omittingEmptySubsequences: false).allSatisfy { group in
            switch group.count {
            case 1: isDigit(group.first!)
            case 2: group.first! >= zero && group.first! <= UInt8(ascii: "5") && isDigit(group.last!)
            default: false
            }
        }
    }

    /// `[eE][-+]?[0-9]+` (or `[eE][-+][0-9]+`), the whole of `bytes`.
    private static func isExponent(_ bytes: ArraySlice<UInt8>, signRequired: Bool) -> Bool {
        guard let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") else { return false }
        let afterE = bytes.dropFirst()
        let digits = droppingSign(afterE)
        if signRequired, digits.count == afterE.count { return false }
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    private static func droppingSign(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes
    }

    private static let zero = UInt8(ascii: "0")
    private static let underscore = UInt8(ascii: "_")
    private static let colonByte = UInt8(ascii: ":")
    private static let pointByte = UInt8(ascii: ".")
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= UInt8(ascii: "9") }
    private static func isDigitOrUnderscore(_ byte: UInt8) -> Bool { isDigit(byte) || byte == underscore }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }
}

extension ArraySlice<UInt8> {
    /// The rest after `prefix`, or nil when the bytes do not start with it.
    fileprivate func dropping(_ prefix: String) -> ArraySlice<UInt8>? {
        starts(with: prefix.utf8) ? dropFirst(prefix.utf8.count) : nil
    }
}
