import OrderedCollections

/// A YAML node that remembers where it was written, so every later error can name file:line:col.
public struct SourceNode: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A scalar with the value YAML's core schema resolves it to (`yes` stays a string; `true` is a bool).
        case scalar(Value)
        case sequence([SourceNode])
        case mapping([Entry])
    }

    public struct Entry: Sendable, Hashable {
        public var key: SourceNode
        public var value: SourceNode
        /// The key as text (YAML keys here are always scalars).
        public var name: String { key.value.scalarText ?? "" }
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The plain data, locations dropped.
    public var value: Value {
        switch kind {
        case .scalar(let v): return v
        case .sequence(let items): return .list(items.map(\.value))
        case .mapping(let entries):
            var map = OrderedDictionary<String, Value>()
            for entry in entries { map[entry.name] = entry.value.value }
            return .map(map)
        }
    }

    public var entries: [Entry]? {
        if case .mapping(let e) = kind { return e }
        return nil
    }

    public var items: [SourceNode]? {
        if case .sequence(let i) = kind { return i }
        return nil
    }

    public var scalar: Value? {
        if case .scalar(let v) = kind { return v }
        return nil
    }

    /// The entry for `key` in a mapping.
    public subscript(key: String) -> SourceNode? {
        entries?.first { $0.name == key }?.value
    }

    /// A word for the node's shape, for error messages.
    public var shapeName: String {
        switch kind {
        case .scalar(let v): return v.typeName
        case .sequence: return "list"
        case .mapping: return "map"
        }
    }
}
