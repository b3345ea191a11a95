import Foundation
import OrderedCollections
import QuorumCore

/// What a play does once the run is asked to stop: start nothing more, give running steps a grace period, and
/// record per host what was left undone.
extension PlayRunner {
    var interruption: RunInterruption { engine.interruption }

    /// Runs one step on one host. Once the run is asked to stop, a step still running gets the interruption's
    /// grace period to end on its own (a critical section inside it finishes or undoes, whatever the time), then
    /// it is abandoned: cancelled, reported failed as interrupted, its remote command perhaps still running.
    /// Returns whether the step was cut short by the stop (then its host is not counted as failed).
    func guarded(_ executor: StepExecutor, _ step: Step, on target: StepExecutor.Target) async -> (StepExecution, Bool) {
        let interruption = self.interruption
        let name = executor.displayName(step, target.variables)
        engine.observer.stepStarted(host: target.host, step: (target.isHandler ? "handler: " : "") + engine.redactor.redact(name))
        let (execution, abandoned) =
            await withTaskGroup(of: StepExecution?.self) { group -> (StepExecution, Bool)? in
                group.addTask { await executor.execute(step, on: target) }
                group.addTask {
                    await interruption.stopRequested()
                    try? await Task.sleep(for: interruption.grace)
                    return nil
                }
                var abandoned = false
                while let next = await group.next() {
                    if let execution = next {
                        group.cancelAll()
                        return (execution, abandoned)
                    }
                    if !Task.isCancelled { abandoned = true }
                    group.cancelAll()
                }
                return nil
            } ?? (
                StepExecution(
                    report: Self.interruptedReport(target, step, "interrupted"), registered: .map([:]),
                    hostFailed: false, unreachable: false), true
            )
        guard interruption.isStopRequested, abandoned || execution.report.outcome == .failed else { return (execution, false) }
        var interrupted = execution
        interrupted.hostFailed = false
        interrupted.unreachable = false
        interrupted.report.outcome = .failed
        let own = execution.report.error ?? ""
        if own.hasPrefix("interrupted") {
            // The step's own account (a critical section finished or undone) says more than anything added here.
        } else if abandoned {
            interrupted.report.error =
                "interrupted: abandoned \(String(format: "%g", interruption.grace.seconds))s after the stop request; "
                + "a command it started may still be running on \(target.host)"
        } else {
            interrupted.report.error = "interrupted: " + (own.isEmpty ? "failed" : own)
        }
        return (interrupted, true)
    }

    static func interruptedReport(_ target: StepExecutor.Target, _ step: Step, _ error: String) -> StepReport {
        StepReport(
            host: target.host, play: target.play.name, step: step.name ?? step.kind, kind: step.kind, outcome: .failed,
            duration: 0, diffs: [], message: nil, error: error, location: step.location.description,
            isHandler: target.isHandler, runOnce: target.runOnce, ignored: false, items: nil, skipReason: nil)
    }

    /// After a stop request, for each of `hosts`: the selected steps from `fromStep` on were not started, and the
    /// handlers from `fromHandler` on that were notified for the host are pending.
    func leaveRest(hosts: [String], fromStep: Int, fromHandler: Int, notified: [String: Set<String>], into ledger: inout RunLedger) {
        let steps = play.steps.dropFirst(fromStep).filter(isSelected).map { $0.name ?? $0.kind }
        for host in hosts {
            let topics = notified[host] ?? []
            let handlers = play.handlers.dropFirst(fromHandler).filter { handler in
                !topics.isDisjoint(with: (handler.name.map { [$0] } ?? []) + handler.listen)
            }.map { $0.name ?? $0.kind }
            ledger.leave(LeftUndone(play: play.name, steps: steps, handlers: handlers), on: host)
        }
    }

    /// After a stop request, for a play that never started: every selected step, on every reachable host it targets.
    func leaveNotStarted(into ledger: inout RunLedger) {
        let steps = play.steps.filter(isSelected).map { $0.name ?? $0.kind }
        for host in selectHosts() where ledger.unreachable[host] == nil && !ledger.failed.contains(host) {
            ledger.leave(LeftUndone(play: play.name, steps: steps, playNotStarted: true), on: host)
        }
    }
}
