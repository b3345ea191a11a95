/// A play's own read-only check, run before the run writes anything (`preflight:` at play level):
/// `{name: …, command: …, when: …}`. The command runs on every host of the play through the read-only
/// Remote's `probe`; a non-zero exit fails the preflight on that host (the run then writes nothing).
/// The command must only read: it runs in check mode and audits too.
public struct PreflightCheck: Sendable, Hashable {
    public var name: String?
    /// A shell script, rendered with the host's variables.
    public var command: String
    /// Conditions like a step's `when`; a false one skips the check on that host.
    public var when: [Located<String>]
    public var location: SourceLocation

    public init(name: String?, command: String, when: [Located<String>] = [], location: SourceLocation) {
        self.name = name
        self.command = command
        self.when = when
        self.location = location
    }

    /// The name shown in reports.
    public var displayName: String { name ?? command }
}
