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
        subcommands: [ApplyCommand.self, AuditCommand.self, ExecCommand.self, ValidateCommand.self, InventoryCommand.self, DocCommand.self, VaultCommand.self]
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
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                // Help and --version are answers (stdout); everything else is an error (stderr).
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            }
            finish(code == .validationFailure ? 1 : code.rawValue)
        }
        finish(0)
    }

    /// Ends the process once everything is printed, without the C library's exit-time handlers: session
    /// threads (libssh2, libcurl, MariaDB's) may still be winding down when a command returns, and OpenSSL's
    /// cleanup at `exit` freeing what they still use crashed concurrent audits after their report was printed
    /// ("double free or corruption", seen in the lab). Nothing of Quorum's needs those handlers: files are
    /// written and closed, and temporary files removed, before a command returns.
    static func finish(_ status: Int32) -> Never {
        fflush(nil)  // every C stream (`print` goes through stdout's buffer)
        _exit(status)
    }
}
