import Foundation
import OrderedCollections
import QuorumCore

/// `command`: runs a shell command on the host, unless `creates` already exists, `removes` does not, or the
/// `unless` probe says the work is already done. Always `changed` when it runs.
///
/// `unless` (like puppet exec's) is a read-only command run by the host's shell, in `chdir` when given. It is
/// read-only by contract, so check mode runs it too, like every step's probe, and predicts exactly. Its exit status:
/// - 0: the desired state holds. The command is not run, and the step is `ok` in apply and check mode alike.
/// - 1: it does not hold. Apply runs the command; check mode reports "would run" as a prediction (an audit's
///   drift), not as unchecked.
/// - 3: the probe cannot tell now, because something it reads is missing, typically what an earlier step of the
///   run creates and check mode only plans (a configuration file, a database account). Check mode reports
///   "would run" as unchecked (an audit lists it as not audited, with the probe's message). In apply the earlier
///   steps have run, so it is a failure.
/// - anything else (2 is "trouble" for grep, diff, cmp and test; 126/127 not executable or not found; a signal):
///   the probe failed. The step fails with the status and the probe's stderr, and the command is not run.
/// Puppet runs the command on any non-zero status. Here only 1 runs it, so a mistyped or crashing probe cannot
/// run a guarded (often non-idempotent) command on every apply, nor show as drift in every audit. A probe that
/// exits 1 on trouble must map its errors to 2 (Python exits 1 on an uncaught exception).
///
/// Cheapest first: `creates`, then `removes` (one `stat` each), then `unless` (one command): a command whose
/// probe succeeds costs one round trip. In check mode a command that would run has not run, so `rc`, `stdout`
/// and `stderr` are not registered: a `changed_when` that reads them should count them undefined as a change
/// (`r.stdout is undefined or 'Running upgrade' in r.stdout`), or check mode predicts `ok` where apply changes.
public struct CommandStep: StepKind {
    public static let name = "command"
    public static let summary = "Run a shell command (not when `creates` exists, `removes` does not, or the `unless` probe succeeds)"
    public static let schema = ArgSchema(
        [
            ArgField("cmd", .string, required: true, "the command, run by the host's shell"),
            ArgField("creates", .string, "a path: when it exists, the command is not run"),
            ArgField("removes", .string, "a path: when it does not exist, the command is not run"),
            ArgField(
                "unless", .string,
                "a read-only probe command, run by the host's shell in `chdir`, also in check mode: exit 0 = done, "
                    + "the command is not run; 1 = run it (check: would run); 3 = cannot tell yet (check: not audited; "
                    + "apply: failure); other = the probe failed"),
            ArgField("chdir", .string, "directory to run the command (and `unless`) in"),
            ArgField("stdin", .string, "text given to the command's standard input")
        ],
        freeForm: "cmd"
    )

    let cmd: String
    let creates: String?
    let removes: String?
    let unless: String?
    let chdir: String?
    let stdin: String?

    public init(checked arguments: Arguments) throws {
        cmd = try arguments.requiredString("cmd")
        creates = try Self.nonEmpty(arguments, "creates")
        removes = try Self.nonEmpty(arguments, "removes")
        unless = try Self.nonEmpty(arguments, "unless")
        chdir = try Self.nonEmpty(arguments, "chdir")
        stdin = try arguments.string("stdin")
    }

    private static func nonEmpty(_ arguments: Arguments, _ name: String) throws -> String? {
        guard let value = try arguments.string(name) else { return nil }
        guard !value.isEmpty else { throw StepFailure("argument `\(name)` must not be empty") }
        return value
    }

    /// The script the shell runs: `cd` first (stopping if it fails), then the command as written.
    var script: String {
        guard let chdir else { return cmd }
        return "cd -- \(Shell.quote(chdir)) || exit 1\n" + cmd
    }

    /// The `unless` probe's script: in `chdir` like the command; a directory that is not there (yet) means the
    /// probe cannot tell (3).
    func probeScript(_ probe: String) -> String {
        guard let chdir else { return probe }
        return "cd -- \(Shell.quote(chdir)) || exit 3\n" + probe
    }

    /// The first path `run` looks at: `removes` only counts when `creates` is absent.
    public var plannedReads: [RemoteRead] {
        if let creates { return [.stat(resolve(creates))] }
        if let removes { return [.stat(resolve(removes))] }
        return []
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        if let creates, try await context.remote.stat(resolve(creates)) != nil {
            return Self.notRun("\(creates) exists")
        }
        if let removes, try await context.remote.stat(resolve(removes)) == nil {
            return Self.notRun("\(removes) does not exist")
        }
        if let unless {
            let probe = try await context.remote.probe(probeScript(unless), stdin: [], timeout: nil)
            let said = Self.firstLine(probe.stdoutText) ?? Self.firstLine(probe.stderrText)
            let quoted = said.map { ": \($0)" } ?? ""
            switch probe.status {
            case 0:
                return Self.notRun("`unless` probe succeeded" + quoted)
            case 1 where context.check:
                return StepOutcome(changed: true, message: "would run: `unless` probe exited 1" + quoted)
            case 1:
                break
            case 3 where context.check:
                return StepOutcome(
                    changed: true, message: "would run",
                    unchecked: "`unless` probe cannot tell yet (exit 3)" + quoted)
            case 3:
                throw StepFailure("`unless` probe cannot tell (exit 3); the command was not run", detail: Self.output(probe))
            default:
                let how = probe.status < 0 ? "was killed by a signal" : "failed with exit status \(probe.status)"
                throw StepFailure("`unless` probe \(how); the command was not run", detail: Self.output(probe))
            }
        } else if context.check {
            return StepOutcome(changed: true, message: "would run", unchecked: "a command is not run in check mode")
        }

        let run = try await context.remote.change(script, stdin: Array((stdin ?? "").utf8), timeout: nil)
        let registered = Self.result(rc: Int(run.status), stdout: run.stdoutText, stderr: run.stderrText).result
        guard run.succeeded else {
            throw StepFailure("command exited with status \(run.status)", detail: Self.output(run), result: registered)
        }
        var outcome = StepOutcome(changed: true, message: "ran")
        outcome.result = registered
        return outcome
    }

    /// The first non-empty line of a probe's output, to quote in a message.
    private static func firstLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).lazy
            .map { String($0.trimmingCharacters(in: .whitespaces).prefix(300)) }.first { !$0.isEmpty }
    }

    /// What a failed probe or command said: its stderr, else its stdout (a command that ends `2>&1`).
    private static func output(_ result: CommandResult) -> String? {
        for text in [result.stderrText, result.stdoutText] {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        return nil
    }

    /// `creates`/`removes` relative to `chdir` when they are relative, as the command would see them.
    private func resolve(_ path: String) -> String {
        guard !path.hasPrefix("/"), let chdir else { return path }
        return chdir.hasSuffix("/") ? chdir + path : chdir + "/" + path
    }

    private static func notRun(_ reason: String) -> StepOutcome {
        var outcome = result(rc: 0, stdout: "", stderr: "")
        outcome.message = "not run: \(reason)"
        return outcome
    }

    /// An unchanged outcome carrying what `register:` stores: `rc`, `stdout`, `stderr` (trailing line breaks
    /// removed), `stdout_lines`, `stderr_lines`.
    private static func result(rc: Int, stdout: String, stderr: String) -> StepOutcome {
        func trimmed(_ text: String) -> String {
            var text = Substring(text)
            while let last = text.last, last == "\n" || last == "\r" || last == "\r\n" { text = text.dropLast() }
            return String(text)
        }
        func lines(_ text: String) -> Value {
            // "\r\n" is one Character in Swift.
            .list(
                text.isEmpty
                    ? []
                    : text.split(
                        omittingEmptySubsequences: false,
                        whereSeparator: { $0 == "\n" || $0 == "\r\n" }
                    ).map { .string(String($0)) })
        }
        let out = trimmed(stdout)
        let err = trimmed(stderr)
        var outcome = StepOutcome.unchanged
        outcome.result["rc"] = .int(rc)
        outcome.result["stdout"] = .string(out)
        outcome.result["stderr"] = .string(err)
        outcome.result["stdout_lines"] = lines(out)
        outcome.result["stderr_lines"] = lines(err)
        return outcome
    }
}
