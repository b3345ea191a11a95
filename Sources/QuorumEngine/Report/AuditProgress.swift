import Foundation
import QuorumCore

/// What `quorum audit` shows while it runs: nothing on stdout (which carries only the report), and on a
/// terminal's stderr the live status line (hosts, their steps, elapsed time), erased at the end.
public final class AuditProgress: RunObserver, Sendable {
    private let output: ConsoleOutput

    public init(output: ConsoleOutput) {
        self.output = output
    }

    public func playStarted(name: String, hosts: [String], check: Bool) {}

    public func stepStarted(host: String, step: String) {
        output.started(host: host, step: step)
    }

    public func stepFinished(_ report: StepReport) {
        output.finished(host: report.host)
    }

    public func hostUnreachable(host: String, play: String, reason: String) {}
    public func playStopped(name: String, reason: String) {}

    public func runFinished(_ summary: RunSummary) {
        output.stop()
    }
}
