import CLibSSH2
import Foundation

/// One accepted local connection and its `direct-tcpip` channel. Touched only on the session thread.
final class TunnelClient {
    static let bufferCap = 256 * 1024

    let op: Int
    let fd: Int32
    let sourcePort: Int32
    var channel: OpaquePointer?
    /// Re-issues the interrupted open (needed if the client goes away while its channel is being opened).
    var opener: (() -> OpaquePointer?)?
    /// Read from the local socket, not yet accepted by the channel.
    var toChannel: [UInt8] = []
    /// Read from the channel, not yet accepted by the local socket.
    var toLocal: [UInt8] = []
    var localEOF = false
    var eofSent = false
    var remoteEOF = false
    var shutdownSent = false
    var finished = false

    init(op: Int, fd: Int32, sourcePort: Int32) {
        self.op = op
        self.fd = fd
        self.sourcePort = sourcePort
    }
}

/// A local listener on 127.0.0.1 forwarding each connection to `host:port` as seen from the SSH server; or,
/// without a listening socket (`fd` -1), the one socketpair stream a jump hands to the next session.
final class TunnelListener {
    let id: Int
    let fd: Int32
    var isStream: Bool { fd < 0 }
    let host: String
    let port: Int
    var clients: [TunnelClient] = []

    init(id: Int, fd: Int32, host: String, port: Int) {
        self.id = id
        self.fd = fd
        self.host = host
        self.port = port
    }

    /// The session is gone: close the local sockets (libssh2_session_free releases the channels).
    func dropClients() {
        for client in clients { close(client.fd) }
        clients.removeAll()
    }

    func closeAll() {
        dropClients()
        if !isStream { close(fd) }
    }
}

extension SessionCore {
    /// Opens a `direct-tcpip` channel to `host:port` for `op`, bounded by `timeout` (default: the login timeout);
    /// a refused open says whether sshd forbids forwarding or could not reach the destination.
    func openDirectChannel(
        _ op: Int, toHost host: String, port: Int, timeoutKind: SSHError.Kind,
        timeout: Duration? = nil
    ) throws -> OpaquePointer {
        try checkUsable()
        guard let session else { throw SSHError(.disconnected, "Connection to \(label) is closed") }
        guard (1...65535).contains(port) else {
            throw SSHError(.channelFailure, "Invalid destination port \(port) (via \(label))")
        }
        let timeout = timeout ?? options.loginTimeout
        let deadline = Deadline(at: monotonicNow() + nanos(timeout)) { [label] in
            SSHError(timeoutKind, "sshd on \(label) did not answer a forwarding request to \(host):\(port) within \(timeout)")
        }
        do {
            return try openChannel(
                op, deadline: deadline, failureKind: .forwardingRefused,
                what: "Cannot open a channel to \(host):\(port)"
            ) {
                libssh2_channel_direct_tcpip_ex(session, host, Int32(port), "127.0.0.1", 0)
            }
        } catch let error as SSHError where error.kind == .forwardingRefused {
            throw tunnelError(error, host: host, port: port)
        }
    }

    /// Checks that sshd forwards to `host:port` (one probe channel, closed at once) and starts listening.
    func openTunnel(toHost host: String, port: Int) throws -> (id: Int, port: Int) {
        let op = newOp()
        defer { endOp(op) }
        let probe = try openDirectChannel(op, toHost: host, port: port, timeoutKind: .commandTimeout)
        orphan(op: newOp(), channel: probe, reopen: nil)

        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else {
            throw SSHError(.channelFailure, "Cannot create a local socket for the tunnel to \(host):\(port) via \(label)")
        }
        var one: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(quorum_errno()))
            close(listener)
            throw SSHError(.channelFailure, "Cannot listen on 127.0.0.1 for the tunnel to \(host):\(port) via \(label): \(reason)")
        }
        let tunnel = TunnelListener(id: newOp(), fd: listener, host: host, port: port)
        endOp(tunnel.id)
        tunnels.append(tunnel)
        let localPort = Int(UInt16(bigEndian: address.sin_port))
        note("tunnel 127.0.0.1:\(localPort) -> \(host):\(port) via \(label)")
        return (tunnel.id, localPort)
    }

    /// A refused `direct-tcpip` open: say whether sshd forbids forwarding or could not reach the destination.
    func tunnelError(_ error: SSHError, host: String, port: Int) -> SSHError {
        let detail = error.message.lowercased()
        if detail.contains("connect failed") || detail.contains("connection refused") {
            return SSHError(
                .channelFailure, "sshd on \(label) could not connect to \(host):\(port): \(error.message)",
                libraryCode: error.libraryCode)
        }
        return SSHError(
            .forwardingRefused,
            """
            sshd on \(label) refused to forward to \(host):\(port); TCP forwarding must be allowed for this user \
            (AllowTcpForwarding yes/local, and PermitOpen if set, in sshd_config). \(error.message)
            """, libraryCode: error.libraryCode)
    }

    func closeTunnel(_ id: Int) {
        guard let index = tunnels.firstIndex(where: { $0.id == id }) else { return }
        let tunnel = tunnels.remove(at: index)
        if !tunnel.isStream { close(tunnel.fd) }
        for client in tunnel.clients { finish(client) }
        tunnel.clients.removeAll()
    }

    /// Closes the local socket and hands the channel (or its unfinished open) to the background.
    private func finish(_ client: TunnelClient) {
        guard !client.finished else { return }
        client.finished = true
        close(client.fd)
        if client.channel != nil {
            orphan(op: client.op, channel: client.channel, reopen: nil)
        } else if openOwner == client.op {
            orphan(op: client.op, channel: nil, reopen: client.opener)
        } else {
            endOp(client.op)
        }
    }

    /// Whether something is waiting for data from the server (otherwise the SSH socket is left unread).
    var wantsSSHInput: Bool {
        !orphans.isEmpty
            || tunnels.contains { tunnel in
                tunnel.clients.contains { $0.channel == nil || $0.toLocal.count < TunnelClient.bufferCap || !$0.toChannel.isEmpty }
            }
    }

    func appendTunnelPollFDs(_ fds: inout [pollfd]) {
        for tunnel in tunnels {
            if !tunnel.isStream { fds.append(pollfd(fd: tunnel.fd, events: Int16(POLLIN), revents: 0)) }
            for client in tunnel.clients {
                var events = Int16(0)
                if !client.localEOF, client.toChannel.count < TunnelClient.bufferCap { events |= Int16(POLLIN) }
                if !client.toLocal.isEmpty { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: client.fd, events: events, revents: 0))
            }
        }
    }

    /// One non-blocking pass over every listener and forwarded connection. Returns whether anything moved.
    func pumpTunnels() -> Bool {
        guard !tunnels.isEmpty, failure == nil else { return false }
        var progress = false
        for tunnel in tunnels {
            if !tunnel.isStream, accept(on: tunnel) { progress = true }
            for client in tunnel.clients where !client.finished {
                do {
                    if try pump(client, tunnel) { progress = true }
                } catch {
                    note("tunnel connection to \(tunnel.host):\(tunnel.port) ended: \(error)")
                    finish(client)
                    progress = true
                }
            }
            tunnel.clients.removeAll { $0.finished }
        }
        // A stream whose one connection ended is done.
        tunnels.removeAll { $0.isStream && $0.clients.isEmpty }
        return progress
    }

    private func accept(on tunnel: TunnelListener) -> Bool {
        var progress = false
        while true {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.accept(tunnel.fd, $0, &length)
                }
            }
            guard fd >= 0 else { return progress }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            tunnel.clients.append(TunnelClient(op: newOp(), fd: fd, sourcePort: Int32(UInt16(bigEndian: address.sin_port))))
            progress = true
        }
    }

    /// Moves bytes both ways for one forwarded connection; throws when it must be torn down.
    private func pump(_ client: TunnelClient, _ tunnel: TunnelListener) throws -> Bool {
        guard let session else { return false }
        var progress = false
        let op = client.op

        guard let channel = client.channel else {
            guard openOwner == nil || openOwner == op else { return false }
            let opener =
                client.opener ?? { [host = tunnel.host, port = Int32(tunnel.port), source = client.sourcePort] in
                    libssh2_channel_direct_tcpip_ex(session, host, port, "127.0.0.1", source)
                }
            client.opener = opener
            guard let result = call(op, opener) else { return false }
            if let channel = result {
                openOwner = nil
                client.channel = channel
                client.opener = nil
                return true
            }
            let rc = libssh2_session_last_errno(session)
            if rc == LIBSSH2_ERROR_EAGAIN {
                openOwner = op
                return false
            }
            openOwner = nil
            throw error(Int(rc), .forwardingRefused, "Cannot open a tunnel channel to \(tunnel.host):\(tunnel.port)")
        }

        // local -> buffer
        if !client.localEOF, client.toChannel.count < TunnelClient.bufferCap {
            let room = min(TunnelClient.bufferCap - client.toChannel.count, scratch.count)
            let n = recv(client.fd, scratch.baseAddress, room, Int32(MSG_DONTWAIT))
            if n > 0 {
                client.toChannel.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
                progress = true
            } else if n == 0 {
                client.localEOF = true
                progress = true
            } else if quorum_errno() != EAGAIN, quorum_errno() != EINTR {
                throw SSHError(.channelFailure, "local tunnel client failed: \(String(cString: strerror(quorum_errno())))")
            }
        }
        // buffer -> channel
        while !client.toChannel.isEmpty {
            guard
                let n = call(
                    op,
                    {
                        client.toChannel.withUnsafeBufferPointer { buffer in
                            buffer.withMemoryRebound(to: CChar.self) { libssh2_channel_write_ex(channel, 0, $0.baseAddress, $0.count) }
                        }
                    })
            else { break }
            if n > 0 {
                client.toChannel.removeFirst(min(n, client.toChannel.count))
                progress = true
            } else if n == eagain {
                break
            } else if n < 0 {
                throw error(n, .channelFailure, "Cannot write to the tunnel channel")
            } else {
                break
            }
        }
        if client.localEOF, client.toChannel.isEmpty, !client.eofSent, controlSendIsSafe,
            let rc = call(op, { libssh2_channel_send_eof(channel) }), Int(rc) != eagain
        {
            if isFatal(Int(rc)) { throw error(Int(rc), .channelFailure, "Cannot send EOF on the tunnel channel") }
            client.eofSent = true
            progress = true
        }
        // channel -> buffer
        while client.toLocal.count < TunnelClient.bufferCap {
            let room = min(TunnelClient.bufferCap - client.toLocal.count, scratch.count)
            let scratch = self.scratch
            guard let n = call(op, { libssh2_channel_read_ex(channel, 0, scratch.baseAddress, room) }) else { break }
            if n > 0 {
                client.toLocal.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
                progress = true
            } else if n == 0 || n == eagain {
                break
            } else {
                throw error(n, .channelFailure, "Cannot read from the tunnel channel")
            }
        }
        // buffer -> local
        if !client.toLocal.isEmpty {
            let n = client.toLocal.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n > 0 {
                client.toLocal.removeFirst(n)
                progress = true
            } else if n < 0, quorum_errno() != EAGAIN, quorum_errno() != EINTR {
                throw SSHError(.channelFailure, "local tunnel client went away: \(String(cString: strerror(quorum_errno())))")
            }
        }
        if !client.remoteEOF, libssh2_channel_eof(channel) == 1 {
            client.remoteEOF = true
            progress = true
        }
        if client.remoteEOF, client.toLocal.isEmpty, !client.shutdownSent {
            _ = Glibc.shutdown(client.fd, Int32(SHUT_WR))
            client.shutdownSent = true
            progress = true
        }
        if client.eofSent, client.shutdownSent {
            finish(client)
            progress = true
        }
        return progress
    }
}
