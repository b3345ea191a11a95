import OrderedCollections

/// A variable's value as YAML gives it: the data model of inventories, playbooks and step arguments.
/// Maps keep their written order, so an `ini` step writes options in the order the playbook lists them.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case map(OrderedDictionary<String, Value>)

    public static func map(_ pairs: [(String, Value)]) -> Value {
        .map(OrderedDictionary(pairs, uniquingKeysWith: { _, last in last }))
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var mapValue: OrderedDictionary<String, Value>? {
        if case .map(let m) = self { return m }
        return nil
    }

    public var listValue: [Value]? {
        if case .list(let l) = self { return l }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as a scalar string for command lines and files (`true`, `42`, `0.5`); nil for lists and maps.
    public var scalarText: String? {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): return s
        case .list, .map: return nil
        }
    }

    /// Truthiness as in Jinja: empty strings, zero, empty collections, null and false are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s):
            switch s.lowercased() {
            case "", "false", "no", "off", "0": return false
            default: return true
            }
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        }
    }

    /// Looks up `key` in a map value.
    public subscript(key: String) -> Value? {
        if case .map(let m) = self { return m[key] }
        return nil
    }

    /// A name for the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .list: return "list"
        case .map: return "map"
        }
    }

    /// Merges `other` over `self`: maps merge key by key (recursively), anything else is replaced.
    public func merging(_ other: Value) -> Value {
        guard case .map(var mine) = self, case .map(let theirs) = other else { return other }
        for (key, value) in theirs {
            if let existing = mine[key] { mine[key] = existing.merging(value) } else { mine[key] = value }
        }
        return .map(mine)
    }
}

extension Value: CustomStringConvertible {
    /// JSON-like text, used when a list or map is rendered into a string.
    public var description: String {
        switch self {
        case .string(let s): return s
        case .list(let l): return "[" + l.map(\.quotedDescription).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.map { "\($0.key.quotedJSON): \($0.value.quotedDescription)" }.joined(separator: ", ") + "}"
        default: return scalarText ?? ""
        }
    }

    package var quotedDescription: String {
        switch self {
        case .string(let s): return s.quotedJSON
        case .null: return "null"
        default: return description
        }
    }
}

extension String {
    /// The string as a JSON string literal.
    package var quotedJSON: String {
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
