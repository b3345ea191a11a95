import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine

/// `quorum audit`: a check-mode run (read-only, never a write) whose purpose is drift: a report per host
/// and step, findings (removed or deprecated options), and an exit code for cron and monitoring.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Report drift between the hosts and the playbooks, writing nothing.",
        discussion: """
            Exit codes: 0 no drift, 4 drift found (findings too with --strict), 5 a health check failed \
            (configuration as declared, service not working), 2 a probe failed, 3 a host unreachable \
            (3 wins over 2, 2 over 4, 4 over 5), 1 usage or validation error, 130 interrupted.
            """
    )

    @OptionGroup var common: RunArguments

    @Option(help: "Report format on stdout: table (default), json (schema quorum.audit/1) or junit (JUnit XML).")
    var format: ReportFormat = .table

    @Option(help: "Also write the JSON report (schema quorum.audit/1) to this file, whatever the format.")
    var json: String?

    @Flag(help: "Count findings (removed or deprecated options) as drift: exit 4.")
    var strict = false

    @OptionGroup var console: ConsoleOptions

    func validate() throws {
        if json == "-" { throw ValidationError("--json takes a file; use --format json for stdout") }
    }

    func run() async throws {
        if common.isListing { return try common.list() }
        let redactor = SecretRedactor()
        let summary = try await common.run(
            check: true, diff: true, observer: AuditProgress(output: console.output(STDERR_FILENO)),
            redactor: redactor)
        let report = AuditReport(summary: summary, command: RunArguments.commandLine(redactor), strict: strict)
        let document = try report.jsonData()
        if let json { try document.write(to: URL(fileURLWithPath: json), options: .atomic) }

        let output: Data
        switch format {
        case .table:
            output = Data(AuditTable(report, color: ConsoleTraits.of(STDOUT_FILENO, mode: console.color).color).render().utf8)
        case .json:
            output = document
        case .junit:
            output = Data(AuditJUnit(report: report, results: summary.reports).render().utf8)
        }
        FileHandle.standardOutput.write(output)
        if let interruption = summary.interruption {
            // The report covers what ran before the stop; say so apart from it (stdout may be a JSON document).
            var text = "quorum audit: interrupted (\(interruption.reason)): the report above is partial"
            for host in summary.hosts {
                for left in interruption.leftUndone[host] ?? [] { text += "\n  \(host): not audited in \"\(left.play)\": \(left)" }
            }
            Frontend.printError(text)
            throw ExitCode(ExitStatus.interrupted.rawValue)
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
