/// Sees every command a host's Remote runs, once it has ended, and what its connection says: how `-vv` shows
/// what was sent, the one trace of a run. Hooked into the SSH Remote, so every step kind is covered without
/// knowing of it.
public protocol CommandObserver: Sendable {
    func commandFinished(_ command: RemoteCommand)
    /// What the connection beneath the commands says (a tunnel opened, the session lost), not redacted.
    func connectionNote(host: String, _ message: String)
}

/// One remote command as the Remote ran it: the script (before the `sh -c`/sudo wrapping), how it ended and
/// how long it took. Not redacted: observers mask it before printing.
public struct RemoteCommand: Sendable, Equatable {
    public var host: String
    public var script: String
    /// The user sudo ran it as (`become`), nil for the connecting user.
    public var becomeUser: String?
    /// The exit status, nil when the command did not end on its own (`error` says why).
    public var status: Int32?
    public var error: String?
    /// Seconds.
    public var duration: Double

    public init(host: String, script: String, becomeUser: String? = nil, status: Int32?, error: String? = nil, duration: Double) {
        self.host = host
        self.script = script
        self.becomeUser = becomeUser
        self.status = status
        self.error = error
        self.duration = duration
    }
}
