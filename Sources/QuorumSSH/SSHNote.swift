/// What a session says beside its results: why it became unusable, a tunnel opened, a host key recorded. Given
/// to `SSHOptions.notes` (nil: nobody listens); Quorum shows them with its command trace (`-vv`), and the
/// recorded host key in every run.
public struct SSHNote: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// How the session went: for tracing only.
        case detail
        /// A new host key was written to known_hosts (`--accept-new-host-keys`): the operator must hear of it.
        case hostKeyRecorded
    }

    public var kind: Kind
    /// The session's `host:port` (and the jump host it went through).
    public var session: String
    public var message: String

    public init(kind: Kind, session: String, message: String) {
        self.kind = kind
        self.session = session
        self.message = message
    }
}
