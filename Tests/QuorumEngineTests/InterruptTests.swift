import Foundation
import QuorumCore
import QuorumSteps
import Synchronization
import Testing

@testable import QuorumEngine

/// Takes a shared resource down and brings it back, like the HAProxy toggle: a critical section whose undo
/// brings it back. Every command goes to the host's journal.
private struct FakeToggleStep: StepKind {
    static let name = "fake_toggle"
    static let summary = "test: disable, wait, enable"
    static let schema = ArgSchema([])
    static let runsOncePerPlay = true
    init(checked arguments: Arguments) throws {}

    func run(_ context: StepContext) async throws -> StepOutcome {
        let remote = context.remote
        let undo: @Sendable () async throws -> String = {
            _ = try await remote.change("fake enable (undo)", stdin: [], timeout: nil)
            return "enabled again"
        }
        try await context.critical("fake disabled", ifLeft: "fake may be left disabled: run `fake enable`", undo: undo) { section in
            _ = try await remote.change("fake disable", stdin: [], timeout: nil)
            try await section.interruptible { try await Task.sleep(for: .seconds(120)) }
            _ = try await remote.change("fake enable", stdin: [], timeout: nil)
        }
        return StepOutcome(changed: true)
    }
}

/// A step that takes 120 s (cancellable) and declares no critical section.
private struct SlowStep: StepKind {
    static let name = "slow"
    static let summary = "test: a long step"
    static let schema = ArgSchema([])
    init(checked arguments: Arguments) throws {}

    func run(_ context: StepContext) async throws -> StepOutcome {
        _ = try await context.remote.change("slow start", stdin: [], timeout: nil)
        try await Task.sleep(for: .seconds(120))
        return StepOutcome(changed: true)
    }
}

@Suite struct InterruptTests {
    let journal = EngineHarness.Journal()

    /// Runs `playbook` on c1..c3 with the fake steps in the catalog; once a host has received a script `stopWhen`
    /// picks, the run is asked to stop (as SIGINT would).
    func run(
        _ playbook: String, forks: Int? = nil, interruption: RunInterruption,
        stopWhen: @escaping @Sendable (String) -> Bool
    ) async throws -> RunSummary {
        var catalog = StepCatalog.byName
        catalog[FakeToggleStep.name] = FakeToggleStep.self
        catalog[SlowStep.name] = SlowStep.self
        var options = RunOptions()
        options.forks = forks
        let engine = try EngineHarness.engine(
            playbook: playbook, catalog: catalog, options: options,
            connector: EngineHarness.Connector(journal: journal, unreachable: []), observer: EngineHarness.Recorder(),
            interruption: interruption)
        let journal = self.journal
        let watcher = Task {
            while !Task.isCancelled {
                if journal.entries.withLock({ $0.contains { stopWhen($0.script) } }) {
                    interruption.requestStop("SIGINT")
                    return
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { watcher.cancel() }
        return await engine.run()
    }

    static let rolling = """
        - name: roll
          hosts: controllers
          steps:
            - name: before
              command: "echo before"
              notify: restart
            - name: toggle
              fake_toggle: {}
            - name: after
              command: "echo after"
          handlers:
            - name: restart
              command: "echo restart"
        - name: later play
          hosts: controllers
          steps:
            - name: later
              command: "echo later"
        """

    @Test("a stop inside a critical section runs its undo, starts nothing new, and the recap lists what was left")
    func criticalSectionIsUndone() async throws {
        let interruption = RunInterruption(grace: .milliseconds(100))
        let start = ContinuousClock.now
        let summary = try await run(Self.rolling, interruption: interruption) { $0 == "fake disable" }
        #expect(ContinuousClock.now - start < .seconds(60), "the stop did not cut the 120 s wait short")

        // (The pending-handler record that "echo before" notified is a write of its own; durable handlers test it.)
        let writes = journal.writes(on: "c1").filter { !$0.hasPrefix("# quorum: record pending handlers") }
        #expect(writes == ["echo before", "fake disable", "fake enable (undo)"])
        for host in ["c1", "c2", "c3"] {
            let scripts = journal.scripts(on: host)
            #expect(!scripts.contains("echo after") && !scripts.contains("echo restart") && !scripts.contains("echo later"), "\(host): \(scripts)")
            #expect(!scripts.contains("fake enable"))
        }
        #expect(summary.exitStatus == .interrupted && summary.exitStatus.rawValue == 130)
        let toggle = try #require(summary.reports.first { $0.step == "toggle" })
        #expect(toggle.error?.hasPrefix("interrupted while fake disabled: undone, enabled again") == true, "\(toggle.error ?? "")")
        #expect(summary.recap["c1"]?.failed == 1)

        let expected = [
            LeftUndone(play: "roll", steps: ["toggle (interrupted)", "after"], handlers: ["restart"]),
            LeftUndone(play: "later play", steps: ["later"], playNotStarted: true)
        ]
        #expect(summary.interruption?.reason == "SIGINT")
        for host in ["c1", "c2", "c3"] { #expect(summary.interruption?.leftUndone[host] == expected, "\(host)") }

        let recap = ConsoleReporter(showDiff: false, color: false).recapText(summary)
        #expect(recap.contains("RECAP — interrupted (SIGINT): no step was started after the stop request"))
        #expect(recap.contains("left undone in \"roll\": steps not done: toggle (interrupted), after; handlers pending: restart"))
        #expect(recap.contains("left undone in \"later play\": play not started (1 step: later)"))
        #expect(recap.hasSuffix("exit 130"))

        let json = String(decoding: try JSONEncoder().encode(JSONReport(command: "quorum apply", summary: summary)), as: UTF8.self)
        #expect(json.contains("\"interrupted\":true") && json.contains("\"left_undone\"") && json.contains("\"exit_code\":130"))
    }

    @Test("a step without a critical section gets the grace period, then is abandoned; hosts waiting for a fork never start")
    func runningStepIsAbandonedAfterTheGrace() async throws {
        let interruption = RunInterruption(grace: .milliseconds(200))
        let start = ContinuousClock.now
        let summary = try await run(
            """
            - hosts: controllers
              steps:
                - {name: long, slow: {}}
                - {name: after, command: "echo after"}
            """, forks: 1, interruption: interruption
        ) { $0 == "slow start" }
        #expect(ContinuousClock.now - start < .seconds(60), "the stop did not cut the 120 s wait short")
        #expect(journal.scripts(on: "c1") == ["slow start"])
        #expect(journal.scripts(on: "c2").isEmpty && journal.scripts(on: "c3").isEmpty)
        let long = try #require(summary.reports.first { $0.host == "c1" && $0.step == "long" })
        #expect(long.outcome == .failed)
        #expect(long.error == "interrupted: abandoned 0.2s after the stop request; a command it started may still be running on c1")
        #expect(summary.interruption?.leftUndone["c1"] == [LeftUndone(play: "controllers", steps: ["long (interrupted)", "after"])])
        #expect(summary.interruption?.leftUndone["c2"] == [LeftUndone(play: "controllers", steps: ["long", "after"])])
        #expect(summary.recap["c1"]?.unreachable == 0 && summary.exitStatus == .interrupted)
        let line = ConsoleReporter(showDiff: false, color: false).stepText(long)
        #expect(line.hasPrefix("  interrupted  c1"), "\(line)")
    }

    @Test("a stop before the run starts nothing at all")
    func stopBeforeTheRun() async throws {
        let interruption = RunInterruption()
        interruption.requestStop("SIGTERM")
        let summary = try await run(Self.rolling, interruption: interruption) { _ in false }
        #expect(journal.entries.withLock { $0.isEmpty })
        #expect(summary.reports.isEmpty && summary.exitStatus == .interrupted)
        #expect(summary.interruption?.leftUndone["c2"]?.map(\.playNotStarted) == [true, true])
    }
}
