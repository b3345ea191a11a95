import OrderedCollections
import QuorumCore

/// Runs one play: picks its hosts, splits them into `serial` batches, runs the steps on the batch's hosts in
/// parallel, then the handlers. Each host goes through the steps that need no other host at its own pace; a step
/// that does (`StepSegment`) is a barrier, run by every host together once all are done with the steps before.
struct PlayRunner {
    let engine: Engine
    let play: Play
    let playbook: Playbook
    let pool: ConnectionPool
    let planned: PlannedObjects
    let cache: RunCache
    /// Handlers notified but not run yet, per host, kept on the hosts (durable handlers).
    let pending: PendingHandlers

    var options: RunOptions { engine.options }

    func run(into ledger: inout RunLedger) async {
        let hosts = selectHosts()
        engine.observer.playStarted(name: play.name, hosts: hosts, check: options.check)
        guard !hosts.isEmpty else { return }
        for host in hosts { ledger.see(host) }

        let scope: PlayScope
        do {
            scope = try PlayScope(engine: engine, play: play, playbook: playbook, hosts: hosts)
        } catch {
            // Variables that cannot be rendered fail the play on every host, naming the variable and where.
            for host in hosts where ledger.isActive(host) {
                ledger.record(failure(host: host, message: engine.redactor.redact(String(describing: error))))
                ledger.failed.insert(host)
            }
            return
        }
        var runOnceResults: [Int: Value] = [:]
        let allBatches = batches(of: hosts)
        for (batchIndex, batch) in allBatches.enumerated() {
            if interruption.isStopRequested {
                leaveRest(hosts: batch.filter(ledger.isActive), fromStep: 0, fromHandler: 0, notified: [:], into: &ledger)
                continue
            }
            // A rolling play (serial) stops after a batch with a failure: the next controllers are left as
            // they are rather than broken the same way.
            if batchIndex > 0, !play.serial.isEmpty,
                allBatches[batchIndex - 1].contains(where: { ledger.failed.contains($0) || ledger.unreachable[$0] != nil })
            {
                let rest = allBatches[batchIndex...].joined().joined(separator: ", ")
                engine.observer.playStopped(name: play.name, reason: "a host of the previous batch failed; not touched: \(rest)")
                break
            }
            let connected = await connect(batch.filter(ledger.isActive), scope: scope, ledger: &ledger)
            let sessions = await loadPendingHandlers(connected, scope: scope, ledger: &ledger)
            var notified: [String: Set<String>] = [:]
            for segment in segments() {
                if interruption.isStopRequested {
                    leaveRest(
                        hosts: batch.filter(ledger.isActive), fromStep: segment.steps[0].index, fromHandler: 0, notified: notified,
                        into: &ledger)
                    break
                }
                guard segment.isBarrier else {
                    await runSegment(segment.steps, sessions: sessions, scope: scope, notified: &notified, ledger: &ledger)
                    continue
                }
                let (index, step) = segment.steps[0]
                await runStep(
                    step, index: index, sessions: sessions, scope: scope, isHandler: false,
                    runOnceResults: &runOnceResults, notified: &notified, ledger: &ledger)
            }
            var handlerRunOnce: [Int: Value] = [:]  // a run_once handler runs once per batch that notified it
            for (offset, handler) in play.handlers.enumerated() {
                if interruption.isStopRequested {
                    leaveRest(
                        hosts: batch.filter(ledger.isActive), fromStep: play.steps.count, fromHandler: offset,
                        notified: notified, into: &ledger)
                    break
                }
                // Notified in this run, or left pending on the host by an earlier run that ended before it ran.
                let owed = await pendingRecords(of: handler, on: Array(sessions.keys))
                let hostsNotified = sessions.keys.filter { !(notified[$0] ?? []).isDisjoint(with: handler.topics) || owed[$0] != nil }
                guard !hostsNotified.isEmpty else { continue }
                let notifiedSet = Set(hostsNotified)
                let handlerSessions = sessions.filter { notifiedSet.contains($0.key) }
                let reportsBefore = ledger.reports.count
                // Peers: every host of the batch, not only the notified ones (a toggle waits on all controllers).
                await runStep(
                    handler, index: offset, sessions: handlerSessions, scope: scope, isHandler: true,
                    runOnceResults: &handlerRunOnce, notified: &notified, ledger: &ledger, peers: sessions, owed: owed)
                await clearPendingHandler(
                    handler, notified: hostsNotified, reports: ledger.reports[reportsBefore...],
                    sessions: sessions, scope: scope)
            }
        }
    }

    // MARK: steps

    func runStep(
        _ step: Step, index: Int, sessions: [String: any HostSession], scope: PlayScope, isHandler: Bool,
        runOnceResults: inout [Int: Value], notified: inout [String: Set<String>], ledger: inout RunLedger,
        peers: [String: any HostSession]? = nil, owed: [String: PendingHandler] = [:]
    ) async {
        // Other hosts of the play, for steps that coordinate controllers: the same for every host of the step.
        let peerSessions = PeerSessions(hosts: scope.hosts, sessions: peers ?? sessions)
        let active = scope.hosts.filter { sessions[$0] != nil && ledger.isActive($0) }
        guard !active.isEmpty else { return }
        let runOnce = runsOnce(step)
        let executor = makeExecutor()

        if runOnce {
            if let registered = runOnceResults[index] {
                // Already done in an earlier batch of this play: later hosts only see its result.
                if let name = step.register { for host in active { ledger.registered[host, default: [:]][name] = registered } }
                return
            }
            guard let host = active.first, let session = sessions[host] else { return }
            let target = makeTarget(
                step, host: host, session: session, scope: scope, registered: ledger.registered[host],
                isHandler: isHandler, runOnce: true, peerSessions: peerSessions)
            let (guardedExecution, interrupted) = await guarded(executor, step, on: target)
            var execution = await recordPendingHandlers(guardedExecution, step: step, remote: target.remote)
            // Run once for the play: the oldest record of any notified host says why.
            if let record = owed[host] ?? owed.values.min(by: { $0.time < $1.time }) { execution.notePending(record, check: options.check) }
            runOnceResults[index] = execution.registered
            fold(execution, step: step, hosts: active, notified: &notified, ledger: &ledger, interrupted: interrupted)
            return
        }

        let targets = active.compactMap { host in
            sessions[host].map {
                makeTarget(
                    step, host: host, session: $0, scope: scope, registered: ledger.registered[host],
                    isHandler: isHandler, runOnce: false, peerSessions: peerSessions)
            }
        }
        let interruption = self.interruption
        let executions = await concurrentMap(targets, limit: options.forks ?? targets.count) { [self] target -> (StepExecution, Bool)? in
            // With --forks, hosts wait for a slot: none starts once the run is asked to stop.
            guard !interruption.isStopRequested else { return nil }
            let (guardedExecution, interrupted) = await guarded(executor, step, on: target)
            var execution = await recordPendingHandlers(guardedExecution, step: step, remote: target.remote)
            if let record = owed[target.host] { execution.notePending(record, check: options.check) }
            return (execution, interrupted)
        }
        for (target, result) in zip(targets, executions) {
            guard let (execution, interrupted) = result else {
                let name = step.name ?? step.kind
                ledger.leave(
                    isHandler ? LeftUndone(play: play.name, steps: [], handlers: [name]) : LeftUndone(play: play.name, steps: [name]),
                    on: target.host)
                continue
            }
            fold(execution, step: step, hosts: [execution.report.host], notified: &notified, ledger: &ledger, interrupted: interrupted)
        }
    }

    /// Records one execution; for `run_once` its result (and a failure) applies to every host of the play. An
    /// execution cut short by a stop request is left undone on those hosts (the host is not marked failed).
    func fold(
        _ execution: StepExecution, step: Step, hosts: [String], notified: inout [String: Set<String>],
        ledger: inout RunLedger, interrupted: Bool = false
    ) {
        ledger.record(execution.report)
        engine.observer.stepFinished(execution.report)
        if interrupted {
            let name = execution.report.step + " (interrupted)"
            for host in hosts {
                ledger.leave(
                    execution.report.isHandler
                        ? LeftUndone(play: play.name, steps: [], handlers: [name])
                        : LeftUndone(play: play.name, steps: [name]), on: host)
            }
            return
        }
        let host = execution.report.host
        if execution.unreachable {
            ledger.unreachable[host] = execution.report.error ?? "unreachable"
            engine.observer.hostUnreachable(host: host, play: play.name, reason: execution.report.error ?? "")
            Task { [pool] in await pool.markUnreachable(host, reason: execution.report.error ?? "") }
            return
        }
        for target in hosts {
            if let name = step.register { ledger.registered[target, default: [:]][name] = execution.registered }
            if execution.hostFailed { ledger.failed.insert(target) }
        }
        if execution.report.outcome == .changed {
            notified[host, default: []].formUnion(step.notify)
        }
    }

    func makeExecutor() -> StepExecutor {
        StepExecutor(
            catalog: engine.catalog, templates: engine.templates, redactor: engine.redactor,
            check: options.check, diff: options.diff, planned: planned, cache: cache,
            secretNames: engine.secretNames)
    }

    /// `host`'s variables in the play, with what its earlier steps registered.
    func variables(of host: String, scope: PlayScope, registered: Variables?) -> Variables {
        var variables = scope.variables[host] ?? [:]
        for (name, value) in registered ?? [:] { variables[name] = value }
        return variables
    }

    /// The step's target on `host`: the play's variables for it, with what its earlier steps registered; its
    /// Remote serves the reads made ahead in `readAhead`, if given.
    func makeTarget(
        _ step: Step, host: String, session: any HostSession, scope: PlayScope, registered: Variables?,
        isHandler: Bool, runOnce: Bool, peerSessions: PeerSessions, readAhead: ReadAhead? = nil
    ) -> StepExecutor.Target {
        let variables = variables(of: host, scope: scope, registered: registered)
        let become = becomeSettings(step, variables: variables)
        // The step's context makes these read-only in check mode.
        @Sendable func view(_ session: any HostSession) -> any Remote { session.remote(become: become) }
        // Other hosts of the play, for steps that coordinate controllers (same become).
        let peers = peerSessions.sessions
        // A host of the play outside this batch (a rolling play drains a server on every controller's HAProxy) is
        // reached through the run's pool: the session it already has, or one made now.
        let pool = self.pool
        let planHosts = peerSessions.planHosts
        let hostVariables = scope.variables
        let peer: @Sendable (String) async throws -> any Remote = { name in
            if let peerSession = peers[name] { return view(peerSession) }
            guard planHosts.contains(name) else { throw StepFailure("\(name) is not a host of this play") }
            switch await pool.session(for: name, variables: hostVariables[name] ?? [:]) {
            case .connected(let peerSession): return view(peerSession)
            case .unreachable(let reason): throw StepFailure("\(name) is unreachable", detail: reason)
            }
        }
        return StepExecutor.Target(
            host: host, play: play, files: playbook.fileResolver,
            remote: readAhead.map { ReadAheadRemote(base: view(session), readAhead: $0, become: become) } ?? view(session),
            variables: variables, isHandler: isHandler, runOnce: runOnce,
            playHosts: scope.hosts, peer: peer)
    }

    /// The sessions of the play's hosts a step's host may reach (`peer`), and the play's hosts: built once per
    /// step, shared by every host's target.
    struct PeerSessions: Sendable {
        let sessions: [String: any HostSession]
        let planHosts: Set<String>

        init(hosts: [String], sessions: [String: any HostSession]) {
            self.sessions = hosts.reduce(into: [:]) { result, name in
                if let session = sessions[name] { result[name] = session }
            }
            planHosts = Set(hosts)
        }
    }

    /// `become` from the step (nil: the play's own), else the play, else the host's `ansible_become`.
    func becomeSettings(_ step: Step?, variables: Variables) -> BecomeSettings? {
        play.becomeSettings(step, variables: variables)
    }

    /// `run_once` as written, else the kind's default (shared services run once per play).
    func runsOnce(_ step: Step) -> Bool { step.runOnce ?? engine.catalog[step.kind]?.runsOncePerPlay ?? false }

    // MARK: hosts, batches, tags

    func selectHosts() -> [String] { engine.selection.hosts(of: play) }

    func batches(of hosts: [String]) -> [[String]] {
        guard !play.serial.isEmpty else { return [hosts] }
        var result: [[String]] = []
        var rest = hosts[...]
        var sizes = play.serial[...]
        var size = sizes.first?.size(of: hosts.count) ?? hosts.count
        while !rest.isEmpty {
            if let next = sizes.popFirst() { size = next.size(of: hosts.count) }
            result.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return result
    }

    func isSelected(_ step: Step) -> Bool { engine.selection.isSelected(step, in: play) }

    // MARK: connections

    func connect(_ hosts: [String], scope: PlayScope, ledger: inout RunLedger) async -> [String: any HostSession] {
        let pool = self.pool
        let results = await concurrentMap(hosts, limit: options.forks ?? hosts.count) { host in
            (host, await pool.session(for: host, variables: scope.variables[host] ?? [:]))
        }
        var sessions: [String: any HostSession] = [:]
        for (host, entry) in results {
            switch entry {
            case .connected(let session): sessions[host] = session
            case .unreachable(let reason):
                let reason = engine.redactor.redact(reason)
                if ledger.unreachable[host] == nil {
                    ledger.unreachable[host] = reason
                    ledger.record(
                        StepReport(
                            host: host, play: play.name, step: "connect", kind: "connect", outcome: .unreachable,
                            duration: 0, diffs: [], message: nil, error: reason, location: play.location.description,
                            isHandler: false, runOnce: false, ignored: false, items: nil, skipReason: nil))
                    engine.observer.hostUnreachable(host: host, play: play.name, reason: reason)
                }
            }
        }
        return sessions
    }

    func failure(host: String, message: String) -> StepReport {
        StepReport(
            host: host, play: play.name, step: "variables", kind: "vars", outcome: .failed, duration: 0, diffs: [],
            message: nil, error: message, location: play.location.description, isHandler: false, runOnce: false,
            ignored: false, items: nil, skipReason: nil)
    }
}

/// Runs `body` over `items` with at most `limit` at once, returning results in the items' order.
func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    guard !items.isEmpty else { return [] }
    let limit = max(1, limit)
    return await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        while next < min(limit, items.count) {
            let index = next
            group.addTask { (index, await body(items[index])) }
            next += 1
        }
        while let (index, result) = await group.next() {
            results[index] = result
            if next < items.count {
                let index = next
                group.addTask { (index, await body(items[index])) }
                next += 1
            }
        }
        return results.compactMap { $0 }
    }
}

extension Play {
    /// `become` from the step (nil: the play's own), else the play, else the host's `ansible_become`; the user
    /// likewise, else `ansible_become_user`, else root; the password from `ansible_become_password`.
    func becomeSettings(_ step: Step?, variables: Variables) -> BecomeSettings? {
        let hostBecome = variables["ansible_become"]?.isTruthy ?? false
        let enabled = step?.become?.enabled ?? become?.enabled ?? hostBecome
        guard enabled else { return nil }
        let user = step?.become?.user ?? become?.user ?? variables["ansible_become_user"]?.scalarText ?? "root"
        let password = (variables["ansible_become_password"] ?? variables["ansible_become_pass"])?.scalarText
        return BecomeSettings(user: user, password: password)
    }
}
