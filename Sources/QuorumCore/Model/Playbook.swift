import OrderedCollections

/// A playbook file: plays applied in order.
public struct Playbook: Sendable {
    public let path: String
    public var plays: [Play]
    /// Where `src:` files are looked up: `files/` beside the playbook, then `files/` one level up
    /// (the project layout: `playbooks/` and `files/` side by side), then the playbook's own folder.
    /// Made once: making it looks at the file system, and every host's step asks for it.
    public let fileResolver: FileResolver

    public init(path: String, plays: [Play]) {
        self.path = path
        self.plays = plays
        let dir = FileSystem.directory(of: path)
        fileResolver = FileResolver(searchPath: [dir + "/files", FileSystem.resolve("../files", relativeTo: dir), dir])
    }

    /// Every variable name the playbook's plays declare secret.
    public var secretNames: Set<String> { Set(plays.flatMap { $0.secrets.map(\.value) }) }
}

/// A play: a host pattern, variables, steps and handlers.
public struct Play: Sendable {
    public var name: String
    public var hosts: String
    public var vars: [NamedValue]
    public var varsFiles: [VarsFile]
    /// Shared step arguments per step family (`defaults: {mysql: {login: …}}`), like Ansible's `module_defaults`.
    public var defaults: OrderedDictionary<String, Value>
    /// Batch sizes: `serial: 1`, `serial: "30%"`, or a list such as `[1, 2]` (the last repeats).
    public var serial: [BatchSize]
    public var become: Become?
    public var steps: [Step]
    public var handlers: [Step]
    public var tags: [String]
    /// Variables whose values are secrets although their names do not say so (`secrets: [rabbit_user]`).
    /// Names are run-wide: a name listed in any play is masked in every play of the run.
    public var secrets: [Located<String>]
    /// Read-only checks of what the run needs, run before anything is written (`preflight:`).
    public var preflight: [PreflightCheck]
    public var location: SourceLocation

    public init(
        name: String, hosts: String, vars: [NamedValue] = [], varsFiles: [VarsFile] = [],
        defaults: OrderedDictionary<String, Value> = [:], serial: [BatchSize] = [], become: Become? = nil,
        steps: [Step] = [], handlers: [Step] = [], tags: [String] = [], secrets: [Located<String>] = [],
        preflight: [PreflightCheck] = [], location: SourceLocation
    ) {
        self.name = name
        self.hosts = hosts
        self.vars = vars
        self.varsFiles = varsFiles
        self.defaults = defaults
        self.serial = serial
        self.become = become
        self.steps = steps
        self.handlers = handlers
        self.tags = tags
        self.secrets = secrets
        self.preflight = preflight
        self.location = location
    }
}

/// `become:` settings of a play or a step.
public struct Become: Sendable, Hashable {
    public var enabled: Bool
    public var user: String?

    public init(enabled: Bool, user: String? = nil) {
        self.enabled = enabled
        self.user = user
    }
}

/// A batch size for `serial`.
public enum BatchSize: Sendable, Hashable {
    case count(Int)
    case percent(Int)

    /// The number of hosts in a batch out of `total`, at least one.
    public func size(of total: Int) -> Int {
        switch self {
        case .count(let n): return max(1, n)
        case .percent(let p): return max(1, total * p / 100)
        }
    }
}

/// A variable as written, with its location.
public struct NamedValue: Sendable, Hashable {
    public var name: String
    public var value: Value
    public var location: SourceLocation

    public init(name: String, value: Value, location: SourceLocation) {
        self.name = name
        self.value = value
        self.location = location
    }
}

/// Any value together with where it was written.
public struct Located<T: Sendable & Hashable>: Sendable, Hashable {
    public var value: T
    public var location: SourceLocation

    public init(_ value: T, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}
