import OrderedCollections

/// A kind of step (`template`, `ini`, `mysql_user`…): parses its arguments, probes the host, and changes
/// it only when the probe shows a difference. Each kind lives in its own small file in QuorumSteps.
public protocol StepKind: Sendable {
    /// The YAML key that selects this kind.
    static var name: String { get }
    /// One line for `quorum doc`.
    static var summary: String { get }
    static var schema: ArgSchema { get }
    /// The family whose play-level `defaults:` apply (`mysql`, `keystone`), nil for none.
    static var defaultsFamily: String? { get }
    /// Steps on a shared service (the database, Keystone, Pacemaker) run once per play by default.
    static var runsOncePerPlay: Bool { get }
    /// A read-only check of a running service (`http_check`): it runs alike in apply and check mode, never
    /// changes anything, and its failures marked `health` are reported apart from drift and probe failures.
    /// Check mode and audits run it once (the state now); in apply, `retries` without `until` retry it until
    /// it passes (a restarted service may need a few seconds).
    static var isHealthCheck: Bool { get }
    /// True when the step, with these arguments as written (unrendered, the play's `defaults:` merged in), reaches
    /// other hosts of the play through `StepContext.peer`: the engine then runs it as a barrier, every host of
    /// the batch at this step together, never one host ahead of the others (it may wait on their state).
    static func usesPeers(_ arguments: Value) -> Bool

    /// Builds the step from arguments rendered for one host and checked by `schema` (in normal form, see
    /// `ArgSchema.arguments(rendered:kind:fromDefaults:location:)`): reading them cannot fail on a type.
    /// Throws `StepFailure` when they are wrong in a way the schema cannot express.
    init(checked arguments: Arguments) throws

    /// Probes, then (unless `context.check`) changes the host. In check mode `context.remote` is read-only
    /// (the context makes it so), and the outcome predicts exactly what apply would do.
    func run(_ context: StepContext) async throws -> StepOutcome

    /// Preflight: read-only checks of what this step will need (an anchor rule, a Pacemaker resource, a
    /// database login…), run before the run writes anything, with a check-mode context (`check` true, so a
    /// read-only Remote; the preflight's own `planned` objects and `cache`). Throws `StepFailure` naming the
    /// missing need. A step that creates something a later step needs records it in `context.planned`,
    /// so that the later step's preflight finds it. The default checks nothing.
    func preflight(_ context: StepContext) async throws

    /// The preflights that must see this one's `planned` objects, and it theirs: the steps of one lane are
    /// checked in playbook order, the lanes at once. Kinds that plan or look up each other's objects share a
    /// lane. The default is the kind's `defaultsFamily` (the Keystone kinds, the MySQL kinds), else its name.
    static var preflightLane: String { get }

    /// What `run` reads of the host first, whatever it finds there (`readFile`, `stat`), for the engine to read
    /// ahead with the next steps' reads in one round trip. Only reads the step makes every time belong here; a
    /// step that waits for the host to change by itself (`wait_for`) declares none. The default is none.
    var plannedReads: [RemoteRead] { get }
}

extension StepKind {
    public static var defaultsFamily: String? { nil }
    public static var runsOncePerPlay: Bool { false }
    public static var isHealthCheck: Bool { false }
    public static func usesPeers(_ arguments: Value) -> Bool { false }

    public func preflight(_ context: StepContext) async throws {}

    public static var preflightLane: String { defaultsFamily ?? name }

    public var plannedReads: [RemoteRead] { [] }

    /// Builds the step from arguments not checked yet (built by hand): the schema's check, then `init(checked:)`.
    public init(arguments: Arguments) throws {
        try self.init(
            checked: Self.schema.arguments(
                rendered: .map(arguments.values), kind: Self.name,
                location: arguments.location))
    }
}

/// Everything a step may use while it runs on one host.
public struct StepContext: Sendable {
    /// The host; read-only in check mode (see `check`).
    public private(set) var remote: any Remote
    /// The host's inventory name.
    public var host: String
    /// Check mode: the same probes, nothing written. The one switch for it: the context makes `remote` and
    /// every `peer` read-only by itself, so a dry run cannot write whatever Remote it was given.
    public let check: Bool
    /// True when `--diff` asked for diffs (steps may always fill them; the reporter decides).
    public var wantsDiff: Bool
    /// The host's variables, for steps that render files.
    public var variables: Variables
    public var templates: TemplateRenderer
    /// Finds `src` files next to the playbook (`files/`).
    public var files: FileResolver
    /// The step's location in its playbook.
    public var location: SourceLocation?
    /// What earlier steps of this run would create in check mode (for steps that depend on them).
    public var planned: PlannedObjects
    /// Per-run shared resources (a Keystone token, a database connection), created once.
    public var cache: RunCache
    /// The hosts of the current play (batch included), in inventory order.
    public var playHosts: [String]
    /// The Remote of another host of the play (read-only in check mode too), for steps that coordinate
    /// controllers, e.g. waiting until a process is gone on every one of them.
    public private(set) var peer: @Sendable (String) async throws -> any Remote

    public init(
        remote: any Remote, host: String, check: Bool, wantsDiff: Bool, variables: Variables,
        templates: TemplateRenderer, files: FileResolver, location: SourceLocation?,
        planned: PlannedObjects = PlannedObjects(), cache: RunCache = RunCache(), playHosts: [String] = [],
        peer: @escaping @Sendable (String) async throws -> any Remote = { host in
            throw StepFailure("no connection to \(host) in this context")
        }
    ) {
        self.remote = Self.view(remote, check: check)
        self.host = host
        self.check = check
        self.wantsDiff = wantsDiff
        self.variables = variables
        self.templates = templates
        self.files = files
        self.location = location
        self.planned = planned
        self.cache = cache
        self.playHosts = playHosts
        self.peer = { host in Self.view(try await peer(host), check: check) }
    }

    /// This context for another host of the play, whose Remote is `remote` (one `peer` gave), in the same mode.
    public func on(_ host: String, remote: any Remote) -> StepContext {
        var context = self
        context.host = host
        context.remote = Self.view(remote, check: check)
        return context
    }

    /// `remote` as the mode allows it: wrapped read-only in check mode (once).
    static func view(_ remote: any Remote, check: Bool) -> any Remote {
        guard check, !(remote is ReadOnlyRemote) else { return remote }
        return ReadOnlyRemote(remote)
    }
}

/// What a step found and did on one host.
public struct StepOutcome: Sendable {
    public var changed: Bool
    /// Set when the step decided not to act (e.g. a command in check mode); the reason is shown.
    public var skippedReason: String?
    public var diffs: [Diff]
    /// A short human note, e.g. "3 options set".
    public var message: String?
    /// What `register:` stores (beside `changed`, `failed`, `skipped`), e.g. `rc`, `stdout`, `stderr`.
    public var result: OrderedDictionary<String, Value>
    /// What the step noticed beyond its own job (e.g. removed options in a file it edits), from the host's
    /// current state, in apply and check mode alike.
    public var findings: [Finding]
    /// Set in check mode when the step cannot know its outcome without acting (a command is not run): an
    /// audit lists the step as not audited, with this reason, rather than as drift.
    public var unchecked: String?

    public init(
        changed: Bool, diffs: [Diff] = [], message: String? = nil,
        result: OrderedDictionary<String, Value> = [:], skippedReason: String? = nil,
        findings: [Finding] = [], unchecked: String? = nil
    ) {
        self.changed = changed
        self.diffs = diffs
        self.message = message
        self.result = result
        self.skippedReason = skippedReason
        self.findings = findings
        self.unchecked = unchecked
    }

    public static let unchanged = StepOutcome(changed: false)

    public static func skipped(_ reason: String) -> StepOutcome {
        StepOutcome(changed: false, skippedReason: reason)
    }
}

/// One difference a step found: a whole file, or one field (an INI option, a grant, a URL).
public struct Diff: Sendable, Equatable, Codable {
    /// What differs: a path, or `[section] option`, or `endpoint public url`.
    public var subject: String
    /// nil when the thing does not exist yet (before) or will not exist (after).
    public var before: String?
    public var after: String?
    /// A secret field: the reporter prints `********` and says only whether it differs.
    public var secret: Bool
    /// True for whole files: shown as a unified diff; false for fields: shown as `before → after`.
    public var isFile: Bool

    public init(subject: String, before: String?, after: String?, secret: Bool = false, isFile: Bool = false) {
        self.subject = subject
        self.before = before
        self.after = after
        self.secret = secret
        self.isFile = isFile
    }

    public static func file(_ path: String, before: String?, after: String?, secret: Bool = false) -> Diff {
        Diff(subject: path, before: before, after: after, secret: secret, isFile: true)
    }
}

/// A step that failed for a reason it can explain; the engine adds the host and the step's name.
public struct StepFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Output that explains the failure (a validator's stderr, a server's error).
    public var detail: String?
    /// What the step observed before failing (e.g. a command's `rc`, `stdout`, `stderr`), so that
    /// `register`, `failed_when` and `until` can look at it.
    public var result: OrderedDictionary<String, Value>
    /// The service a health check looked at does not work as declared (no answer, a wrong status, a member
    /// down), as opposed to the check itself going wrong (bad arguments, no credentials): check mode and
    /// audits report it as health (exit 5), apply as a failed step (exit 2).
    public var health: Bool

    public init(_ message: String, detail: String? = nil, result: OrderedDictionary<String, Value> = [:], health: Bool = false) {
        self.message = message
        self.detail = detail
        self.result = result
        self.health = health
    }

    /// A failure of the service a health check looked at (see `health`).
    public static func unhealthy(_ message: String, detail: String? = nil, result: OrderedDictionary<String, Value> = [:]) -> StepFailure {
        StepFailure(message, detail: detail, result: result, health: true)
    }

    public var description: String {
        guard let detail, !detail.isEmpty else { return message }
        return "\(message): \(detail)"
    }
}

/// Finds the local files a playbook refers to (`src:` of `copy` and `template`).
public struct FileResolver: Sendable {
    /// Directories searched in order, e.g. `<playbook dir>/files`, `<playbook dir>/../files`.
    public var searchPath: [String]

    public init(searchPath: [String]) { self.searchPath = searchPath }

    /// The first existing file named `name` along the search path (an absolute name is used as is).
    public func resolve(_ name: String) throws -> String {
        if name.hasPrefix("/") {
            if FileSystem.exists(name) { return name }
        } else {
            for dir in searchPath {
                let candidate = dir + "/" + name
                if FileSystem.exists(candidate) { return candidate }
            }
        }
        throw StepFailure("cannot find file `\(name)` (looked in \(searchPath.joined(separator: ", ")))")
    }

    public func read(_ name: String) throws -> [UInt8] {
        let path = try resolve(name)
        guard let bytes = FileSystem.read(path) else { throw StepFailure("cannot read \(path)") }
        return bytes
    }
}
