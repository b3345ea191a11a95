import OrderedCollections
import QuorumCore

/// Steps that need no other host (`StepSegment`, not a barrier): each host goes through them at its own pace, its
/// registered variables carried along, until it fails, is lost or the run is asked to stop; the results are folded
/// into the ledger in the order of the step-by-step run (step, then host), as soon as every host is past a step.
extension PlayRunner {
    /// What one host did at one step of the segment.
    enum HostStep: Sendable {
        case ran(StepExecution, interrupted: Bool)
        /// The stop request came before the host started the step.
        case notStarted

        /// The host's last step of the segment: it failed, was lost, or the run is stopping.
        var endsHost: Bool {
            guard case .ran(let execution, let interrupted) = self else { return true }
            return interrupted || execution.unreachable || execution.hostFailed
        }
    }

    /// One host's step, as its task reports it: `host` and `position` index the segment's hosts and steps.
    struct HostStepEvent: Sendable {
        var host: Int
        var position: Int
        var result: HostStep
    }

    /// Runs `steps` (a segment that is not a barrier) on the batch's active hosts, folding as they go.
    func runSegment(
        _ steps: [(index: Int, step: Step)], sessions: [String: any HostSession], scope: PlayScope,
        notified: inout [String: Set<String>], ledger: inout RunLedger
    ) async {
        let hosts = scope.hosts.filter { sessions[$0] != nil && ledger.isActive($0) }
        guard !hosts.isEmpty else { return }
        let peerSessions = PeerSessions(hosts: scope.hosts, sessions: sessions)
        let slots = options.forks.map { ForkSlots(limit: $0, hosts: hosts.count) }
        let (events, sink) = AsyncStream.makeStream(of: HostStepEvent.self)
        var progress = SegmentProgress(steps: steps.count, hosts: hosts.count)
        await withTaskGroup(of: Void.self) { group in
            for (hostIndex, host) in hosts.enumerated() {
                guard let session = sessions[host] else { continue }
                let registered = ledger.registered[host] ?? [:]
                group.addTask { [self] in
                    await runSteps(
                        steps, host: host, index: hostIndex, session: session, registered: registered, scope: scope,
                        peerSessions: peerSessions, slots: slots, report: sink)
                }
            }
            for await event in events {
                progress.add(event)
                while let position = progress.nextSettled() {
                    fold(position, of: steps, hosts: hosts, progress: progress, notified: &notified, ledger: &ledger)
                }
                if progress.isComplete { break }
            }
        }
        sink.finish()
    }

    /// One host through the segment's steps: a slot for each step under `--forks`, none started after a stop request.
    private func runSteps(
        _ steps: [(index: Int, step: Step)], host: String, index hostIndex: Int, session: any HostSession,
        registered: Variables, scope: PlayScope, peerSessions: PeerSessions, slots: ForkSlots?,
        report: AsyncStream<HostStepEvent>.Continuation
    ) async {
        var registered = registered
        let executor = makeExecutor()
        let readAhead = ReadAhead()
        for (position, (_, step)) in steps.enumerated() {
            await slots?.acquire(host: hostIndex)
            guard !interruption.isStopRequested else {
                await slots?.release(host: hostIndex, nextPosition: nil)
                report.yield(HostStepEvent(host: hostIndex, position: position, result: .notStarted))
                return
            }
            if readAhead.needsPlan(at: position) {
                planReadAhead(
                    readAhead, steps: steps, from: position, host: host, scope: scope, registered: registered,
                    executor: executor)
            }
            let target = makeTarget(
                step, host: host, session: session, scope: scope, registered: registered,
                isHandler: false, runOnce: false, peerSessions: peerSessions, readAhead: readAhead)
            let (guardedExecution, interrupted) = await guarded(executor, step, on: target)
            let execution = await recordPendingHandlers(guardedExecution, step: step, remote: target.remote)
            let result = HostStep.ran(execution, interrupted: interrupted)
            await slots?.release(host: hostIndex, nextPosition: !result.endsHost && position + 1 < steps.count ? position + 1 : nil)
            report.yield(HostStepEvent(host: hostIndex, position: position, result: result))
            guard !result.endsHost else { return }
            if let name = step.register { registered[name] = execution.registered }
        }
    }

    /// Folds every host's result of the step at `position`, in host order, as the step-by-step run does; a host
    /// stopped by the stop request is left the segment's steps it did not start.
    private func fold(
        _ position: Int, of steps: [(index: Int, step: Step)], hosts: [String], progress: SegmentProgress,
        notified: inout [String: Set<String>], ledger: inout RunLedger
    ) {
        let step = steps[position].step
        for (hostIndex, host) in hosts.enumerated() {
            var notStartedFrom: Int?
            switch progress.results[position][hostIndex] {
            case .ran(let execution, let interrupted):
                fold(execution, step: step, hosts: [host], notified: &notified, ledger: &ledger, interrupted: interrupted)
                if interrupted { notStartedFrom = position + 1 }
            case .notStarted: notStartedFrom = position
            case nil: break
            }
            if let notStartedFrom {
                ledger.leave(LeftUndone(play: play.name, steps: steps[notStartedFrom...].map { $0.step.name ?? $0.step.kind }), on: host)
            }
        }
    }
}

/// Which results of a segment are in, and which steps every host is past (done there, or never to run there):
/// those are folded, in order.
struct SegmentProgress {
    /// Per step, per host: what the host did there, nil while it has not (or never will).
    private(set) var results: [[PlayRunner.HostStep?]]
    /// Per host, the last position it reports, once known (it failed, was lost or stopped there).
    private var lastPosition: [Int?]
    /// The next position to fold.
    private var folded = 0

    init(steps: Int, hosts: Int) {
        results = Array(repeating: Array(repeating: nil, count: hosts), count: steps)
        lastPosition = Array(repeating: nil, count: hosts)
    }

    var isComplete: Bool { folded == results.count }

    mutating func add(_ event: PlayRunner.HostStepEvent) {
        results[event.position][event.host] = event.result
        if event.result.endsHost { lastPosition[event.host] = event.position }
    }

    /// The next position every host is past, to fold now; nil while a host is still on it.
    mutating func nextSettled() -> Int? {
        guard folded < results.count else { return nil }
        let position = folded
        for host in lastPosition.indices where results[position][host] == nil {
            guard let last = lastPosition[host], last < position else { return nil }
        }
        folded += 1
        return position
    }
}
