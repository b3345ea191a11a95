import OrderedCollections

/// A step's arguments after templating, with typed accessors. Arguments from the schema's check
/// (`ArgSchema.arguments(rendered:…)`) are in normal form, defaults filled in: reading them cannot fail on a type.
public struct Arguments: Sendable {
    public var values: OrderedDictionary<String, Value>
    /// Where the step is written, for error messages.
    public var location: SourceLocation?
    /// Arguments the schema's defaults filled in: not given (see `has`).
    public var filled: Set<String>

    public init(_ values: OrderedDictionary<String, Value>, location: SourceLocation? = nil, filled: Set<String> = []) {
        self.values = values
        self.location = location
        self.filled = filled
    }

    public subscript(name: String) -> Value? {
        guard let v = values[name], !v.isNull else { return nil }
        return v
    }

    /// True when the step gives the argument (a default does not count).
    public func has(_ name: String) -> Bool { self[name] != nil && !filled.contains(name) }

    public func string(_ name: String) throws -> String? {
        try scalar(name, .string)?.stringValue
    }

    public func requiredString(_ name: String) throws -> String {
        guard let s = try string(name), !s.isEmpty else { throw StepFailure("argument `\(name)` is required") }
        return s
    }

    /// An argument the step gives or the schema has a default for.
    public func value<T>(_ read: (String) throws -> T?, _ name: String) throws -> T {
        guard let value = try read(name) else { throw StepFailure("argument `\(name)` is required") }
        return value
    }

    public func bool(_ name: String) throws -> Bool? {
        guard case .bool(let b)? = try scalar(name, .bool) else { return nil }
        return b
    }

    public func int(_ name: String) throws -> Int? {
        guard case .int(let i)? = try scalar(name, .int) else { return nil }
        return i
    }

    public func number(_ name: String) throws -> Double? {
        guard case .double(let d)? = try scalar(name, .number) else { return nil }
        return d
    }

    /// A file mode written as octal digits (`"0644"`, `0644`, `644`, `"2750"`).
    public func mode(_ name: String) throws -> Int? {
        try scalar(name, .mode).flatMap(ArgType.fileMode)
    }

    /// The argument in its type's normal form (see `ArgType.normalizedScalar`): arguments the schema check
    /// returned are in it already, so this fails only for arguments built by hand.
    func scalar(_ name: String, _ type: ArgType) throws -> Value? {
        guard let v = self[name] else { return nil }
        guard let normal = type.normalizedScalar(v) else {
            switch type {
            case .choice(let allowed):
                throw StepFailure("argument `\(name)` must be one of \(allowed.joined(separator: ", ")), got `\(v)`")
            case .mode:
                throw StepFailure("argument `\(name)` must be a file mode in octal digits such as \"0644\", got `\(v)`")
            default:
                throw StepFailure("argument `\(name)` must be a \(type.description), got a \(v.typeName)")
            }
        }
        return normal
    }

    /// A list of strings; a single string is a one-item list.
    public func stringList(_ name: String) throws -> [String]? {
        try list(name, of: .string)?.compactMap(\.stringValue)
    }

    /// A list of integers; a single integer is a one-item list.
    public func intList(_ name: String) throws -> [Int]? {
        try list(name, of: .int)?.compactMap { item in
            guard case .int(let i) = item else { return nil }
            return i
        }
    }

    /// The items of a list argument in their type's normal form.
    func list(_ name: String, of type: ArgType) throws -> [Value]? {
        guard let v = self[name] else { return nil }
        let items = (v.listValue ?? [v]).map(type.normalizedScalar)
        guard v.mapValue == nil, !items.contains(nil) else {
            throw StepFailure("argument `\(name)` must be a list of \(type.description), got a \(v.typeName)")
        }
        return items.compactMap { $0 }
    }

    public func map(_ name: String) throws -> OrderedDictionary<String, Value>? {
        guard let v = self[name] else { return nil }
        guard let m = v.mapValue else { throw StepFailure("argument `\(name)` must be a map, got a \(v.typeName)") }
        return m
    }

    public func choice(_ name: String, _ allowed: [String]) throws -> String? {
        try scalar(name, .choice(allowed))?.stringValue
    }
}
