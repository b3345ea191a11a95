import OrderedCollections
import QuorumCore

/// `wait_for`: waits, within a bound, until a TCP port is open or closed, a process runs or is gone, or a path
/// exists or not. The whole wait is ONE remote script (a loop in the host's shell), so a wait costs one round
/// trip however long it lasts. Never reports changed. In check mode the condition is tested once; if it does
/// not hold yet the step is skipped ("would wait for …"), since earlier steps may be what makes it true.
public struct WaitForStep: StepKind {
    public static let name = "wait_for"
    public static let summary = "Wait (bounded) for a port to open or close, a process to run or stop, a path to appear or go"
    public static let schema = ArgSchema(
        [
            ArgField("host", .string, "host whose port is checked, from the target (default 127.0.0.1)"),
            ArgField("port", .intRange(1...65535), "TCP port"),
            ArgField("process", .string, "process name (pgrep -x, at most 15 characters) or, with process_match: full, a command-line regex"),
            ArgField("process_match", .choice(["name", "full"]), "how `process` matches: name (default) or full command line"),
            ArgField("path", .string, "file or directory"),
            ArgField(
                "state", .choice(["open", "closed", "present", "absent", "started", "stopped"]), default: .string("started"),
                "open/present/started or closed/absent/stopped"),
            ArgField("timeout", .intRange(0...Int.max), default: .int(60), "seconds to keep checking after the delay"),
            ArgField("delay", .intRange(0...Int.max), default: .int(0), "seconds to wait before the first check"),
            ArgField("sleep", .intRange(1...Int.max), default: .int(1), "seconds between checks")
        ], mutuallyExclusive: [["port", "process", "path"]], oneRequired: [["port", "process", "path"]])

    public enum Target: Sendable, Equatable {
        case port(host: String, port: Int)
        case process(String, fullCommandLine: Bool)
        case path(String)
    }

    public let target: Target
    /// True: wait until open / running / present; false: until closed / gone / absent.
    public let wantPresent: Bool
    public let timeout: Int
    public let delay: Int
    public let sleep: Int

    public init(checked arguments: Arguments) throws {
        let given = ["port", "process", "path"].filter { arguments.has($0) }
        guard given.count == 1 else {
            throw StepFailure("give exactly one of `port`, `process` or `path`" + (given.isEmpty ? "" : ", got " + given.joined(separator: ", ")))
        }
        if let port = try arguments.int("port") {
            let host = try arguments.string("host") ?? "127.0.0.1"
            let hostOK =
                !host.isEmpty
                && host.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".:-_".unicodeScalars.contains($0)
                }
            guard hostOK else { throw StepFailure("argument `host` must be a host name or IP address, got `\(host)`") }
            target = .port(host: host, port: port)
        } else if let process = try arguments.string("process") {
            let full = try arguments.choice("process_match", ["name", "full"]) == "full"
            guard !process.isEmpty, !process.contains("\n"), !process.contains("\r") else {
                throw StepFailure("argument `process` must be a non-empty single line")
            }
            if !full, process.utf8.count > 15 {
                throw StepFailure(
                    "process name `\(process)` is longer than 15 characters, which `pgrep -x` never matches "
                        + "(the kernel truncates names); use `process_match: full` with a command-line pattern")
            }
            target = .process(process, fullCommandLine: full)
        } else {
            target = .path(try arguments.requiredString("path"))
        }
        if arguments.has("host"), !arguments.has("port") {
            throw StepFailure("argument `host` only applies to `port`")
        }
        let state = try arguments.value(arguments.string, "state")
        wantPresent = ["open", "present", "started"].contains(state)
        timeout = try arguments.value(arguments.int, "timeout")
        delay = try arguments.value(arguments.int, "delay")
        sleep = try arguments.value(arguments.int, "sleep")
    }

    /// What is awaited, for messages: "port 127.0.0.1:9511 to be open".
    public var awaited: String {
        switch target {
        case .port(let host, let port): return "port \(host):\(port) to be \(wantPresent ? "open" : "closed")"
        case .process(let name, let full):
            return "process " + (full ? "matching `\(name)`" : name) + (wantPresent ? " to be running" : " to stop")
        case .path(let path): return "\(path) to be \(wantPresent ? "present" : "absent")"
        }
    }

    /// What held, for the message of a successful wait: "port 127.0.0.1:9511 open".
    public var reached: String {
        switch target {
        case .port(let host, let port): return "port \(host):\(port) \(wantPresent ? "open" : "closed")"
        case .process(let name, let full):
            return "process " + (full ? "matching `\(name)`" : name) + (wantPresent ? " running" : " gone")
        case .path(let path): return "\(path) \(wantPresent ? "present" : "absent")"
        }
    }

    static let done = "__quorum_wait_done__"
    static let timedOut = "__quorum_wait_timeout__"
    static let error = "__quorum_wait_error__"

    /// The remote loop. A process pattern arrives on stdin, so it is in no command line (not even the waiting
    /// shell's, which `pgrep -f` would otherwise match).
    func script(timeout: Int, delay: Int) -> (script: String, stdin: [UInt8]) {
        var lines: [String] = []
        var stdin: [UInt8] = []
        var listRemaining = ""
        switch target {
        case .port(let host, let port):
            lines.append(
                "command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 || { echo \(WaitForStep.error) needs bash and timeout on the host; exit 2; }"
            )
            let connect = Shell.join(["timeout", "1", "bash", "-c", "exec 3<>\"/dev/tcp/$1/$2\"", "_", host, String(port)])
            lines.append("check() { \(connect) >/dev/null 2>&1; }")
        case .process(let pattern, let full):
            stdin = Array((pattern + "\n").utf8)
            let flag = full ? "-f" : "-x"
            lines.append("IFS= read -r pat || true")
            lines.append("command -v pgrep >/dev/null 2>&1 || { echo \(WaitForStep.error) needs pgrep on the host; exit 2; }")
            lines.append(
                "check() { pgrep \(flag) -- \"$pat\" >/dev/null 2>&1; rc=$?; if [ \"$rc\" -gt 1 ]; then echo \(WaitForStep.error) pgrep failed with exit $rc; exit 2; fi; [ \"$rc\" -eq 0 ]; }"
            )
            listRemaining = "pgrep -a \(flag) -- \"$pat\" 2>/dev/null || pgrep -l \(flag) -- \"$pat\" 2>/dev/null"
        case .path(let path):
            lines.append("check() { [ -e \(Shell.quote(path)) ]; }")
        }
        let holds = wantPresent ? "check" : "! check"
        if delay > 0 { lines.append("sleep \(delay)") }
        lines += [
            "begin=$(date +%s); deadline=$((begin + \(timeout)))",
            "while :; do",
            "  if \(holds); then echo \(WaitForStep.done) $(( $(date +%s) - begin )); exit 0; fi",
            "  [ \"$(date +%s)\" -ge \"$deadline\" ] && break",
            "  sleep \(sleep)",
            "done",
            "echo \(WaitForStep.timedOut)"
        ]
        if !wantPresent, !listRemaining.isEmpty { lines.append(listRemaining) }
        lines.append("exit 1")
        return (lines.joined(separator: "\n"), stdin)
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let timeout = context.check ? 0 : self.timeout
        let delay = context.check ? 0 : self.delay
        let (script, stdin) = script(timeout: timeout, delay: delay)
        let result = try await context.remote.probe(script, stdin: stdin, timeout: .seconds(timeout + delay + 30))
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        if let doneLine = lines.first(where: { $0.hasPrefix(WaitForStep.done) }) {
            let elapsed = Int(doneLine.dropFirst(WaitForStep.done.count + 1)) ?? 0
            return StepOutcome(
                changed: false, message: "\(reached) after \(elapsed)s",
                result: ["elapsed": .int(elapsed)])
        }
        if let errorLine = lines.first(where: { $0.hasPrefix(WaitForStep.error) }) {
            throw StepFailure("cannot wait for \(awaited): " + errorLine.dropFirst(WaitForStep.error.count + 1))
        }
        guard let marker = lines.firstIndex(of: WaitForStep.timedOut) else {
            throw StepFailure(
                "waiting for \(awaited) failed (exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
        if context.check {
            let reason = "would wait for \(awaited) (up to \(self.timeout)s)"
            return StepOutcome(changed: false, skippedReason: reason, unchecked: "not ready now; " + reason)
        }
        let remaining = lines[(marker + 1)...].joined(separator: "\n")
        throw StepFailure(
            "timed out after \(timeout)s waiting for \(awaited)",
            detail: remaining.isEmpty ? nil : "still running:\n" + remaining)
    }
}
