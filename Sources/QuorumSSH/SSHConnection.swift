import CLibSSH2
import Foundation

/// One SSH connection (one libssh2 session) to one host, owned by its own OS thread.
///
/// The actor runs on a `SessionThread` executor, so every libssh2 call for this session happens on that
/// thread and none blocks Swift's cooperative pool. Each method is one synchronous stretch of libssh2 work
/// (no suspension inside), so calls never interleave at the libssh2 level. Between calls the thread keeps
/// servicing keepalives and tunnels.
public actor SSHConnection {
    private let executor: SessionThread
    private let core: SessionCore
    public nonisolated let endpoint: SSHEndpoint

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(endpoint: SSHEndpoint, options: SSHOptions) {
        self.endpoint = endpoint
        executor = SessionThread(name: "ssh \(endpoint.hostPort)")
        core = SessionCore(endpoint: endpoint, options: options)
    }

    deinit {
        // The thread releases the session (on itself) when it stops.
        executor.stop()
    }

    /// Connects, checks the host key against known_hosts and authenticates with the first method that works.
    ///
    /// Throws `SSHError` with kind `connectFailed`/`connectTimeout` (TCP), `hostKeyUnknown`/`hostKeyChanged`,
    /// `authenticationFailed`, or `protocolError`.
    public static func connect(_ endpoint: SSHEndpoint, auth: [SSHAuthMethod], hostKeys: HostKeyPolicy,
                               options: SSHOptions = SSHOptions()) async throws -> SSHConnection {
        let connection = SSHConnection(endpoint: endpoint, options: options)
        do {
            try await connection.open(auth: auth, hostKeys: hostKeys)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func open(auth: [SSHAuthMethod], hostKeys: HostKeyPolicy) throws {
        executor.service = core
        try core.establish(auth: auth, hostKeys: hostKeys)
    }

    /// Runs `command` through the remote user's shell on a new channel, feeds it `stdin` and collects stdout and
    /// stderr (both drained concurrently, so neither stream can stall the other).
    ///
    /// - Parameter timeout: a deadline for the whole command; when it passes the channel is closed and
    ///   `commandTimeout` is thrown (the remote process may keep running until it notices).
    /// - Throws: `SSHError` (`commandTimeout`, `channelFailure`, `disconnected`, `protocolError`) or
    ///   `CancellationError`.
    public func run(_ command: String, stdin: [UInt8] = [], timeout: Duration? = nil) throws -> CommandOutput {
        try core.run(command, stdin: stdin, timeout: timeout)
    }

    /// Opens a local listener on 127.0.0.1 (ephemeral port) whose connections are forwarded to
    /// `toHost:port` as seen from the SSH server, over this same session.
    ///
    /// Throws `forwardingRefused` when sshd does not allow TCP forwarding (`AllowTcpForwarding`, `PermitOpen`).
    public func openTunnel(toHost host: String, port: Int) throws -> SSHTunnel {
        let id = try core.openTunnel(toHost: host, port: port)
        return SSHTunnel(connection: self, id: id.id, localPort: id.port)
    }

    func closeTunnel(_ id: Int) {
        core.closeTunnel(id)
    }

    /// Whether the session is still usable (false after `close()` or once the connection was lost).
    public var isConnected: Bool { core.failure == nil && !core.closed && core.session != nil }

    /// Disconnects politely and frees the session. Idempotent.
    public func close() {
        core.shutdown()
    }
}

/// A local port forward created by `SSHConnection.openTunnel`. Connect to `127.0.0.1:localPort`.
public final class SSHTunnel: Sendable {
    public let localPort: Int
    let id: Int
    let connection: SSHConnection

    init(connection: SSHConnection, id: Int, localPort: Int) {
        self.connection = connection
        self.id = id
        self.localPort = localPort
    }

    /// Stops listening and closes the forwarded connections.
    public func close() async {
        await connection.closeTunnel(id)
    }
}
