import Foundation

/// How a scalar argument is read: the one grammar of every scalar type, used by the schema check (at load
/// time and after rendering) and by `Arguments`' typed accessors.
extension ArgType {
    /// The value in this type's normal form (`"yes"` as `true`, `"8080"` as `8080`, `644` as the mode `"0644"`),
    /// nil when it is not of the type. Lists, maps and `any` are not scalar types: nil.
    public func normalizedScalar(_ value: Value) -> Value? {
        switch self {
        case .string:
            guard !value.isNull, let text = value.scalarText else { return nil }
            return .string(text)
        case .absolutePath:
            guard case .string(let path)? = ArgType.string.normalizedScalar(value), path.hasPrefix("/") else { return nil }
            return .string(path)
        case .scalar:
            return value.isNull || value.scalarText == nil ? nil : value
        case .int:
            switch value {
            case .int: return value
            case .double(let d) where d == d.rounded() && abs(d) < 1e15: return .int(Int(d))
            case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces)).map(Value.int)
            default: return nil
            }
        case .intRange(let range):
            guard case .int(let i)? = ArgType.int.normalizedScalar(value), range.contains(i) else { return nil }
            return .int(i)
        case .number:
            switch value {
            case .int(let i): return .double(Double(i))
            case .double: return value
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(Value.double)
            default: return nil
            }
        case .bool:
            return value.booleanValue.map(Value.bool)
        case .mode:
            return ArgType.fileMode(value).map { .string(ArgType.octal($0)) }
        case .choice(let words):
            guard !value.isNull, let text = value.scalarText, words.contains(text) else { return nil }
            return .string(text)
        case .list, .map, .object, .any:
            return nil
        }
    }

    /// A file mode written as octal digits (`"0644"`, `0644`, `644`, `"2750"`, `"0o755"`).
    public static func fileMode(_ value: Value) -> Int? {
        guard !value.isNull, let text = value.scalarText?.trimmingCharacters(in: .whitespaces) else { return nil }
        let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
        guard (1...5).contains(digits.count), digits.allSatisfy({ ("0"..."7").contains($0) }),
            let mode = Int(digits, radix: 8), mode <= 0o7777
        else { return nil }
        return mode
    }

    /// `0o750` as `0750`: the normal form of a mode, read back as the same mode.
    public static func octal(_ mode: Int) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// True for the types `normalizedScalar` reads.
    var isScalar: Bool {
        switch self {
        case .list, .map, .object, .any: return false
        default: return true
        }
    }
}
