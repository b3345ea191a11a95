import Foundation
import QuorumCore
import QuorumSSH

/// A Remote over one SSH session: every operation is one command (one round trip), run by `/bin/sh`,
/// through sudo when `become` is set. Secrets travel on stdin, never on a command line.
public struct SSHRemote: Remote {
    public let host: String
    let connection: SSHConnection
    let become: BecomeSettings?
    let commandTimeout: Duration
    let tunnels: TunnelRegistry
    let commandObserver: (any CommandObserver)?

    /// `tunnels`: the session's, shared by its Remotes; `commandObserver` is told of every command (`-vv`).
    public init(
        host: String, connection: SSHConnection, become: BecomeSettings?, commandTimeout: Duration,
        tunnels: TunnelRegistry, commandObserver: (any CommandObserver)? = nil
    ) {
        self.host = host
        self.connection = connection
        self.become = become
        self.commandTimeout = commandTimeout
        self.tunnels = tunnels
        self.commandObserver = commandObserver
    }

    public func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await execute(script, stdin: stdin, timeout: timeout)
    }

    public func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await execute(script, stdin: stdin, timeout: timeout)
    }

    public func stat(_ path: String) async throws -> FileInfo? {
        let result = try await execute("stat -c '%F|%a|%U|%G' -- \(Shell.quote(path)) 2>/dev/null || true", stdin: [], timeout: nil)
        return RemoteScripts.parseStat(result.stdoutText)
    }

    public func readFile(_ path: String) async throws -> RemoteFile? {
        let result = try await execute(RemoteScripts.readFile(path), stdin: [], timeout: nil)
        switch result.status {
        case 0: return try RemoteScripts.parseReadFile(result.stdout, path: path)
        case 4: return nil
        default: throw StepFailure("cannot read \(path)", detail: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Every read in one command: one round trip however many files the next steps look at.
    public func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] {
        guard reads.count > 1 else { return try await readEach(reads) }
        let boundary = "quorum-" + (0..<4).map { _ in String(UInt32.random(in: .min ... .max), radix: 16) }.joined()
        let result = try await execute(RemoteScripts.readBatch(reads, boundary: boundary), stdin: [], timeout: nil)
        return RemoteScripts.parseReadBatch(result.stdout, reads: reads, boundary: boundary)
    }

    public func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        let result = try await execute(
            RemoteScripts.writeFile(path, attributes: attributes, validate: validate),
            stdin: content, timeout: nil)
        try RemoteScripts.checkWrite(result, path: path)
    }

    public func tunnel(to destination: String, port: Int) async throws -> Int {
        do {
            return try await tunnels.port(to: destination, port: port, on: connection)
        } catch let error as SSHError {
            switch error.kind {
            case .forwardingRefused:
                throw StepFailure(
                    "\(host)'s sshd refuses TCP forwarding to \(destination):\(port) (AllowTcpForwarding, PermitOpen)",
                    detail: error.message)
            case .channelFailure:
                throw StepFailure(
                    "\(host) cannot connect to \(destination):\(port) (nothing listens there, or it is unreachable from \(host))",
                    detail: error.message)
            default: throw RemoteError(.unreachable, "\(host): \(error.message)")
            }
        }
    }

    /// Runs `script` with `/bin/sh`, as the become user when asked; maps transport errors. The observer, if
    /// any, is told how it ended.
    func execute(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        guard let commandObserver else { return try await send(script, stdin: stdin, timeout: timeout) }
        let clock = ContinuousClock()
        let start = clock.now
        var seen = RemoteCommand(host: host, script: script, becomeUser: become?.user, status: nil, duration: 0)
        defer {
            seen.duration = (clock.now - start).seconds
            commandObserver.commandFinished(seen)
        }
        do {
            let result = try await send(script, stdin: stdin, timeout: timeout)
            seen.status = result.status
            return result
        } catch {
            seen.error = String(describing: error)
            throw error
        }
    }

    private func send(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        let (command, input) = Become.wrap(script, stdin: stdin, become: become)
        do {
            let output = try await connection.run(command, stdin: input, timeout: timeout ?? commandTimeout)
            let result = CommandResult(stdout: output.stdout, stderr: output.stderr, status: output.exitStatus)
            if become?.password != nil, result.status == Become.refusedStatus {
                throw StepFailure("sudo refused the become password (ansible_become_password) for user \(become?.user ?? "root")")
            }
            if become != nil, result.status == 1, result.stderrText.contains("sudo: a password is required") {
                throw StepFailure("sudo needs a password: set ansible_become_password for \(host)")
            }
            return result
        } catch let error as SSHError {
            switch error.kind {
            case .commandTimeout: throw RemoteError(.timeout, "\(host): \(error.message)")
            default: throw RemoteError(.unreachable, "\(host): \(error.message)")
            }
        }
    }
}
