import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine

/// `quorum apply`: run playbooks against the inventory (or predict with `--check`).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply playbooks to the inventory's hosts (with --check: predict, write nothing)."
    )

    @OptionGroup var common: RunArguments

    @Flag(help: "Check mode: run the probes, write nothing, report what would change.")
    var check = false

    @Flag(help: "Show diffs of files and options (secrets masked).")
    var diff = false

    @Option(help: "Write every result as one JSON document to this file (- for stdout).")
    var json: String?

    @Flag(name: .shortAndLong, help: "Say more about each step; -vv also shows every remote command (secrets masked).")
    var verbose: Int

    @OptionGroup var console: ConsoleOptions

    func run() async throws {
        let redactor = SecretRedactor()
        let reporter = ConsoleReporter(showDiff: diff, verbosity: verbose, output: console.output(STDOUT_FILENO), redactor: redactor)
        let summary = try await common.run(check: check, diff: diff, observer: reporter, redactor: redactor)
        if let json {
            try JSONReport(command: RunArguments.commandLine(redactor), summary: summary).write(to: json)
        }
        if summary.exitStatus != .success { throw ExitCode(summary.exitStatus.rawValue) }
    }
}
