import Foundation
import QuorumCore
import Synchronization

/// What `quorum audit` shows while it runs: nothing on stdout (which carries only the report), and on a
/// terminal's stderr one line that counts the steps probed, erased at the end.
public final class AuditProgress: RunObserver, Sendable {
    private let enabled: Bool
    private let count = Mutex(0)

    public init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    public func playStarted(name: String, hosts: [String], check: Bool) {}

    public func stepFinished(_ report: StepReport) {
        guard enabled else { return }
        let n = count.withLock { value in
            value += 1
            return value
        }
        write("\r\u{1B}[Kaudit: \(n) step\(n == 1 ? "" : "s") probed, last \(report.host): \(report.step)".prefix(200))
    }

    public func hostUnreachable(host: String, play: String, reason: String) {}
    public func playStopped(name: String, reason: String) {}

    public func runFinished(_ summary: RunSummary) {
        if enabled { write("\r\u{1B}[K") }
    }

    private func write(_ text: some StringProtocol) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
