import CLibSSH2
import Foundation

extension SessionCore {
    static let channelWindow: UInt32 = 2 * 1024 * 1024
    static let channelPacket: UInt32 = 32 * 1024

    /// Opens a channel for `op`, respecting libssh2's one-open-at-a-time state. On failure to finish (timeout,
    /// cancellation) the half-open channel is handed to the background.
    func openChannel(
        _ op: Int, deadline: Deadline, failureKind: SSHError.Kind, what: String,
        _ opener: @escaping () -> OpaquePointer?
    ) throws -> OpaquePointer {
        guard let session else { throw SSHError(.disconnected, "Connection to \(label) is closed") }
        do {
            return try drive(deadline) { () -> Step<OpaquePointer> in
                guard openOwner == nil || openOwner == op, let result = call(op, opener) else { return .blocked }
                if let channel = result {
                    openOwner = nil
                    return .done(channel)
                }
                let rc = libssh2_session_last_errno(session)
                if rc == LIBSSH2_ERROR_EAGAIN {
                    openOwner = op
                    return .blocked
                }
                openOwner = nil
                throw error(Int(rc), failureKind, what)
            }
        } catch {
            if openOwner == op, failure == nil {
                orphan(op: newOp(), channel: nil, reopen: opener)
                if let last = orphans.last { openOwner = last.op }
            }
            throw error
        }
    }

    /// Runs one command to completion on a new channel. See `SSHConnection.run`.
    func run(_ command: String, stdin: [UInt8], timeout: Duration?) throws -> CommandOutput {
        try checkUsable()
        guard let session else { throw SSHError(.disconnected, "Connection to \(label) is closed") }
        let started = monotonicNow()
        // The command as messages show it, made only for a message: commands can be long scripts.
        let deadline = Deadline(at: timeout.map { started + nanos($0) }) { [label] in
            SSHError(.commandTimeout, "Command timed out after \(timeout ?? .zero) on \(label): \(Self.abbreviate(command))")
        }
        let op = newOp()
        defer { endOp(op) }

        let channel = try openChannel(
            op, deadline: deadline, failureKind: .channelFailure,
            what: "Cannot open a session channel"
        ) {
            libssh2_channel_open_ex(session, "session", 7, Self.channelWindow, Self.channelPacket, nil, 0)
        }
        var finished = false
        defer { if !finished { orphan(op: newOp(), channel: channel, reopen: nil) } }

        let commandBytes = Array(command.utf8)
        try drive(deadline) { () -> Step<Void> in
            guard
                let rc = call(
                    op,
                    {
                        commandBytes.withUnsafeBufferPointer { buffer in
                            buffer.withMemoryRebound(to: CChar.self) {
                                libssh2_channel_process_startup(channel, "exec", 4, $0.baseAddress, UInt32($0.count))
                            }
                        }
                    })
            else { return .blocked }
            if rc == 0 { return .done(()) }
            if rc == LIBSSH2_ERROR_EAGAIN { return .blocked }
            throw error(Int(rc), .channelFailure, "sshd refused to run the command (\(Self.abbreviate(command)))")
        }

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        var eofSent = false
        try drive(deadline) { () -> Step<Void> in
            var moved = false
            if written < stdin.count {
                let offset = written
                let chunk = min(stdin.count - offset, 256 * 1024)
                if let n = call(
                    op,
                    {
                        stdin.withUnsafeBufferPointer { buffer in
                            buffer.withMemoryRebound(to: CChar.self) {
                                libssh2_channel_write_ex(channel, 0, $0.baseAddress.map { $0 + offset }, chunk)
                            }
                        }
                    })
                {
                    if n > 0 {
                        written += n
                        moved = true
                    } else if n < 0, n != eagain {
                        if isFatal(n) { throw error(n, .channelFailure, "Cannot send stdin") }
                        written = stdin.count  // the command closed its input; stop feeding it
                    }
                }
            }
            if written >= stdin.count, !eofSent, controlSendIsSafe,
                let rc = call(op, { libssh2_channel_send_eof(channel) }), Int(rc) != eagain
            {
                if isFatal(Int(rc)) { throw error(Int(rc), .channelFailure, "Cannot send EOF") }
                eofSent = true
                moved = true
            }
            if try drain(channel, stream: 0, op: op, into: &stdout) { moved = true }
            if try drain(channel, stream: SSH_EXTENDED_DATA_STDERR, op: op, into: &stderr) { moved = true }
            if libssh2_channel_eof(channel) == 1 { return .done(()) }
            return moved ? .progress : .blocked
        }

        try drive(deadline) { () -> Step<Void> in
            guard controlSendIsSafe, let rc = call(op, { libssh2_channel_close(channel) }) else { return .blocked }
            if Int(rc) == eagain { return .blocked }
            if isFatal(Int(rc)) { throw error(Int(rc), .channelFailure, "Cannot close the channel") }
            return .done(())
        }
        try drive(deadline) { () -> Step<Void> in
            guard let rc = call(op, { libssh2_channel_wait_closed(channel) }) else { return .blocked }
            if Int(rc) == eagain { return .blocked }
            if isFatal(Int(rc)) { throw error(Int(rc), .channelFailure, "Channel did not close") }
            return .done(())
        }

        var exitStatus = libssh2_channel_get_exit_status(channel)
        var signalName: String?
        var signalPointer: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        if libssh2_channel_get_exit_signal(channel, &signalPointer, &signalLength, nil, nil, nil, nil) == 0,
            let signalPointer
        {
            if signalLength > 0 {
                signalName = String(decoding: UnsafeRawBufferPointer(start: signalPointer, count: signalLength), as: UTF8.self)
            }
            libssh2_free(session, signalPointer)
        }
        if signalName != nil { exitStatus = -1 }

        finished = true
        try drive(deadline) { () -> Step<Void> in
            guard let rc = call(op, { libssh2_channel_free(channel) }) else { return .blocked }
            return Int(rc) == eagain ? .blocked : .done(())
        }
        return CommandOutput(stdout: stdout, stderr: stderr, exitStatus: exitStatus, exitSignal: signalName)
    }

    /// Reads everything libssh2 has for one stream. Returns whether any byte arrived.
    func drain(_ channel: OpaquePointer, stream: Int32, op: Int, into buffer: inout [UInt8]) throws -> Bool {
        var moved = false
        let scratch = self.scratch
        while true {
            guard let n = call(op, { libssh2_channel_read_ex(channel, stream, scratch.baseAddress, scratch.count) }) else {
                return moved
            }
            if n > 0 {
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
                moved = true
                continue
            }
            if n == 0 || n == eagain { return moved }
            throw error(n, .channelFailure, "Cannot read command output")
        }
    }

    static func abbreviate(_ command: String) -> String {
        let oneLine = command.replacingOccurrences(of: "\n", with: " ")
        return oneLine.count > 80 ? String(oneLine.prefix(77)) + "..." : oneLine
    }
}
