import Foundation
import QuorumCore

/// `command`: runs a shell command on the host, unless `creates` already exists or `removes` does not.
/// Always `changed` when it runs; in check mode it is not run and reported as would-change.
public struct CommandStep: StepKind {
    public static let name = "command"
    public static let summary = "Run a shell command (skipped when `creates` exists or `removes` does not)"
    public static let schema = ArgSchema(
        [
            ArgField("cmd", .string, required: true, "the command, run by the host's shell"),
            ArgField("creates", .string, "a path: when it exists, the command is not run"),
            ArgField("removes", .string, "a path: when it does not exist, the command is not run"),
            ArgField("chdir", .string, "directory to run the command in"),
            ArgField("stdin", .string, "text given to the command's standard input"),
        ],
        freeForm: "cmd"
    )

    let cmd: String
    let creates: String?
    let removes: String?
    let chdir: String?
    let stdin: String?

    public init(arguments: Arguments) throws {
        cmd = try arguments.requiredString("cmd")
        creates = try Self.nonEmpty(arguments, "creates")
        removes = try Self.nonEmpty(arguments, "removes")
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

    public func run(_ context: StepContext) async throws -> StepOutcome {
        if let creates, try await context.remote.stat(resolve(creates)) != nil {
            return Self.notRun("\(creates) exists")
        }
        if let removes, try await context.remote.stat(resolve(removes)) == nil {
            return Self.notRun("\(removes) does not exist")
        }
        if context.check {
            return StepOutcome(changed: true, message: "would run", unchecked: "a command is not run in check mode")
        }

        let run = try await context.remote.change(script, stdin: Array((stdin ?? "").utf8), timeout: nil)
        let registered = Self.result(rc: Int(run.status), stdout: run.stdoutText, stderr: run.stderrText).result
        guard run.succeeded else {
            let stderr = run.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw StepFailure("command exited with status \(run.status)", detail: stderr.isEmpty ? nil : stderr, result: registered)
        }
        var outcome = StepOutcome(changed: true, message: "ran")
        outcome.result = registered
        return outcome
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
            .list(text.isEmpty ? [] : text.split(omittingEmptySubsequences: false,
                                                 whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { .string(String($0)) })
        }
        let out = trimmed(stdout), err = trimmed(stderr)
        var outcome = StepOutcome.unchanged
        outcome.result["rc"] = .int(rc)
        outcome.result["stdout"] = .string(out)
        outcome.result["stderr"] = .string(err)
        outcome.result["stdout_lines"] = lines(out)
        outcome.result["stderr_lines"] = lines(err)
        return outcome
    }
}
