import OrderedCollections

/// A step's arguments after templating, with typed accessors that explain what is wrong.
public struct Arguments: Sendable {
    public var values: OrderedDictionary<String, Value>
    /// Where the step is written, for error messages.
    public var location: SourceLocation?

    public init(_ values: OrderedDictionary<String, Value>, location: SourceLocation? = nil) {
        self.values = values
        self.location = location
    }

    public subscript(name: String) -> Value? {
        guard let v = values[name], !v.isNull else { return nil }
        return v
    }

    public func has(_ name: String) -> Bool { self[name] != nil }

    public func string(_ name: String) throws -> String? {
        guard let v = self[name] else { return nil }
        guard let text = v.scalarText, !(v.listValue != nil || v.mapValue != nil) else {
            throw StepFailure("argument `\(name)` must be a string, got a \(v.typeName)")
        }
        return text
    }

    public func requiredString(_ name: String) throws -> String {
        guard let s = try string(name), !s.isEmpty else { throw StepFailure("argument `\(name)` is required") }
        return s
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let v = self[name] else { return nil }
        switch v {
        case .bool(let b): return b
        case .string(let s):
            switch s.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: break
            }
        case .int(let i) where i == 0 || i == 1: return i == 1
        default: break
        }
        throw StepFailure("argument `\(name)` must be true or false, got `\(v)`")
    }

    public func int(_ name: String) throws -> Int? {
        guard let v = self[name] else { return nil }
        switch v {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int(d)
        case .string(let s): if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw StepFailure("argument `\(name)` must be an integer, got `\(v)`")
    }

    public func number(_ name: String) throws -> Double? {
        guard let v = self[name] else { return nil }
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): if let d = Double(s.trimmingCharacters(in: .whitespaces)) { return d }
        default: break
        }
        throw StepFailure("argument `\(name)` must be a number, got `\(v)`")
    }

    /// A file mode written as octal digits (`"0644"`, `0644`, `644`, `"2750"`).
    public func mode(_ name: String) throws -> Int? {
        guard let v = self[name] else { return nil }
        guard let mode = Arguments.parseMode(v) else {
            throw StepFailure("argument `\(name)` must be a file mode in octal digits such as \"0644\", got `\(v)`")
        }
        return mode
    }

    static func parseMode(_ value: Value) -> Int? {
        guard let text = value.scalarText?.trimmingCharacters(in: .whitespaces) else { return nil }
        let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
        guard (1...5).contains(digits.count), digits.allSatisfy({ ("0"..."7").contains($0) }),
              let mode = Int(digits, radix: 8), mode <= 0o7777 else { return nil }
        return mode
    }

    /// A list of strings; a single string is a one-item list.
    public func stringList(_ name: String) throws -> [String]? {
        guard let v = self[name] else { return nil }
        if let items = v.listValue {
            return try items.map { item in
                guard let text = item.scalarText, item.listValue == nil, item.mapValue == nil else {
                    throw StepFailure("argument `\(name)` must be a list of strings")
                }
                return text
            }
        }
        if let text = v.scalarText { return [text] }
        throw StepFailure("argument `\(name)` must be a list of strings, got a \(v.typeName)")
    }

    public func map(_ name: String) throws -> OrderedDictionary<String, Value>? {
        guard let v = self[name] else { return nil }
        guard let m = v.mapValue else { throw StepFailure("argument `\(name)` must be a map, got a \(v.typeName)") }
        return m
    }

    public func choice(_ name: String, _ allowed: [String]) throws -> String? {
        guard let s = try string(name) else { return nil }
        guard allowed.contains(s) else {
            throw StepFailure("argument `\(name)` must be one of \(allowed.joined(separator: ", ")), got `\(s)`")
        }
        return s
    }
}
