import ArgumentParser
import Foundation

@main
struct Quorum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum",
        abstract: "Deploy and audit highly-available OpenStack control planes over SSH.",
        discussion: """
        Exit codes: 0 success (no drift), 1 usage or validation error (nothing contacted), 2 a step failed,
        3 a host was unreachable, 4 check or audit found drift, 130 interrupted (SIGINT, SIGTERM).
        """,
        version: QuorumVersion.line,
        subcommands: [ApplyCommand.self, AuditCommand.self, ValidateCommand.self, InventoryCommand.self, DocCommand.self, VaultCommand.self]
    )
}

extension Quorum {
    /// argument-parser's own `main`, except that a command-line error (unknown option, missing argument) exits
    /// 1, the status Quorum documents for every input error found before a host is contacted, instead of the
    /// library's 64. The message is the library's, usage included.
    static func main() async {
        if InterruptSignals.applies(to: CommandLine.arguments) { InterruptSignals.install() }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
