import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumSteps

private func context(_ remote: any Remote, check: Bool = false) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil)
}

private func service(_ values: [(String, Value)]) throws -> ServiceStep {
    try ServiceStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

/// Whether `/bin/sh` accepts the script's syntax.
func shellAccepts(_ script: String) throws -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-n", "-c", script]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// A host running SysV init (the lab: no systemd) with an LSB script, or systemd; answers the step's probe
/// and change scripts as those hosts would.
private final class FakeInit: Sendable {
    struct State {
        var running = false
        var enabled = false
        var crashesOnStart = false
        var actions: [String] = []
    }
    let state = Mutex(State())
    let systemd: Bool
    let name: String

    init(systemd: Bool, name: String = "quorum-demo") {
        self.systemd = systemd
        self.name = name
    }

    func handle(_ script: String) -> CommandResult {
        let s = state.withLock { $0 }
        if script.hasPrefix("if [ -d /run/systemd/system ]") {
            let out =
                systemd
                ? "manager=systemd\nload=loaded\nactive=\(s.running ? "active" : "inactive")\nenabled=\(s.enabled ? "enabled" : "disabled")\n"
                : "manager=sysv\nload=loaded\nstatus=\(s.running ? 0 : 3)\nenabled=\(s.enabled ? "yes" : "no")\n--output--\n"
                    + " * \(name) is \(s.running ? "" : "not ")running\n"
            return CommandResult(stdout: Array(out.utf8))
        }
        var output = ""
        // (the action's own line: the branch without flock, indented; `ServiceLockTests` covers the lock)
        for line in script.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            for action in ["enable", "disable", "defaults", "start", "stop", "restart", "reload"]
            where line.hasPrefix("systemctl \(action) ") || line.hasPrefix("service \(name) \(action) ")
                || line.hasPrefix("update-rc.d \(name) \(action) ")
            {
                state.withLock {
                    $0.actions.append(action)
                    switch action {
                    case "enable", "defaults": $0.enabled = true
                    case "disable": $0.enabled = false
                    case "start", "restart": $0.running = !$0.crashesOnStart
                    case "stop": $0.running = false
                    default: break
                    }
                }
                output += systemd ? "" : " * \(action.capitalized)ing \(name)... done.\n"
            }
        }
        let after = state.withLock { $0 }
        let wantsRunning = script.contains("if systemctl is-active") || script.contains("if service")
        if (script.contains("if ") && wantsRunning && !after.running) || (script.contains("if ! ") && after.running) {
            output += ServiceStep.notInState + "\n * \(name) is not running\nquorum-demo: bind: Address already in use\n"
            return CommandResult(stdout: Array(output.utf8), status: 3)
        }
        return CommandResult(stdout: Array(output.utf8))
    }
}

@Suite struct ServiceStepTests {
    @Test func sysvStartIsIdempotent() async throws {
        let host = FakeInit(systemd: false)
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        let step = try service([("name", .string("quorum-demo")), ("state", .string("started"))])

        let first = try await step.run(context(fake))
        #expect(first.changed)
        #expect(first.diffs == [Diff(subject: "service quorum-demo", before: "stopped", after: "running")])
        #expect(fake.writes.count == 1 && fake.writes[0].contains("service quorum-demo start 2>&1"))
        #expect(first.result["manager"] == .string("sysv"))

        let before = fake.commands.count
        let second = try await step.run(context(fake))
        #expect(!second.changed)
        #expect(fake.commands.count == before + 1)  // one probe, nothing else
        #expect(host.state.withLock { $0.actions } == ["start"])
    }

    @Test func checkModePredictsEnableAndStartOnSystemd() async throws {
        let host = FakeInit(systemd: true, name: "haproxy")
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        let step = try service([("name", .string("haproxy")), ("state", .string("started")), ("enabled", .bool(true))])
        let predicted = try await step.run(context(fake, check: true))
        #expect(fake.writes.isEmpty)
        #expect(predicted.changed)
        let applied = try await step.run(context(fake))
        #expect(applied.diffs == predicted.diffs)
        #expect(applied.message == "enabled, started")
        #expect(fake.writes.count == 1)
        #expect(fake.writes[0].contains("systemctl enable haproxy"))
        #expect(fake.writes[0].contains("systemctl start haproxy"))
        #expect(host.state.withLock { $0.actions } == ["enable", "start"])
        #expect(try await !step.run(context(fake)).changed)
    }

    @Test func restartedAndReloadedAlwaysActAndStartAStoppedService() async throws {
        let host = FakeInit(systemd: false)
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        let reload = try service([("name", .string("quorum-demo")), ("state", .string("reloaded"))])
        #expect(try await reload.run(context(fake)).message == "started")  // was stopped: started instead
        #expect(try await reload.run(context(fake)).message == "reloaded")
        let restart = try service([("name", .string("quorum-demo")), ("state", .string("restarted"))])
        #expect(try await restart.run(context(fake)).changed)
        #expect(try await restart.run(context(fake)).changed)
        #expect(host.state.withLock { $0.actions } == ["start", "reload", "restart", "restart"])
    }

    @Test func stopAndDisableOnSysv() async throws {
        let host = FakeInit(systemd: false)
        host.state.withLock {
            $0.running = true
            $0.enabled = true
        }
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        let step = try service([("name", .string("quorum-demo")), ("state", .string("stopped")), ("enabled", .bool(false))])
        let outcome = try await step.run(context(fake))
        #expect(outcome.diffs.map(\.subject) == ["service quorum-demo enabled", "service quorum-demo"])
        #expect(fake.writes[0].contains("update-rc.d quorum-demo disable"))
        #expect(fake.writes[0].contains("if ! service quorum-demo status"))
        #expect(try await !step.run(context(fake)).changed)
    }

    @Test func aStartThatDoesNotStickFailsWithTheServicesOutput() async throws {
        let host = FakeInit(systemd: false)
        host.state.withLock { $0.crashesOnStart = true }
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        do {
            _ = try await service([("name", .string("quorum-demo")), ("state", .string("started"))]).run(context(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.message.contains("not running afterwards"))
            #expect(failure.detail?.contains("Address already in use") == true)
            #expect(failure.detail?.contains(ServiceStep.notInState) == false)
        }
    }

    @Test func unknownStatusAndMissingServicesFail() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("manager=sysv\nload=loaded\nstatus=4\nenabled=no\n--output--\npermission denied\n".utf8)) }
        let step = try service([("name", .string("quorum-demo")), ("state", .string("started"))])
        await #expect(throws: StepFailure.self) { try await step.run(context(fake)) }
        fake.commandHandler = { _, _ in
            CommandResult(stdout: Array("manager=sysv\nload=not-found\nstatus=1\nenabled=no\n--output--\nquorum-demo: unrecognized service\n".utf8))
        }
        await #expect(throws: StepFailure.self) { try await step.run(context(fake, check: true)) }
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("manager=systemd\nload=not-found\nactive=inactive\nenabled=\n".utf8)) }
        await #expect(throws: StepFailure.self) { try await step.run(context(fake)) }
        #expect(fake.writes.isEmpty)
    }

    @Test func scriptsAreValidShellAndNamesAreChecked() throws {
        let step = try service([
            ("name", .string("openstack-magnum-api@1.service")), ("state", .string("restarted")),
            ("enabled", .bool(true))
        ])
        #expect(try shellAccepts(step.probeScript))
        for manager in [ServiceStep.Manager.systemd, .sysv] {
            let script = step.changeScript(ServiceStep.Plan(enable: true, action: "restart", runningAfter: true), manager: manager)
            #expect(try shellAccepts(script), "\(script)")
        }
        for bad in ["$(touch pwned)", "a b", "../../bin/sh", "-h", "x;reboot", "`id`", "a\nb", "it's"] {
            #expect(throws: StepFailure.self, "\(bad.debugDescription)") {
                try service([("name", .string(bad)), ("state", .string("started"))])
            }
        }
        #expect(throws: StepFailure.self) { try service([("name", .string("haproxy"))]) }
        #expect(throws: StepFailure.self) { try service([("name", .string("haproxy")), ("state", .string("running"))]) }
    }
}
