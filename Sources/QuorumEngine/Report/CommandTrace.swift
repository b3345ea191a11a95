import Foundation
import QuorumCore

/// `-vv`: each remote command as sent (the script, before the `sh -c`/sudo wrapping), then its exit status and
/// duration, per host, secrets masked. Printed when the command ends, as one block, so hosts never interleave.
/// What a host's SSH session says beside (a tunnel opened, the session lost) comes as one line of its own.
public struct CommandTrace: CommandObserver {
    let output: ConsoleOutput
    let redactor: SecretRedactor

    public init(output: ConsoleOutput, redactor: SecretRedactor) {
        self.output = output
        self.redactor = redactor
    }

    public func commandFinished(_ command: RemoteCommand) {
        output.line(text(command))
    }

    public func connectionNote(host: String, _ message: String) {
        output.line("      \(host): " + redactor.redact(message))
    }

    func text(_ command: RemoteCommand) -> String {
        let prompt = "      \(command.host)" + (command.becomeUser.map { " (sudo -u \($0))" } ?? "") + " $ "
        let indent = String(repeating: " ", count: prompt.count)
        let script = redactor.redact(command.script).split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\n" + indent)
        let ending = command.status.map { "exit \($0)" } ?? redactor.redact(command.error ?? "no exit status")
        return prompt + script + "\n" + indent + "→ " + ending + String(format: ", %.2fs", command.duration)
    }
}
