import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine

/// `quorum apply`: run playbooks against the inventory (or predict with `--check`; or plan, confirm, then apply
/// with `--confirm`).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply playbooks to the inventory's hosts (with --check: predict, write nothing).",
        discussion: """
            --confirm: a check first (diffs included), shown as the audit's drift table; on a terminal, \
            "Apply these changes? [y/N]" (--yes: no question). Exit 0 when nothing would change or the answer is \
            not y/yes (nothing applied); 4 when stdin is not a terminal and --yes is not given (nothing applied); the \
            check's own code when it failed (2) or found a host unreachable (3). After the apply, any (host, step) it \
            changed that the plan did not show, or planned and did not change, is listed.
            """
    )

    @OptionGroup var common: RunArguments

    @Flag(help: "Check mode: run the probes, write nothing, report what would change.")
    var check = false

    @Flag(help: "Show diffs of files and options (secrets masked).")
    var diff = false

    @Option(
        help:
            "Result format on stdout: table (the console lines, default), json (the --json document) or junit (JUnit XML); with json or junit the console lines go to stderr."
    )
    var format: ReportFormat = .table

    @Option(help: "Write every result as one JSON document to this file (- for stdout, with --format table only).")
    var json: String?

    @Flag(help: "Plan first: run the check, show what would change, and apply only once confirmed on the terminal.")
    var confirm = false

    @Flag(help: "With --confirm: apply the plan without asking (for scripts).")
    var yes = false

    @Flag(name: .shortAndLong, help: "Say more about each step; -vv also shows every remote command (secrets masked).")
    var verbose: Int

    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        if json == "-", format != .table {
            throw ValidationError(
                "--json - and --format \(format.rawValue) both want stdout; use --format json for the JSON document on stdout, or --json FILE")
        }
        if confirm, check { throw ValidationError("--confirm runs the check itself before applying; drop --check") }
        if yes, !confirm { throw ValidationError("--yes answers the question of --confirm; give --confirm --yes") }
    }

    func run() async throws {
        if common.isListing { return try common.list() }
        let redactor = SecretRedactor()
        let prepared = try common.prepare(redactor: redactor)
        let summary: RunSummary
        if confirm {
            guard let applied = try await planThenApply(prepared, redactor: redactor) else { return }
            summary = applied
        } else {
            summary = await prepared.run(check: check, diff: diff, observer: console(redactor))
        }
        try write(summary, redactor: redactor)
        if summary.exitStatus != .success { throw ExitCode(summary.exitStatus.rawValue) }
    }

    /// The console lines' printer (with -vv, every remote command, masked).
    func console(_ redactor: SecretRedactor) -> ConsoleReporter {
        ConsoleReporter(showDiff: diff, verbosity: verbose, output: consoleOptions.output(consoleStream), redactor: redactor)
    }

    /// Where the console lines go: stdout with the table format, else stderr (stdout holds the document).
    var consoleStream: Int32 { format == .table ? STDOUT_FILENO : STDERR_FILENO }

    /// `--confirm`: the plan, the decision, then the apply and how it compares with the plan. Nil when nothing
    /// was applied (the check's document is written and the reason said; a non-zero exit is thrown).
    func planThenApply(_ prepared: PreparedRun, redactor: SecretRedactor) async throws -> RunSummary? {
        let plan = await prepared.run(check: true, diff: true, observer: AuditProgress(output: consoleOptions.output(STDERR_FILENO)))
        let report = AuditReport(summary: plan, command: RunArguments.commandLine(redactor), strict: false)
        let color = ConsoleTraits.of(consoleStream, mode: consoleOptions.color).color
        say("PLAN (a check run: nothing is written until you confirm)\n" + AuditTable(report, color: color).render())
        let decision = ApplyConfirmation(yes: yes).decide(plan: report, interrupted: plan.interruption != nil)
        if let stop = decision.stop {
            try write(plan, redactor: redactor)
            Frontend.printError(stop.message)
            if stop.status != .success { throw ExitCode(stop.status.rawValue) }
            return nil
        }
        let applied = await prepared.run(check: false, diff: diff, observer: console(redactor))
        say("\n" + PlanComparison(plan: plan.reports, applied: applied.reports).render())
        return applied
    }

    /// Text for the operator, where the console lines go.
    func say(_ text: String) {
        (format == .table ? FileHandle.standardOutput : FileHandle.standardError).write(Data(text.utf8))
    }

    /// `--json FILE` (or `-`), and with `--format json|junit` the document on stdout.
    func write(_ summary: RunSummary, redactor: SecretRedactor) throws {
        let report = JSONReport(command: RunArguments.commandLine(redactor), summary: summary)
        if let json { try report.write(to: json) }
        switch format {
        case .table: break
        case .json: FileHandle.standardOutput.write(try report.data())
        case .junit: FileHandle.standardOutput.write(Data(ApplyJUnit(summary: summary).render().utf8))
        }
    }
}
