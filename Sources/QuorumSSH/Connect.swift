import CLibSSH2
import Foundation

extension SessionCore {
    /// TCP connect (or take `stream`, a socket already connected through a jump host, which the session then
    /// owns), handshake, host key check and authentication. Runs on the session thread.
    func establish(auth: [SSHAuthMethod], hostKeys: HostKeyPolicy, stream: Int32? = nil) throws {
        if let stream { fd = stream }
        guard libssh2Ready else { throw SSHError(.protocolError, "libssh2_init failed; cannot connect to \(label)") }
        if stream == nil {
            fd = try Self.tcpConnect(
                endpoint, timeout: options.connectTimeout, keepaliveInterval: options.keepaliveInterval,
                keepaliveCountMax: options.keepaliveCountMax)
        }
        guard let session = quorum_session_new(ctx) else {
            throw SSHError(.protocolError, "Cannot create an SSH session for \(label)")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)

        let loginDeadline = Deadline(at: monotonicNow() + nanos(options.loginTimeout)) { [label, options] in
            SSHError(.connectTimeout, "SSH login to \(label) did not finish within \(options.loginTimeout)")
        }
        let knownHosts = KnownHosts(files: hostKeys.knownHostsFiles)
        preferRecordedHostKeyTypes(knownHosts, alias: hostKeys.hostKeyAlias)

        let op = newOp()
        defer { endOp(op) }
        let sock = fd
        do {
            try drive(loginDeadline) { () -> Step<Void> in
                let rc = libssh2_session_handshake(session, sock)
                if rc == 0 { return .done(()) }
                if rc == LIBSSH2_ERROR_EAGAIN { return .blocked }
                let kind: SSHError.Kind =
                    [
                        LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_DISCONNECT,
                        LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
                        LIBSSH2_ERROR_SOCKET_TIMEOUT
                    ].contains(rc) ? .connectFailed : .protocolError
                throw SSHError(kind, "SSH handshake with \(label) failed: \(lastErrorMessage) (libssh2 error \(rc))", libraryCode: rc)
            }
        } catch let error as SSHError where error.kind == .disconnected {
            throw SSHError(.connectFailed, error.message, libraryCode: error.libraryCode)
        }

        try checkHostKey(knownHosts, policy: hostKeys)
        try authenticate(auth, deadline: loginDeadline)
        if options.keepaliveInterval > 0 {
            libssh2_keepalive_config(session, 1, UInt32(options.keepaliveInterval))
        }
        ctx.pointee.last_rx_ns = monotonicNow()
        idleSince = monotonicNow()
    }

    /// Resolves the host and connects without blocking longer than `timeout` in total.
    static func tcpConnect(
        _ endpoint: SSHEndpoint, timeout: Duration, keepaliveInterval: Int,
        keepaliveCountMax: Int
    ) throws -> Int32 {
        let label = endpoint.hostPort
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard gai == 0, let first = list else {
            throw SSHError(.connectFailed, "Cannot resolve \(endpoint.host) (for \(label)): \(String(cString: gai_strerror(gai)))")
        }
        defer { freeaddrinfo(list) }

        let deadline = monotonicNow() + nanos(timeout)
        var lastError = "no address"
        var timedOut = false
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            let sock = socket(
                ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                ai.pointee.ai_protocol)
            if sock < 0 {
                lastError = String(cString: strerror(quorum_errno()))
                continue
            }
            var ok = connect(sock, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0
            if !ok, quorum_errno() == EINPROGRESS {
                var pfd = pollfd(fd: sock, events: Int16(POLLOUT), revents: 0)
                while true {
                    let remaining = (deadline - monotonicNow()) / 1_000_000
                    if remaining <= 0 {
                        timedOut = true
                        break
                    }
                    let rc = poll(&pfd, 1, Int32(clamping: remaining))
                    if rc < 0, quorum_errno() == EINTR { continue }
                    if rc == 0 { timedOut = true }
                    break
                }
                if !timedOut {
                    var soError: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(sock, SOL_SOCKET, SO_ERROR, &soError, &len)
                    ok = soError == 0
                    if !ok { lastError = String(cString: strerror(soError)) }
                }
            } else if !ok {
                lastError = String(cString: strerror(quorum_errno()))
            }
            if ok {
                var one: Int32 = 1
                _ = setsockopt(sock, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                _ = setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
                if keepaliveInterval > 0 {
                    // Unacknowledged data older than this kills the connection, so a cut link cannot stall writes forever.
                    var userTimeout = UInt32(clamping: (keepaliveInterval * max(keepaliveCountMax, 1) + 10) * 1000)
                    _ = setsockopt(sock, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &userTimeout, socklen_t(MemoryLayout<UInt32>.size))
                }
                return sock
            }
            close(sock)
            if timedOut { break }
        }
        if timedOut {
            throw SSHError(.connectTimeout, "Connecting to \(label) timed out after \(timeout)")
        }
        throw SSHError(.connectFailed, "Cannot connect to \(label): \(lastError)")
    }
}
