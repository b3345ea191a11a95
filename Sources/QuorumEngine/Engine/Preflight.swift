import Foundation
import OrderedCollections
import QuorumCore

/// Preflight: before the run's first write, a read-only pass over what it will need that can be known now —
/// each step's own checks (`StepKind.preflight`: an anchor rule, a Pacemaker resource, a database login, the
/// Keystone objects a step refers to…) and the plays' `preflight:` probes — on every host, with read-only
/// Remotes and check-mode contexts. Steps are taken in order within their lane (`StepKind.preflightLane`, the
/// lanes at once), so what an earlier step of the run creates is planned (its own `PlannedObjects`) and does
/// not fail a later one; failures are reported in playbook order. Handlers are checked too (they may run).
/// A step whose `when` is false now is left out; one whose `when`, loop or arguments depend on what the run
/// registers cannot be known now and is left to the run. Unreachable hosts are left to the run, which reports them.
struct Preflight {
    let engine: Engine
    let pool: ConnectionPool
    let cache: RunCache
    let pending: PendingHandlers
    let planned = PlannedObjects()

    /// Every failure, as a failed report per host and need, in playbook order.
    func run() async -> [StepReport] {
        var checks: [LaneWork<[StepReport]>] = []
        for playbook in engine.playbooks {
            for play in playbook.plays {
                checks += await self.checks(play, of: playbook)
            }
        }
        return await runInLanes(checks).flatMap { $0 }
    }

    /// The play's checks, each on every host it concerns, in their lanes (`StepKind.preflightLane`; the play's
    /// own probes share one). With `--forks`, which bounds the hosts worked on at once, all share one lane.
    func checks(_ play: Play, of playbook: Playbook) async -> [LaneWork<[StepReport]>] {
        let runner = PlayRunner(
            engine: engine, play: play, playbook: playbook, pool: pool, planned: planned, cache: cache,
            pending: pending)
        let hosts = runner.selectHosts()
        // Variables that cannot be rendered fail the play itself, with their location: the run reports them.
        guard !hosts.isEmpty, let scope = try? PlayScope(engine: engine, play: play, playbook: playbook, hosts: hosts) else { return [] }
        let entries = await concurrentMap(hosts, limit: engine.options.forks ?? hosts.count) { [pool] host in
            (host, await pool.session(for: host, variables: scope.variables[host] ?? [:]))
        }
        let sessions = entries.reduce(into: [String: any HostSession]()) { sessions, pair in
            if case .connected(let session) = pair.1 { sessions[pair.0] = session }
        }
        let reachable = hosts.filter { sessions[$0] != nil }
        let limit = engine.options.forks ?? reachable.count
        let oneLane = engine.options.forks != nil
        var checks: [LaneWork<[StepReport]>] = []
        for probe in play.preflight {
            checks.append(
                LaneWork(lane: oneLane ? "" : "play preflight") {
                    await concurrentMap(reachable, limit: limit) { host in
                        await check(probe, on: host, session: sessions[host], scope: scope, runner: runner)
                    }.compactMap { $0 }
                })
        }
        for step in play.steps.filter(runner.isSelected) + play.handlers {
            let targets = runner.runsOnce(step) ? Array(reachable.prefix(1)) : reachable
            let lane = engine.catalog[step.kind].map { $0.preflightLane } ?? step.kind
            checks.append(
                LaneWork(lane: oneLane ? "" : "step " + lane) {
                    await concurrentMap(targets, limit: limit) { host in
                        await check(step, on: host, session: sessions[host], scope: scope, runner: runner)
                    }.compactMap { $0 }
                })
        }
        return checks
    }

    /// A play's own probe on one host: its command must exit 0.
    func check(
        _ probe: PreflightCheck, on host: String, session: (any HostSession)?, scope: PlayScope,
        runner: PlayRunner
    ) async -> StepReport? {
        guard let session else { return nil }
        let variables = scope.variables[host] ?? [:]
        let name = "preflight: " + probe.displayName
        do {
            for condition in probe.when
            where !(try engine.templates.evaluate(condition.value, at: condition.location, variables: variables)) { return nil }
            let command = try engine.templates.render(probe.command, at: probe.location, variables: variables)
            let remote = ReadOnlyRemote(session.remote(become: runner.becomeSettings(nil, variables: variables)))
            let result = try await remote.probe(command)
            guard result.succeeded else {
                let output = (result.stderrText + result.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
                return failure(
                    host: host, play: runner.play, step: name, location: probe.location,
                    message: "the check failed (exit \(result.status))" + (output.isEmpty ? "" : ": " + output))
            }
            return nil
        } catch let error as RemoteError where error.kind == .unreachable {
            return nil
        } catch {
            return failure(host: host, play: runner.play, step: name, location: probe.location, message: String(describing: error))
        }
    }

    /// A step's own preflight on one host (each loop item), when the step can be known now.
    func check(_ step: Step, on host: String, session: (any HostSession)?, scope: PlayScope, runner: PlayRunner) async -> StepReport? {
        guard let session, let kind = engine.catalog[step.kind] else { return nil }
        let variables = scope.variables[host] ?? [:]
        let executor = StepExecutor(
            catalog: engine.catalog, templates: engine.templates, redactor: engine.redactor, check: true,
            diff: false, planned: planned, cache: cache, secretNames: engine.secretNames)
        // A condition that is false now: the step will not run. One that cannot be decided now: it may run.
        for condition in step.when
        where (try? engine.templates.evaluate(condition.value, at: condition.location, variables: variables)) == false { return nil }
        var items: [Value?] = [nil]
        if let loop = step.loop {
            guard let list = try? executor.loopItems(loop, variables) else { return nil }
            items = list
        }
        for item in items {
            var scoped = variables
            if let item { scoped[MagicVariable.item.rawValue] = item }
            guard let instance = try? executor.instantiate(kind, step, play: runner.play, variables: scoped) else { continue }
            let remote = session.remote(become: runner.becomeSettings(step, variables: scoped))
            let context = StepContext(
                remote: remote, host: host, check: true, wantsDiff: false, variables: scoped,
                templates: engine.templates, files: runner.playbook.fileResolver, location: step.location,
                planned: planned, cache: cache, playHosts: scope.hosts)
            do {
                try await instance.preflight(context)
            } catch let error as RemoteError where error.kind == .unreachable {
                return nil
            } catch {
                return failure(
                    host: host, play: runner.play, step: "preflight: " + executor.displayName(step, scoped),
                    location: step.location, message: executor.describe(error), handler: runner.play.handlers.contains(step))
            }
        }
        return nil
    }

    func failure(
        host: String, play: Play, step: String, location: SourceLocation, message: String,
        handler: Bool = false
    ) -> StepReport {
        StepReport(
            host: host, play: play.name, step: engine.redactor.redact(step), kind: "preflight", outcome: .failed,
            duration: 0, diffs: [], message: nil, error: engine.redactor.redact(message), location: location.description,
            isHandler: handler, runOnce: false, ignored: false, items: nil, skipReason: nil)
    }
}

extension Engine {
    /// Runs the preflight unless `--skip-preflight`, and records its failures (exit 2). Returns false when the
    /// run must stop before its first play: an apply with a missing need writes nothing anywhere. A check or an
    /// audit goes on after reporting them (it writes nothing anyway), and shares its read-only resources.
    func preflight(pool: ConnectionPool, cache: RunCache, ledger: inout RunLedger) async -> Bool {
        guard !options.skipPreflight else { return true }
        // Apply's resources (a database connection, a Keystone client) must not be the read-only ones made here;
        // what is safe to share (a Keystone token, Keystone's answers to reads) is shared.
        let preflightCache = options.check ? cache : RunCache(sharingWith: cache)
        let failures = await Preflight(engine: self, pool: pool, cache: preflightCache, pending: PendingHandlers()).run()
        if !options.check {
            for value in await preflightCache.allValues() {
                if let closable = value as? any RunResource { await closable.close() }
            }
        }
        guard !failures.isEmpty else { return true }
        var hosts: [String] = []
        for report in failures where !hosts.contains(report.host) { hosts.append(report.host) }
        observer.playStarted(name: "Preflight", hosts: hosts, check: options.check)
        for report in failures {
            ledger.record(report)
            observer.stepFinished(report)
        }
        if !options.check {
            observer.playStopped(
                name: "Preflight",
                reason: "preflight failed: nothing was written; fix the needs above, "
                    + "or run with --skip-preflight")
        }
        return options.check
    }
}
