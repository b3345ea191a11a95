import CLibSSH2
import Foundation

/// Global, once: libssh2's init is not thread-safe and must precede every session; SIGPIPE must not kill us
/// when a tunnel client goes away. Swift initialises globals lazily under `swift_once`.
let libssh2Ready: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return libssh2_init(0) == 0
}()

/// Nanoseconds on CLOCK_MONOTONIC (the same clock the C receive hook stamps).
typealias Nanos = Int64

func monotonicNow() -> Nanos { quorum_monotonic_ns() }

func nanos(_ d: Duration) -> Nanos {
    let (s, atto) = d.components
    return s &* 1_000_000_000 &+ atto / 1_000_000_000
}

let eagain = Int(LIBSSH2_ERROR_EAGAIN)

/// The result of one non-blocking attempt.
enum Step<T> {
    case done(T)
    /// Something moved (bytes read or written): try again before waiting.
    case progress
    /// Nothing can move until the socket is ready.
    case blocked
}

/// When a foreground operation must give up, and with which error.
struct Deadline {
    var at: Nanos?
    var expired: () -> SSHError

    static func never(_ label: String) -> Deadline {
        Deadline(at: nil) { SSHError(.protocolError, "Unexpected deadline on \(label)") }
    }
}

/// A channel (or a channel still being opened) that an operation gave up on; the session thread finishes
/// opening and closing it in the background so the session stays consistent.
final class OrphanChannel {
    let op: Int
    var channel: OpaquePointer?
    /// Re-issues the interrupted `channel_open` call (libssh2 keeps one open in progress per session).
    var reopen: (() -> OpaquePointer?)?

    init(op: Int, channel: OpaquePointer?, reopen: (() -> OpaquePointer?)?) {
        self.op = op
        self.channel = channel
        self.reopen = reopen
    }
}

/// Owns one libssh2 session, its socket and every channel on it.
///
/// Invariant: every member is used only on the owning `SessionThread` (through `SSHConnection`, whose
/// executor is that thread, or from the thread's idle loop). libssh2 is therefore never entered from two
/// threads for this session.
///
/// The session is non-blocking. Two pieces of libssh2 state are per session, not per channel, and are
/// guarded here because several channels (a command, tunnel clients, orphans) make progress interleaved:
/// - a partially sent packet: the call that started it must be repeated before any other call sends
///   (`outboundOwner`, `resumeOutbound`);
/// - a channel open in progress (`openOwner`, `resumeOpen`).
final class SessionCore: IdleService {
    let endpoint: SSHEndpoint
    let options: SSHOptions
    /// The jump host this session is tunnelled through (its name), for messages.
    let via: String?
    var label: String { via.map { "\(endpoint.hostPort) via \($0)" } ?? endpoint.hostPort }

    /// Tells `options.notes`, if anyone listens, `message` about this session.
    func note(_ message: String, kind: SSHNote.Kind = .detail) {
        options.notes?(SSHNote(kind: kind, session: label, message: message))
    }

    var fd: Int32 = -1
    var session: OpaquePointer?
    let ctx: UnsafeMutablePointer<quorum_ssh_ctx>
    /// Set once the session is unusable; every later call throws it.
    var failure: SSHError?
    var closed = false

    var outboundOwner: Int?
    /// A control packet was held back until the kernel send buffer drains: wait for POLLOUT.
    var wantWritable = false
    var resumeOutbound: (() -> Void)?
    var openOwner: Int?
    var liveOps: Set<Int> = []
    private var lastOp = 0

    var orphans: [OrphanChannel] = []
    var tunnels: [TunnelListener] = []
    /// Reused read buffer.
    let scratch: UnsafeMutableRawBufferPointer
    static let scratchSize = 64 * 1024

    init(endpoint: SSHEndpoint, options: SSHOptions, via: String? = nil) {
        self.endpoint = endpoint
        self.options = options
        self.via = via
        ctx = UnsafeMutablePointer<quorum_ssh_ctx>.allocate(capacity: 1)
        ctx.initialize(to: quorum_ssh_ctx(last_rx_ns: 0, kbd_password: nil, kbd_password_len: 0))
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    deinit {
        ctx.deallocate()
        scratch.deallocate()
    }

    // MARK: operations and the session-wide guards

    func newOp() -> Int {
        lastOp += 1
        liveOps.insert(lastOp)
        return lastOp
    }

    func endOp(_ op: Int) {
        liveOps.remove(op)
        if openOwner == op { openOwner = nil }
    }

    /// Whether `op` may call into libssh2 in a way that can send.
    func maySend(_ op: Int) -> Bool { outboundOwner == nil || outboundOwner == op }

    /// Runs one libssh2 call for `op`, or returns nil when another operation must finish a partial send first.
    /// Remembers how to repeat the call if it leaves a packet half-sent.
    func call<R>(_ op: Int, _ body: @escaping () -> R) -> R? {
        guard maySend(op), let session else { return nil }
        let result = body()
        if libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            outboundOwner = op
            resumeOutbound = { _ = body() }
        } else if outboundOwner == op {
            outboundOwner = nil
            resumeOutbound = nil
        }
        return result
    }

    /// Small control packets (EOF, close, keepalive) are built in stack buffers by libssh2, so a partial send
    /// of one could never be resumed; only send them while the kernel buffer has ample room.
    var controlSendIsSafe: Bool {
        guard fd >= 0 else { return false }
        let queued = quorum_socket_outq(fd)
        var sndbuf: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard queued >= 0, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0 else { return true }
        // The kernel charges about twice the payload against SO_SNDBUF; keep room for a whole small packet.
        let safe = Int(queued) * 2 + 8192 <= Int(sndbuf)
        if !safe { wantWritable = true }
        return safe
    }

    // MARK: errors

    var lastErrorMessage: String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        _ = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "no detail from libssh2" }
        return String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self)
    }

    /// Translates a libssh2 error code. Transport-level errors make the session unusable.
    func error(_ rc: Int, _ kind: SSHError.Kind, _ what: String) -> SSHError {
        let code = Int32(truncatingIfNeeded: rc)
        let detail = "\(lastErrorMessage) (libssh2 error \(code))"
        switch code {
        case LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
            LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
            LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_BAD_SOCKET:
            return markFailed(SSHError(.disconnected, "Connection to \(label) lost: \(what): \(detail)", libraryCode: code))
        case LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE,
            LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_PROTO, LIBSSH2_ERROR_OUT_OF_BOUNDARY,
            LIBSSH2_ERROR_BAD_USE, LIBSSH2_ERROR_ALLOC:
            return markFailed(SSHError(.protocolError, "SSH protocol error with \(label): \(what): \(detail)", libraryCode: code))
        default:
            return SSHError(kind, "\(what) on \(label): \(detail)", libraryCode: code)
        }
    }

    func isFatal(_ rc: Int) -> Bool {
        guard rc < 0, rc != eagain else { return false }
        return [
            LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
            LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
            LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_BAD_SOCKET,
            LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE,
            LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_PROTO, LIBSSH2_ERROR_OUT_OF_BOUNDARY,
            LIBSSH2_ERROR_BAD_USE, LIBSSH2_ERROR_ALLOC
        ].contains(Int32(truncatingIfNeeded: rc))
    }

    @discardableResult
    func markFailed(_ error: SSHError) -> SSHError {
        if failure == nil {
            failure = error
            note("session unusable: \(error.message)")
            dropEverything()
        }
        return failure ?? error
    }

    func checkUsable() throws {
        if let failure { throw failure }
        if closed || session == nil { throw SSHError(.disconnected, "Connection to \(label) is closed") }
    }

    // MARK: the foreground loop

    /// Repeats `attempt` until it is done, servicing tunnels and orphans and waiting on the socket in between.
    /// Throws the deadline's error, a `CancellationError`, or `disconnected` when the peer stops answering.
    func drive<T>(_ deadline: Deadline, _ attempt: () throws -> Step<T>) throws -> T {
        let waitStart = monotonicNow()
        while true {
            try checkUsable()
            switch try attempt() {
            case .done(let value): return value
            case .progress:
                // Keep tunnels moving while a command streams output.
                if !tunnels.isEmpty || !orphans.isEmpty { serviceBackground() }
                continue
            case .blocked: break
            }
            if serviceBackground() { continue }
            try wait(deadline: deadline, since: waitStart, foreground: true, wakeFD: nil)
        }
    }

    /// One poll over the SSH socket and the tunnel sockets. In the foreground the wait is capped at 250 ms so
    /// cancellation is noticed; when idle, `wakeFD` ends it.
    func wait(deadline: Deadline, since waitStart: Nanos, foreground: Bool, wakeFD: Int32?) throws {
        try checkUsable()
        if foreground, Task.isCancelled { throw CancellationError() }
        let now = monotonicNow()
        if let at = deadline.at, now >= at { throw deadline.expired() }
        try checkLiveness(since: waitStart, now: now)

        var timeout: Int64 = foreground ? 250 : -1
        func cap(_ ms: Int64) { timeout = timeout < 0 ? ms : min(timeout, ms) }
        if let at = deadline.at { cap(max(1, (at - now) / 1_000_000 + 1)) }
        if let next = keepalive() { cap(next) }
        if options.keepaliveInterval > 0, foreground || hasOpenChannels { cap(1000) }

        var fds: [pollfd] = []
        if let fd = pollableSSHFD(foreground: foreground) { fds.append(fd) }
        appendTunnelPollFDs(&fds)
        if let wakeFD { fds.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)) }
        let rc = poll(&fds, nfds_t(fds.count), Int32(clamping: timeout))
        // Readiness is not tracked per descriptor: the next pass tries everything (libssh2 may also hold data
        // it already read from the socket).
        if rc < 0, quorum_errno() != EINTR {
            throw markFailed(SSHError(.disconnected, "poll() failed for \(label): \(String(cString: strerror(quorum_errno())))"))
        }
    }

    private func pollableSSHFD(foreground: Bool) -> pollfd? {
        guard fd >= 0, let session else { return nil }
        var events = Int16(0)
        let directions = libssh2_session_block_directions(session)
        if foreground || wantsSSHInput { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 || outboundOwner != nil || wantWritable { events |= Int16(POLLOUT) }
        wantWritable = false
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0, foreground || hasOpenChannels { events |= Int16(POLLIN) }
        return events == 0 ? nil : pollfd(fd: fd, events: events, revents: 0)
    }

    /// Sends a keepalive when one is due; returns milliseconds until the next one, or nil when disabled.
    func keepalive() -> Int64? {
        guard options.keepaliveInterval > 0, let session, failure == nil else { return nil }
        guard outboundOwner == nil, controlSendIsSafe else { return 50 }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc < 0, isFatal(Int(rc)) {
            _ = error(Int(rc), .disconnected, "Cannot send keepalive")
            return nil
        }
        return Int64(max(next, 1)) * 1000
    }

    /// The peer counts as gone when nothing arrived for `interval * countMax` seconds (plus slack) while we
    /// waited and kept sending keepalives.
    func checkLiveness(since waitStart: Nanos, now: Nanos) throws {
        guard options.keepaliveInterval > 0 else { return }
        let silentSince = max(ctx.pointee.last_rx_ns, waitStart)
        let limitSeconds = Int64(options.keepaliveInterval * max(options.keepaliveCountMax, 1) + 2)
        if now - silentSince > limitSeconds * 1_000_000_000 {
            throw markFailed(SSHError(.disconnected, "Connection to \(label) lost: no answer to keepalives for \(limitSeconds) s"))
        }
    }

    // MARK: background work (orphans and tunnels)

    var hasOpenChannels: Bool { !orphans.isEmpty || tunnels.contains { !$0.clients.isEmpty } }

    /// One non-blocking pass over everything that is not the foreground operation. Returns whether anything moved.
    @discardableResult
    func serviceBackground() -> Bool {
        guard failure == nil, session != nil else { return false }
        var progress = false
        // A half-sent packet of an operation that no longer exists must be completed first.
        if let owner = outboundOwner, !liveOps.contains(owner), let resume = resumeOutbound {
            resume()
            if let session, libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND == 0 {
                outboundOwner = nil
                resumeOutbound = nil
                progress = true
            }
        }
        if serviceOrphans() { progress = true }
        if pumpTunnels() { progress = true }
        return progress
    }

    /// Gives a channel to the background to close and free (or to finish opening, then close and free).
    func orphan(op: Int, channel: OpaquePointer?, reopen: (() -> OpaquePointer?)?) {
        guard channel != nil || reopen != nil else {
            endOp(op)
            return
        }
        orphans.append(OrphanChannel(op: op, channel: channel, reopen: reopen))
    }

    private func serviceOrphans() -> Bool {
        guard let session, !orphans.isEmpty else { return false }
        var progress = false
        var remaining: [OrphanChannel] = []
        for orphan in orphans {
            if orphan.channel == nil, let reopen = orphan.reopen {
                guard openOwner == orphan.op, let result = call(orphan.op, reopen) else {
                    remaining.append(orphan)
                    continue
                }
                if let channel = result {
                    orphan.channel = channel
                    orphan.reopen = nil
                    openOwner = nil
                    progress = true
                } else if libssh2_session_last_errno(session) != LIBSSH2_ERROR_EAGAIN {
                    openOwner = nil
                    endOp(orphan.op)
                    progress = true
                    continue
                } else {
                    remaining.append(orphan)
                    continue
                }
            }
            guard let channel = orphan.channel else {
                endOp(orphan.op)
                continue
            }
            if controlSendIsSafe, let rc = call(orphan.op, { libssh2_channel_close(channel) }), Int(rc) != eagain {
                if let freed = call(orphan.op, { libssh2_channel_free(channel) }), Int(freed) != eagain {
                    endOp(orphan.op)
                    progress = true
                    continue
                }
            }
            remaining.append(orphan)
        }
        orphans = remaining
        return progress
    }

    /// After a fatal error: forget channels (libssh2_session_free releases them) and close tunnel sockets.
    private func dropEverything() {
        orphans.removeAll()
        for tunnel in tunnels { tunnel.dropClients() }
        outboundOwner = nil
        resumeOutbound = nil
        openOwner = nil
    }

    // MARK: idle

    func idle(wakeFD: Int32) {
        guard failure == nil, !closed, session != nil else {
            var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, -1)
            return
        }
        while serviceBackground() {}
        do {
            try wait(deadline: .never(label), since: idleSince, foreground: false, wakeFD: wakeFD)
        } catch {
            note("idle wait ended: \(error)")
        }
        while serviceBackground() {}
        if !hasOpenChannels { idleSince = monotonicNow() }
    }

    /// While idle without channels nothing reads the socket, so silence is expected then.
    var idleSince: Nanos = 0

    func shutdown() {
        guard !closed else { return }
        closed = true
        for tunnel in tunnels { tunnel.closeAll() }
        tunnels.removeAll()
        orphans.removeAll()
        if let session {
            if failure == nil {
                let until = monotonicNow() + 1_000_000_000
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                while libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "closing", "") == LIBSSH2_ERROR_EAGAIN,
                    monotonicNow() < until
                {
                    _ = poll(&pfd, 1, 100)
                }
            }
            // With the socket shut down every pending channel close fails at once instead of waiting.
            if fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            var attempts = 0
            while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN, attempts < 1000 { attempts += 1 }
            self.session = nil
        }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }
}
