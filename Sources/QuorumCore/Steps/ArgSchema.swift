/// The arguments a step kind accepts: checked when playbooks load (before any host is contacted) and
/// read, typed, when the step runs. Values that hold a template (`{{ … }}`) are type-checked after rendering.
public struct ArgSchema: Sendable {
    public var fields: [ArgField]
    /// The field a plain string fills (`command: ls` means `command: {cmd: ls}`).
    public var freeForm: String?
    /// Groups of fields of which at most one may be given (`content` or `src`).
    public var mutuallyExclusive: [[String]]
    /// Groups of fields of which exactly one must be given.
    public var oneRequired: [[String]]

    public init(
        _ fields: [ArgField], freeForm: String? = nil, mutuallyExclusive: [[String]] = [],
        oneRequired: [[String]] = []
    ) {
        self.fields = fields
        self.freeForm = freeForm
        self.mutuallyExclusive = mutuallyExclusive
        self.oneRequired = oneRequired
    }

    public func field(_ name: String) -> ArgField? { fields.first { $0.name == name } }
}

/// One argument of a step kind.
public struct ArgField: Sendable {
    public var name: String
    public var type: ArgType
    public var required: Bool
    /// Never printed: masked in diffs, JSON and errors.
    public var secret: Bool
    /// The value the kind runs with when the argument is not given (filled in by the check; `quorum doc` prints it).
    public var defaultValue: Value?
    public var summary: String

    public init(
        _ name: String, _ type: ArgType, required: Bool = false, secret: Bool = false, default defaultValue: Value? = nil,
        _ summary: String = ""
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.secret = secret
        self.defaultValue = defaultValue
        self.summary = summary
    }
}

/// The shape an argument must have.
public indirect enum ArgType: Sendable {
    case string
    /// A path on the host starting with `/` (a relative one would depend on the login directory, and a
    /// leading `-` could be read as an option by the tools the scripts call).
    case absolutePath
    /// A string, number or boolean (not null, not a list or a map).
    case scalar
    case int
    /// An integer within bounds (a port, seconds).
    case intRange(ClosedRange<Int>)
    case number
    case bool
    /// A file mode: octal digits as text (`"0644"`) or written as a number (`0644`, `644`).
    case mode
    /// One of a fixed set of words.
    case choice([String])
    /// A list of items; a single item is accepted as a one-item list.
    case list(ArgType)
    /// A map from free keys to values of one type.
    case map(ArgType)
    /// A map with known keys.
    case object(ArgSchema)
    /// Anything.
    case any

    /// The schema of the maps this type holds (`object`, or a list of them), for `quorum doc`.
    public var innerSchema: ArgSchema? {
        switch self {
        case .object(let schema): return schema
        case .list(let item): return item.innerSchema
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .string: return "string"
        case .absolutePath: return "absolute path"
        case .scalar: return "string, number or boolean"
        case .int: return "integer"
        case .intRange(let range) where range.upperBound == Int.max: return "integer of at least \(range.lowerBound)"
        case .intRange(let range): return "integer from \(range.lowerBound) to \(range.upperBound)"
        case .number: return "number"
        case .bool: return "boolean"
        case .mode: return "file mode"
        case .choice(let words): return "one of " + words.map { "`\($0)`" }.joined(separator: ", ")
        case .list(let item): return "list of \(item.description)"
        case .map(let item): return "map of \(item.description)"
        case .object: return "map"
        case .any: return "value"
        }
    }
}
