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
    /// The jump hosts' connections this one runs through (first hop first); closed after this one.
    private var jumps: [SSHConnection] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(endpoint: SSHEndpoint, options: SSHOptions, via: String? = nil) {
        self.endpoint = endpoint
        executor = SessionThread(name: "ssh \(endpoint.hostPort)")
        core = SessionCore(endpoint: endpoint, options: options, via: via)
    }

    deinit {
        // The thread releases the session (on itself) when it stops.
        executor.stop()
    }

    /// Connects, checks the host key against known_hosts and authenticates with the first method that works.
    ///
    /// Throws `SSHError` with kind `connectFailed`/`connectTimeout` (TCP), `hostKeyUnknown`/`hostKeyChanged`,
    /// `authenticationFailed`, or `protocolError`.
    public static func connect(
        _ endpoint: SSHEndpoint, auth: [SSHAuthMethod], hostKeys: HostKeyPolicy,
        options: SSHOptions = SSHOptions()
    ) async throws -> SSHConnection {
        let connection = SSHConnection(endpoint: endpoint, options: options)
        do {
            try await connection.open(auth: auth, hostKeys: hostKeys)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Connects along `route`: the first jump host directly, each next hop through a `direct-tcpip` channel of
    /// the previous one, the target last. Every hop's host key is checked and every hop authenticates.
    ///
    /// Errors name the hop: a jump host that cannot be reached (or whose key is unknown or changed) is
    /// `jump host NAME: …`; a hop its jump host cannot reach is `NAME is unreachable behind jump host PREV: …`.
    public static func connect(_ route: SSHRoute, options: SSHOptions = SSHOptions()) async throws -> SSHConnection {
        guard !route.jumps.isEmpty else {
            return try await connect(route.target.endpoint, auth: route.target.auth, hostKeys: route.target.hostKeys, options: options)
        }
        var chain: [SSHConnection] = []
        do {
            for (index, hop) in (route.jumps + [route.target]).enumerated() {
                let isTarget = index == route.jumps.count
                guard let previous = chain.last else {
                    do {
                        chain.append(try await connect(hop.endpoint, auth: hop.auth, hostKeys: hop.hostKeys, options: options))
                    } catch let error as SSHError {
                        throw SSHError(error.kind, "jump host \(hop.name): \(error.message)", libraryCode: error.libraryCode)
                    }
                    continue
                }
                let previousName = route.jumps[index - 1].name
                let stream: Int32
                do {
                    stream = try await previous.openStream(
                        toHost: hop.endpoint.host, port: hop.endpoint.port,
                        within: options.connectTimeout)
                } catch let error as SSHError {
                    throw SSHError(
                        error.kind == .forwardingRefused ? .forwardingRefused : .connectFailed,
                        "\(hop.name) is unreachable behind jump host \(previousName): \(error.message)",
                        libraryCode: error.libraryCode)
                }
                let connection = SSHConnection(endpoint: hop.endpoint, options: options, via: previousName)
                do {
                    try await connection.open(auth: hop.auth, hostKeys: hop.hostKeys, stream: stream)
                } catch let error as SSHError {
                    await connection.close()
                    throw isTarget ? error : SSHError(error.kind, "jump host \(hop.name): \(error.message)", libraryCode: error.libraryCode)
                } catch {
                    await connection.close()
                    throw error
                }
                chain.append(connection)
            }
        } catch {
            for connection in chain.reversed() { await connection.close() }
            throw error
        }
        guard let target = chain.popLast() else { throw SSHError(.protocolError, "empty route") }
        await target.adoptJumps(chain)
        return target
    }

    private func adoptJumps(_ connections: [SSHConnection]) { jumps = connections }

    private func open(auth: [SSHAuthMethod], hostKeys: HostKeyPolicy, stream: Int32? = nil) throws {
        executor.service = core
        try core.establish(auth: auth, hostKeys: hostKeys, stream: stream)
    }

    /// A socket connected to `host:port` as seen from this server (a `direct-tcpip` channel pumped by this
    /// connection's thread) within `timeout`; the caller owns the descriptor.
    func openStream(toHost host: String, port: Int, within timeout: Duration) throws -> Int32 {
        try core.openStream(toHost: host, port: port, within: timeout)
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

    /// Disconnects politely and frees the session, then the jump hosts' sessions. Idempotent.
    public func close() async {
        core.shutdown()
        let jumps = self.jumps
        self.jumps = []
        for jump in jumps.reversed() { await jump.close() }
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
