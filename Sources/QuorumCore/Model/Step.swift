/// One step of a play (or a handler): a kind with its arguments, and the common keywords.
public struct Step: Sendable, Hashable {
    /// The name as written (may hold a template); nil when the step has none.
    public var name: String?
    public var kind: String
    /// The arguments as written, unrendered; `.null` when the kind takes none.
    public var arguments: Value
    /// The same arguments with their locations, for diagnostics that point at one argument.
    public var argumentsNode: SourceNode?
    public var when: [Located<String>]
    public var loop: Located<Value>?
    public var register: String?
    public var notify: [String]
    public var runOnce: Bool?
    public var changedWhen: [Located<String>]?
    public var failedWhen: [Located<String>]?
    public var until: [Located<String>]?
    public var retries: Int?
    public var delay: Double?
    public var tags: [String]
    public var noLog: Bool
    public var ignoreErrors: Bool
    public var become: Become?
    /// Handlers may also be notified through this topic.
    public var listen: [String]
    public var location: SourceLocation

    public init(name: String?, kind: String, arguments: Value, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.arguments = arguments
        self.argumentsNode = nil
        self.when = []
        self.loop = nil
        self.register = nil
        self.notify = []
        self.runOnce = nil
        self.changedWhen = nil
        self.failedWhen = nil
        self.until = nil
        self.retries = nil
        self.delay = nil
        self.tags = []
        self.noLog = false
        self.ignoreErrors = false
        self.become = nil
        self.listen = []
        self.location = location
    }

    /// The name shown in reports.
    public var displayName: String { name ?? kind }
}
