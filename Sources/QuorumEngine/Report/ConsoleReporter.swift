import Foundation
import QuorumCore
import Synchronization

/// Prints a line per step per host as results arrive, diffs when asked, and a recap per host at the end, on the
/// stream its `ConsoleOutput` writes (stderr when stdout carries a document: `apply --format json|junit`); on a
/// terminal, the live status line while steps run; with `-vv`, every remote command.
public final class ConsoleReporter: RunObserver, Sendable {
    private let showDiff: Bool
    private let color: Bool
    private let verbose: Bool
    private let output: ConsoleOutput
    public let commandObserver: (any CommandObserver)?
    /// Findings already printed, per host: three `ini` steps on one file name each finding once.
    private let warned = Mutex<Set<String>>([])

    /// `verbosity` 1 (`-v`) adds each step's note and skip reason; 2 (`-vv`) also every remote command, masked
    /// by `redactor`.
    public init(showDiff: Bool, verbosity: Int = 0, output: ConsoleOutput, redactor: SecretRedactor? = nil) {
        self.showDiff = showDiff
        self.color = output.traits.color
        self.verbose = verbosity >= 1
        self.output = output
        commandObserver = verbosity >= 2 ? redactor.map { CommandTrace(output: output, redactor: $0) } : nil
    }

    /// Plain lines on stdout, coloured or not (tests).
    public convenience init(showDiff: Bool, verbose: Bool = false, color: Bool) {
        self.init(
            showDiff: showDiff, verbosity: verbose ? 1 : 0,
            output: ConsoleOutput(stream: STDOUT_FILENO, traits: ConsoleTraits(isTTY: false, color: color, live: false)))
    }

    public func playStarted(name: String, hosts: [String], check: Bool) {
        let mode = check ? " [check mode: nothing is written]" : ""
        emit("\n" + paint("PLAY \(name)", .bold) + " — \(hosts.isEmpty ? "no hosts match" : hosts.joined(separator: ", "))\(mode)")
    }

    public func stepStarted(host: String, step: String) {
        output.started(host: host, step: step)
    }

    public func stepFinished(_ report: StepReport) {
        output.finished(host: report.host)
        emit(stepText(report))
    }

    /// The words the first column can hold, and its width: the longest word and two spaces, so a word never
    /// runs into the host name (`unreachable  ctl3`, not `unreachablectl3`).
    static let columnWords = Outcome.allCases.map(\.rawValue) + ["stopped", "interrupted", "unhealthy"]
    static let columnWidth = (columnWords.map(\.count).max() ?? 11) + 2

    static func column(_ word: String) -> String {
        word.padding(toLength: max(columnWidth, word.count + 2), withPad: " ", startingAt: 0)
    }

    func stepText(_ report: StepReport) -> String {
        var word = report.outcome.rawValue
        if report.outcome == .changed && report.isHandlerOrCheck(checkWord: false) { word = "changed" }
        if report.unhealthy { word = "unhealthy" }
        if report.outcome == .failed, report.error?.hasPrefix("interrupted") == true { word = "interrupted" }
        let style: Style =
            switch report.outcome {
            case .ok: .green
            case .changed: .yellow
            case .skipped: .cyan
            case .failed, .unreachable: .red
            }
        var line = "  " + paint(Self.column(word), style)
        line += report.host.padding(toLength: max(8, report.host.count + 2), withPad: " ", startingAt: 0)
        line += (report.isHandler ? "handler: " : "") + report.step
        if let items = report.items { line += " (\(items) items)" }
        if report.runOnce { line += " [run once]" }
        line += String(format: "  %.2fs", report.duration)
        if let reason = report.skipReason, verbose || report.outcome == .skipped && !reason.hasPrefix("condition false") {
            line += "  — \(reason)"
        }
        if let message = report.message, verbose { line += "  — \(message)" }
        var text = line
        if let error = report.error {
            let label = report.outcome == .unreachable ? "unreachable" : report.unhealthy ? "unhealthy" : "error"
            text +=
                "\n" + paint("      \(label): \(report.host), step \"\(report.step)\" (\(report.location)): ", .red)
                + error.replacingOccurrences(of: "\n", with: "\n      ")
            if report.ignored { text += paint(" (ignored)", .cyan) }
        }
        if showDiff {
            for diff in report.diffs { text += "\n" + render(diff) }
        }
        for finding in report.findings where warned.withLock({ $0.insert(report.host + "\u{0}" + finding.key).inserted }) {
            text += "\n" + paint("      \(finding.severity.rawValue): \(finding.file): \(finding.message)", .yellow)
        }
        return text
    }

    public func hostUnreachable(host: String, play: String, reason: String) {
        // Reported through the step line for mid-run failures; connection failures print here.
        if !reason.isEmpty { emit("  " + paint(Self.column("unreachable"), .red) + "\(host)  \(reason)") }
    }

    public func playStopped(name: String, reason: String) {
        emit("  " + paint(Self.column("stopped"), .red) + "\(name): \(reason)")
    }

    public func runFinished(_ summary: RunSummary) {
        output.stop()
        emit(recapText(summary))
    }

    func recapText(_ summary: RunSummary) -> String {
        var text = "\n" + paint("RECAP", .bold)
        if let interruption = summary.interruption {
            text += paint(" — interrupted (\(interruption.reason)): no step was started after the stop request", .red)
        }
        text += summary.check ? " (check mode: `changed` means would change)" : ""
        let width = (summary.hosts.map(\.count).max() ?? 4) + 2
        for host in summary.hosts {
            let r = summary.recap[host] ?? HostRecap()
            var line = "  " + host.padding(toLength: width, withPad: " ", startingAt: 0)
            line += paint("ok=\(r.ok)", .green) + "  " + paint("changed=\(r.changed)", r.changed > 0 ? .yellow : .plain)
            line += "  " + paint("failed=\(r.failed)", r.failed > 0 ? .red : .plain)
            line += "  skipped=\(r.skipped)  " + paint("unreachable=\(r.unreachable)", r.unreachable > 0 ? .red : .plain)
            if r.ignored > 0 { line += "  ignored=\(r.ignored)" }
            if r.unhealthy > 0 { line += "  " + paint("unhealthy=\(r.unhealthy)", .red) }
            text += "\n" + line
            for left in summary.interruption?.leftUndone[host] ?? [] {
                text += "\n" + paint("      left undone in \"\(left.play)\": ", .yellow) + left.description
            }
        }
        if let interruption = summary.interruption, interruption.leftUndone.isEmpty {
            text += "\n  nothing was left undone"
        }
        text += String(format: "\n  %.2fs, exit %d", summary.duration, summary.exitStatus.rawValue)
        return text
    }

    func render(_ diff: Diff) -> String {
        DiffText.lines(diff).map { line in
            let text = "      " + line.text
            switch line.kind {
            case .added: return paint(text, .green)
            case .removed: return paint(text, .red)
            case .plain: return text
            }
        }.joined(separator: "\n")
    }

    enum Style: String {
        case plain = "", bold = "1", red = "31", green = "32", yellow = "33", cyan = "36"
    }

    func paint(_ text: String, _ style: Style) -> String {
        Self.paint(text, style, color: color)
    }

    /// `text` in `style` when `color`, else as it is.
    static func paint(_ text: String, _ style: Style, color: Bool) -> String {
        guard color, style != .plain else { return text }
        return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
    }

    func emit(_ text: String) {
        output.line(text)
    }
}

extension StepReport {
    func isHandlerOrCheck(checkWord: Bool) -> Bool { isHandler && checkWord }
}
