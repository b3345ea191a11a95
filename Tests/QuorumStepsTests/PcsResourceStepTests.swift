import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumSteps

private func pcsResource(_ values: [(String, Value)]) throws -> PcsResourceStep {
    try PcsResourceStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

/// Three controllers running a cloned haproxy under Pacemaker, as far as the step sees them: crm_mon's XML,
/// pgrep, the wait loops, and pcs disable/enable/cleanup (applied to every controller, except `stuck` ones,
/// where haproxy refuses to stop).
private final class FakeCluster: Sendable {
    struct State {
        var running: Set<String> = ["ctl1", "ctl2", "ctl3"]
        var disabled = false
        var failed = false
        var stuck: Set<String> = []
        /// Controllers where Pacemaker shows the resource started but the process is gone (killed by hand).
        var processDead: Set<String> = []
        /// Controllers where the process dies as soon as it starts, whatever Pacemaker does.
        var broken: Set<String> = []
        var pcs: [String] = []
    }
    let hosts = ["ctl1", "ctl2", "ctl3"]
    let state = Mutex(State())

    func crmMon() -> String {
        let s = state.withLock { $0 }
        let role = s.disabled ? #" target_role="Stopped""# : ""
        var xml = #"<pacemaker-result><resources><clone id="p_haproxy-clone" multi_state="false"\#(role)>"#
        for host in hosts {
            if s.running.contains(host) {
                xml +=
                    #"<resource id="p_haproxy" role="Started"\#(role) active="true" nodes_running_on="1"><node name="\#(host)" id="1" cached="true"/></resource>"#
            } else {
                xml += #"<resource id="p_haproxy" role="Stopped"\#(role) active="false" nodes_running_on="0"/>"#
            }
        }
        xml += "</clone></resources>"
        if s.failed { xml += #"<failures><failure op_key="p_haproxy_start_0" node="ctl2" exitstatus="error" exitreason="boom"/></failures>"# }
        return xml + "</pacemaker-result>"
    }

    func handle(_ host: String, _ script: String) -> CommandResult {
        if script.contains("crm_mon -1 --output-as=xml") { return CommandResult(stdout: Array(crmMon().utf8)) }
        if script.contains(WaitForStep.done) {
            let runs = processRuns(on: host)
            let wantRunning = !script.contains("if ! check;")
            if runs == wantRunning { return CommandResult(stdout: Array("\(WaitForStep.done) 0\n".utf8)) }
            return CommandResult(stdout: Array("\(WaitForStep.timedOut)\n42 /usr/sbin/haproxy -W -db\n".utf8), status: 1)
        }
        if script.contains("pgrep -x") { return CommandResult(status: processRuns(on: host) ? 0 : 1) }
        if let line = script.split(separator: "\n").last, line.hasPrefix("pcs ") {
            state.withLock { s in
                s.pcs.append("\(host): \(line)")
                if line.contains("resource disable") {
                    s.disabled = true
                    s.running = s.stuck
                }
                if line.contains("resource enable") {
                    s.disabled = false
                    s.running = Set(hosts)
                }
                if line.contains("resource cleanup") {
                    s.failed = false
                    if !s.disabled {
                        s.running = Set(hosts)
                        s.processDead = []
                    }
                }
            }
            return CommandResult()
        }
        return CommandResult(stderr: Array("unexpected script".utf8), status: 99)
    }

    func processRuns(on host: String) -> Bool {
        state.withLock { $0.running.contains(host) && !$0.processDead.contains(host) && !$0.broken.contains(host) }
    }

    /// `wrap` stands between the step and each fake controller (e.g. to interrupt the run at a given command).
    func context(
        check: Bool = false, on host: String = "ctl1",
        wrap: @escaping @Sendable (any Remote) -> any Remote = { $0 }
    ) -> (StepContext, [String: FakeRemote]) {
        var remotes: [String: FakeRemote] = [:]
        for h in hosts {
            let r = FakeRemote(host: h)
            r.commandHandler = { script, _ in self.handle(h, script) }
            remotes[h] = r
        }
        let view: @Sendable (FakeRemote) -> any Remote = { wrap($0) }
        let frozen = remotes
        let context = StepContext(
            remote: view(remotes[host]!), host: host, check: check, wantsDiff: true, variables: [:],
            templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil,
            playHosts: hosts,
            peer: { name in
                guard let r = frozen[name] else { throw StepFailure("no \(name)") }
                return view(r)
            })
        return (context, remotes)
    }
}

private let toggle: [(String, Value)] = [
    ("resource", .string("p_haproxy")), ("action", .string("restart_by_toggle")),
    ("wait_process", .string("haproxy")), ("timeout", .int(5))
]

@Suite struct PcsResourceStepTests {
    @Test func runsOncePerPlay() { #expect(PcsResourceStep.runsOncePerPlay) }

    @Test func toggleDisablesWaitsEverywhereThenEnables() async throws {
        let cluster = FakeCluster()
        let (ctx, remotes) = cluster.context()
        let outcome = try await pcsResource(toggle).run(ctx)
        #expect(outcome.changed)
        #expect(
            cluster.state.withLock { $0.pcs } == [
                "ctl1: pcs resource disable p_haproxy --wait=5",
                "ctl1: pcs resource enable p_haproxy --wait=5"
            ])
        #expect(outcome.message?.hasPrefix("toggled p_haproxy: disabled, haproxy gone on ctl1, ctl2, ctl3 after") == true)
        // Every controller was watched, and only ctl1 was changed.
        for host in ["ctl2", "ctl3"] {
            #expect(remotes[host]!.commands.contains { $0.contains(WaitForStep.done) })
            #expect(remotes[host]!.writes.isEmpty)
        }
    }

    @Test func checkModePredictsAndTouchesNothing() async throws {
        let cluster = FakeCluster()
        let (ctx, remotes) = cluster.context(check: true)
        let outcome = try await pcsResource(toggle).run(ctx)
        #expect(outcome.changed && outcome.message == "would toggle p_haproxy: disable, wait until haproxy is gone on ctl1, ctl2, ctl3, enable")
        #expect(remotes.values.allSatisfy { $0.writes.isEmpty } && cluster.state.withLock { $0.pcs }.isEmpty)
    }

    @Test func nothingRunningMeansCleanupInstead() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock {
            $0.running = []
            $0.failed = true
        }
        let (ctx, _) = cluster.context()
        let outcome = try await pcsResource(toggle).run(ctx)
        #expect(outcome.changed && outcome.result["cleaned_up"] == .bool(true))
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource cleanup p_haproxy"])
    }

    @Test func aStuckControllerTimesOutByNameAndTheResourceIsEnabledAgain() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.stuck = ["ctl3"] }
        let (ctx, _) = cluster.context()
        do {
            _ = try await pcsResource(toggle).run(ctx)
            Issue.record("expected a timeout")
        } catch let failure as StepFailure {
            #expect(failure.message == "timed out after 5s: haproxy still running on ctl3; p_haproxy enabled again")
            #expect(failure.detail?.contains("ctl3: 42 /usr/sbin/haproxy") == true)
        }
        #expect(cluster.state.withLock { $0.pcs.last } == "ctl1: pcs resource enable p_haproxy")
    }

    @Test func disableEnableAndCleanupAreIdempotent() async throws {
        let cluster = FakeCluster()
        let disable = try pcsResource([("resource", .string("p_haproxy")), ("action", .string("disable")), ("wait_process", .string("haproxy"))])
        let enable = try pcsResource([("resource", .string("p_haproxy")), ("action", .string("enable")), ("wait_process", .string("haproxy"))])
        let cleanup = try pcsResource([("resource", .string("p_haproxy")), ("action", .string("cleanup"))])
        #expect(try await !enable.run(cluster.context().0).changed)
        #expect(try await disable.run(cluster.context().0).changed)
        #expect(try await !disable.run(cluster.context().0).changed)
        #expect(try await enable.run(cluster.context().0).changed)
        #expect(try await !cleanup.run(cluster.context().0).changed)
        cluster.state.withLock { $0.failed = true }
        #expect(try await cleanup.run(cluster.context().0).changed)
        #expect(try await !cleanup.run(cluster.context().0).changed)
    }

    @Test func unknownResourceFails() async throws {
        let cluster = FakeCluster()
        await #expect(throws: StepFailure.self) {
            try await pcsResource([("resource", .string("p_nothing"))]).run(cluster.context().0)
        }
    }

    @Test func rejectsHostileArguments() {
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p; reboot"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("--all"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("wait_process", .string("a-name-longer-than-15"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("timeout", .int(0))]) }
    }

    @Test func parsesCrmMonForPrimitivesAndClones() {
        let xml = FakeCluster().crmMon()
        let status = CrmMonStatus.parse(xml, resource: "p_haproxy")
        #expect(status.exists && status.runningOn == ["ctl1", "ctl2", "ctl3"] && !status.disabled)
        #expect(CrmMonStatus.parse(xml, resource: "p_haproxy-clone").runningOn == ["ctl1", "ctl2", "ctl3"])
        #expect(!CrmMonStatus.parse(xml, resource: "p_hap").exists)
    }

    // MARK: running state as desired state

    static let started: [(String, Value)] = [
        ("resource", .string("p_haproxy")), ("state", .string("started")),
        ("running_on", .string("all")), ("wait_process", .string("haproxy")), ("timeout", .int(5))
    ]

    @Test func startedEverywhereIsUnchanged() async throws {
        let cluster = FakeCluster()
        let (ctx, remotes) = cluster.context()
        let outcome = try await pcsResource(Self.started).run(ctx)
        #expect(!outcome.changed && remotes.values.allSatisfy { $0.writes.isEmpty })
    }

    @Test func aDisabledResourceIsDriftThatCheckPredictsAndApplyEnables() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock {
            $0.disabled = true
            $0.running = []
        }
        let (check, checkRemotes) = cluster.context(check: true)
        let predicted = try await pcsResource(Self.started).run(check)
        #expect(predicted.changed && predicted.message == "would enable p_haproxy so that it runs on ctl1, ctl2, ctl3")
        #expect(checkRemotes.values.allSatisfy { $0.writes.isEmpty } && cluster.state.withLock { $0.pcs }.isEmpty)
        #expect(predicted.diffs.first?.before == "disabled, started nowhere, haproxy running nowhere")
        #expect(predicted.diffs.first?.after == "enabled, started on ctl1, ctl2, ctl3")

        let applied = try await pcsResource(Self.started).run(cluster.context().0)
        #expect(applied.changed && applied.message?.hasPrefix("enabled p_haproxy: started on ctl1, ctl2, ctl3 after") == true)
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource enable p_haproxy"])
        #expect(try await !pcsResource(Self.started).run(cluster.context().0).changed)
    }

    @Test func enabledButStoppedOnOneControllerIsCleanedUp() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.running = ["ctl1", "ctl2"] }
        let predicted = try await pcsResource(Self.started).run(cluster.context(check: true).0)
        #expect(predicted.message == "would clean up p_haproxy so that it runs on ctl3")
        let applied = try await pcsResource(Self.started).run(cluster.context().0)
        #expect(applied.changed && cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource cleanup p_haproxy"])
        #expect(cluster.state.withLock { $0.running } == ["ctl1", "ctl2", "ctl3"])
    }

    @Test func aProcessKilledByHandIsNotRunningThere() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.processDead = ["ctl2"] }
        let predicted = try await pcsResource(Self.started).run(cluster.context(check: true).0)
        #expect(predicted.changed && predicted.message == "would clean up p_haproxy so that it runs on ctl2")
        _ = try await pcsResource(Self.started).run(cluster.context().0)
        #expect(cluster.processRuns(on: "ctl2"))
        // Without wait_process only Pacemaker's view counts.
        cluster.state.withLock { $0.processDead = ["ctl2"] }
        let pacemakerOnly = try pcsResource([("resource", .string("p_haproxy")), ("state", .string("started"))])
        #expect(try await !pacemakerOnly.run(cluster.context().0).changed)
    }

    @Test func runningOnAnyIsSatisfiedBySomewhere() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.running = ["ctl2"] }
        let any = try pcsResource([("resource", .string("p_haproxy")), ("state", .string("started")), ("running_on", .string("any"))])
        #expect(try await !any.run(cluster.context().0).changed)
    }

    @Test func aResourceThatNeverStartsTimesOutNamingTheControllers() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock {
            $0.running = ["ctl1", "ctl2"]
            $0.broken = ["ctl3"]
        }
        let step = try pcsResource(Self.started.filter { $0.0 != "timeout" } + [("timeout", .int(1))])
        do {
            _ = try await step.run(cluster.context().0)
            Issue.record("expected a timeout")
        } catch let failure as StepFailure {
            #expect(failure.message == "timed out after 1s: p_haproxy not running on ctl3")
        }
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource cleanup p_haproxy"])
    }

    @Test func stoppedIsTheDisabledStateAndIdempotent() async throws {
        let cluster = FakeCluster()
        let stopped = try pcsResource([("resource", .string("p_haproxy")), ("state", .string("stopped")), ("wait_process", .string("haproxy"))])
        #expect(try await stopped.run(cluster.context(check: true).0).message == "would disable p_haproxy")
        #expect(try await stopped.run(cluster.context().0).changed)
        #expect(try await !stopped.run(cluster.context().0).changed)
    }

    @Test func declarativeArgumentsAreChecked() {
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("state", .string("started")), ("action", .string("enable"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("running_on", .string("all"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("state", .string("stopped")), ("running_on", .string("all"))]) }
        #expect(throws: StepFailure.self) { try pcsResource([("resource", .string("p")), ("state", .string("up"))]) }
        #expect(PcsResourceStep.schema.mutuallyExclusive.contains(["action", "state"]))
    }

    // MARK: the toggle as a critical section

    /// Runs the toggle inside a run whose stop is requested when a controller receives a script containing `trigger`.
    fileprivate func interruptedToggle(at trigger: String, _ cluster: FakeCluster) async throws -> (StepFailure?, RunInterruption) {
        let interruption = RunInterruption(grace: .milliseconds(50))
        let (ctx, _) = cluster.context(wrap: { remote in
            FaultyRemote(base: remote, slowWhen: trigger) { script in
                if script.contains(trigger) { interruption.requestStop("SIGINT") }
            }
        })
        let step = try pcsResource(toggle)
        let failure = await RunInterruption.$current.withValue(interruption) { () -> StepFailure? in
            do {
                _ = try await step.run(ctx)
                return nil
            } catch {
                return error as? StepFailure
            }
        }
        return (failure, interruption)
    }

    @Test func aStopDuringTheWaitEnablesTheResourceAgainAndWaits() async throws {
        let cluster = FakeCluster()
        let (failure, interruption) = try await interruptedToggle(at: "if ! check;", cluster)
        #expect(
            failure?.message.hasPrefix("interrupted while p_haproxy disabled: undone, p_haproxy enabled again, haproxy running on ctl1, ctl2, ctl3 after")
                == true,
            "\(String(describing: failure))")
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource disable p_haproxy --wait=5", "ctl1: pcs resource enable p_haproxy"])
        #expect(cluster.state.withLock { !$0.disabled && $0.running == ["ctl1", "ctl2", "ctl3"] })
        #expect(interruption.openSections.isEmpty)
    }

    @Test func aStopDuringTheDisableCommandLetsItFinishThenUndoes() async throws {
        let cluster = FakeCluster()
        let (failure, _) = try await interruptedToggle(at: "resource disable", cluster)
        #expect(failure?.message.hasPrefix("interrupted while p_haproxy disabled: undone") == true, "\(String(describing: failure))")
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource disable p_haproxy --wait=5", "ctl1: pcs resource enable p_haproxy"])
        #expect(cluster.state.withLock { !$0.disabled })
    }

    @Test func aStopDuringTheEnableFinishesTheSection() async throws {
        let cluster = FakeCluster()
        let (failure, _) = try await interruptedToggle(at: "resource enable p_haproxy --wait", cluster)
        // The enable ran; the wait that followed was cut short, so the undo enabled (harmlessly) once more and waited.
        #expect(failure?.message.hasPrefix("interrupted while p_haproxy disabled: undone, p_haproxy enabled again") == true)
        #expect(cluster.state.withLock { !$0.disabled && $0.running.count == 3 })
    }

    @Test func aStopBeforeTheToggleTouchesNothing() async throws {
        let cluster = FakeCluster()
        let interruption = RunInterruption()
        interruption.requestStop("SIGINT")
        let (ctx, _) = cluster.context()
        await RunInterruption.$current.withValue(interruption) {
            await #expect(throws: StepFailure.self) { try await pcsResource(toggle).run(ctx) }
        }
        #expect(cluster.state.withLock { $0.pcs }.isEmpty)
    }

    @Test func theOpenSectionNamesWhatToRun() async throws {
        let cluster = FakeCluster()
        let interruption = RunInterruption()
        let seen = Mutex<[RunInterruption.OpenSection]>([])
        let (ctx, _) = cluster.context(wrap: { remote in
            FaultyRemote(base: remote) { script in
                if script.contains("resource disable") { seen.withLock { $0 = interruption.openSections } }
            }
        })
        _ = try await RunInterruption.$current.withValue(interruption) { try await pcsResource(toggle).run(ctx) }
        #expect(
            seen.withLock { $0 } == [
                .init(
                    host: "ctl1", what: "p_haproxy disabled",
                    ifLeft: "p_haproxy may be left disabled: run `pcs resource enable p_haproxy`")
            ])
        #expect(interruption.openSections.isEmpty)
    }
}

/// Stands between a step and a fake controller: calls `before` with every script, and when a script contains
/// `slowWhen`, takes 30 s (cancellable) before answering, like a wait that is still waiting.
private struct FaultyRemote: Remote {
    let base: any Remote
    var slowWhen: String?
    let before: @Sendable (String) -> Void

    init(base: any Remote, slowWhen: String? = nil, before: @escaping @Sendable (String) -> Void) {
        self.base = base
        self.slowWhen = slowWhen
        self.before = before
    }

    var host: String { base.host }

    func pause(_ script: String) async throws {
        before(script)
        if let slowWhen, script.contains(slowWhen), !script.contains("pcs resource") { try await Task.sleep(for: .seconds(30)) }
    }
    func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await pause(script)
        return try await base.probe(script, stdin: stdin, timeout: timeout)
    }
    func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await pause(script)
        return try await base.change(script, stdin: stdin, timeout: timeout)
    }
    func stat(_ path: String) async throws -> FileInfo? { try await base.stat(path) }
    func readFile(_ path: String) async throws -> RemoteFile? { try await base.readFile(path) }
    func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        try await base.writeFile(path, content: content, attributes: attributes, validate: validate)
    }
    func tunnel(to host: String, port: Int) async throws -> Int { try await base.tunnel(to: host, port: port) }
}
