import QuorumCore

/// Opens the one session a run uses per host. The SSH implementation is `SSHConnector`; tests of the
/// engine's logic may provide another.
public protocol HostConnector: Sendable {
    /// Connects to `host` using its connection variables (`ansible_host`, `ansible_user`, …).
    /// Throws `RemoteError(.unreachable, …)` naming the host and the cause.
    func connect(host: String, variables: Variables) async throws -> any HostSession
}

/// An open session to one host.
public protocol HostSession: Sendable {
    /// A Remote running commands as the connecting user, or through sudo when `become` is set.
    func remote(become: BecomeSettings?) -> any Remote
    func close() async
}
