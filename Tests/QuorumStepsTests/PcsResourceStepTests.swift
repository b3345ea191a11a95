import Foundation
import QuorumCore
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
                xml += #"<resource id="p_haproxy" role="Started"\#(role) active="true" nodes_running_on="1"><node name="\#(host)" id="1" cached="true"/></resource>"#
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
            let runs = state.withLock { $0.running.contains(host) }
            let wantRunning = !script.contains("if ! check;")
            if runs == wantRunning { return CommandResult(stdout: Array("\(WaitForStep.done) 0\n".utf8)) }
            return CommandResult(stdout: Array("\(WaitForStep.timedOut)\n42 /usr/sbin/haproxy -W -db\n".utf8), status: 1)
        }
        if script.contains("pgrep -x") { return CommandResult(status: state.withLock { $0.running.contains(host) } ? 0 : 1) }
        if let line = script.split(separator: "\n").last, line.hasPrefix("pcs ") {
            state.withLock { s in
                s.pcs.append("\(host): \(line)")
                if line.contains("resource disable") { s.disabled = true; s.running = s.stuck }
                if line.contains("resource enable") { s.disabled = false; s.running = Set(hosts) }
                if line.contains("resource cleanup") { s.failed = false }
            }
            return CommandResult()
        }
        return CommandResult(stderr: Array("unexpected script".utf8), status: 99)
    }

    func context(check: Bool = false, on host: String = "ctl1") -> (StepContext, [String: FakeRemote]) {
        var remotes: [String: FakeRemote] = [:]
        for h in hosts {
            let r = FakeRemote(host: h)
            r.commandHandler = { script, _ in self.handle(h, script) }
            remotes[h] = r
        }
        let view: @Sendable (FakeRemote) -> any Remote = { check ? ReadOnlyRemote($0) : $0 }
        let frozen = remotes
        let context = StepContext(remote: view(remotes[host]!), host: host, check: check, wantsDiff: true, variables: [:],
                                  templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil,
                                  playHosts: hosts, peer: { name in
                                      guard let r = frozen[name] else { throw StepFailure("no \(name)") }
                                      return view(r)
                                  })
        return (context, remotes)
    }
}

private let toggle: [(String, Value)] = [("resource", .string("p_haproxy")), ("action", .string("restart_by_toggle")),
                                         ("wait_process", .string("haproxy")), ("timeout", .int(5))]

@Suite struct PcsResourceStepTests {
    @Test func runsOncePerPlay() { #expect(PcsResourceStep.runsOncePerPlay) }

    @Test func toggleDisablesWaitsEverywhereThenEnables() async throws {
        let cluster = FakeCluster()
        let (ctx, remotes) = cluster.context()
        let outcome = try await pcsResource(toggle).run(ctx)
        #expect(outcome.changed)
        #expect(cluster.state.withLock { $0.pcs } == ["ctl1: pcs resource disable p_haproxy --wait=5",
                                                       "ctl1: pcs resource enable p_haproxy --wait=5"])
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
        cluster.state.withLock { $0.running = []; $0.failed = true }
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
}
