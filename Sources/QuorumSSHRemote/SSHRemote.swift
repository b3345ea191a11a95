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
    public init(host: String, connection: SSHConnection, become: BecomeSettings?, commandTimeout: Duration,
                tunnels: TunnelRegistry, commandObserver: (any CommandObserver)? = nil) {
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

    public func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        let result = try await execute(RemoteScripts.writeFile(path, attributes: attributes, validate: validate),
                                       stdin: content, timeout: nil)
        try RemoteScripts.checkWrite(result, path: path)
    }

    public func tunnel(to destination: String, port: Int) async throws -> Int {
        do {
            return try await tunnels.port(to: destination, port: port, on: connection)
        } catch let error as SSHError {
            switch error.kind {
            case .forwardingRefused:
                throw StepFailure("\(host)'s sshd refuses TCP forwarding to \(destination):\(port) (AllowTcpForwarding, PermitOpen)",
                                  detail: error.message)
            case .channelFailure:
                throw StepFailure("\(host) cannot connect to \(destination):\(port) (nothing listens there, or it is unreachable from \(host))",
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

/// Wraps scripts in `/bin/sh -c` and, for `become`, sudo. With a password, the password is the first line
/// of stdin, read by the shell's builtin `read`: it never appears in a command line (`ps`). If sudo needs no
/// password the command runs with `sudo -n`; otherwise the password is checked once (`sudo -S … true`) and
/// then given again, ahead of the real stdin, to the sudo that runs the command. (sudo's credential cache
/// cannot be relied on between two invocations without a terminal.)
enum Become {
    static let refusedStatus: Int32 = 97

    static func wrap(_ script: String, stdin: [UInt8], become: BecomeSettings?) -> (String, [UInt8]) {
        guard let become else { return ("/bin/sh -c " + Shell.quote(script), stdin) }
        let user = Shell.quote(become.user)
        let command = "/bin/sh -c \(Shell.quote(script))"
        guard let password = become.password else { return ("sudo -n -H -u \(user) -- \(command)", stdin) }
        let outer = """
        IFS= read -r quorum_become || exit \(refusedStatus)
        if sudo -n -u \(user) true 2>/dev/null; then unset quorum_become; exec sudo -n -H -u \(user) -- \(command); fi
        printf '%s\\n' "$quorum_become" | sudo -S -p '' -u \(user) true 2>/dev/null || exit \(refusedStatus)
        { printf '%s\\n' "$quorum_become"; unset quorum_become; exec cat; } | sudo -S -p '' -H -u \(user) -- \(command)
        """
        return ("/bin/sh -c " + Shell.quote(outer), Array((password + "\n").utf8) + stdin)
    }
}

/// The shell scripts behind `stat`, `readFile` and `writeFile`, and the parsing of what they print.
enum RemoteScripts {
    static func parseStat(_ text: String) -> FileInfo? {
        let fields = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 4, let mode = Int(fields[1], radix: 8) else { return nil }
        let kind: FileInfo.Kind = switch fields[0] {
        case "regular file", "regular empty file": .file
        case "directory": .directory
        case "symbolic link": .link
        default: .other
        }
        return FileInfo(kind: kind, mode: mode, owner: String(fields[2]), group: String(fields[3]))
    }

    /// Prints `stat` on the first line, then the content; exit 4 when absent, 3 when not a regular file.
    static func readFile(_ path: String) -> String {
        """
        p=\(Shell.quote(path))
        if [ -f "$p" ]; then stat -L -c '%F|%a|%U|%G' -- "$p" && exec cat -- "$p"
        elif [ -e "$p" ]; then echo "$p is not a regular file" >&2; exit 3
        else exit 4; fi
        """
    }

    static func parseReadFile(_ bytes: [UInt8], path: String) throws -> RemoteFile {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")),
              let info = parseStat(String(decoding: bytes[..<newline], as: UTF8.self)) else {
            throw StepFailure("cannot read \(path): unexpected answer from the host")
        }
        return RemoteFile(content: Array(bytes[(newline + 1)...]), info: info)
    }

    /// Content on stdin into a 0600 temporary file beside `path`; owner and mode set; `validate` run on it;
    /// then renamed over `path`. The trap removes the temporary file on any failure.
    static func writeFile(_ path: String, attributes: FileAttributes, validate: String?) -> String {
        var lines = [
            "set -e",
            "p=\(Shell.quote(path))",
            "d=$(dirname -- \"$p\")",
            "[ -d \"$d\" ] || { echo \"directory $d does not exist\" >&2; exit 3; }",
            "t=$(mktemp \"$d/.quorum.XXXXXX\")",
            "trap 'rm -f -- \"$t\"' EXIT HUP INT TERM",
            "cat > \"$t\"",
            // Owner first, then exactly one chmod to the final mode: the file (possibly holding secrets) is
            // never readable by more users than the finished file is, not even for a moment.
            "if [ -e \"$p\" ]; then chown --reference=\"$p\" -- \"$t\"; fi",
        ]
        if attributes.owner != nil || attributes.group != nil {
            let spec = (attributes.owner ?? "") + (attributes.group.map { ":" + $0 } ?? "")
            lines.append("chown -- \(Shell.quote(spec)) \"$t\"")
        }
        if let mode = attributes.mode {
            lines.append("chmod \(String(mode, radix: 8)) \"$t\"")
        } else {
            lines.append("if [ -e \"$p\" ]; then chmod --reference=\"$p\" -- \"$t\"; else chmod 0644 \"$t\"; fi")
        }
        if let validate {
            let command = validate.replacingOccurrences(of: "%s", with: "\"$t\"")
            lines.append("if ! out=$( { \(command) ; } 2>&1 ); then printf '%s\\n' \"$out\" >&2; exit 5; fi")
        }
        lines.append("mv -f -- \"$t\" \"$p\"")
        lines.append("trap - EXIT HUP INT TERM")
        return lines.joined(separator: "\n")
    }

    static func checkWrite(_ result: CommandResult, path: String) throws {
        let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.status {
        case 0: return
        case 3: throw StepFailure("cannot write \(path)", detail: detail)
        case 5: throw StepFailure("validation failed, \(path) left unchanged", detail: detail)
        default: throw StepFailure("writing \(path) failed (exit \(result.status))", detail: detail)
        }
    }
}

/// The tunnels of one SSH session, one per destination, opened on first use and closed with the session.
public actor TunnelRegistry {
    private var tunnels: [String: SSHTunnel] = [:]

    public init() {}

    func port(to host: String, port: Int, on connection: SSHConnection) async throws -> Int {
        let key = "\(host):\(port)"
        if let tunnel = tunnels[key] { return tunnel.localPort }
        let tunnel = try await connection.openTunnel(toHost: host, port: port)
        tunnels[key] = tunnel
        return tunnel.localPort
    }

    public func closeAll() async {
        for tunnel in tunnels.values { await tunnel.close() }
        tunnels.removeAll()
    }
}
