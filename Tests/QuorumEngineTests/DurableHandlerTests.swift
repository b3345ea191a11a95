import Foundation
import QuorumCore
import Synchronization
import Testing

@testable import QuorumEngine

/// Durable handlers through the real engine against in-memory hosts: a notification recorded on the host
/// right after the change outlives a run that ends before the handler (a later failure, an interrupt, a lost
/// host); the next run runs the handler exactly once and clears it; check mode and audits predict it and write
/// nothing. (`EngineHarness` keeps each host's pending-handlers file across the runs of one harness.)
@Suite struct DurableHandlerTests {
    static let path = EngineHarness.pendingPath

    /// The stanza changes everywhere and notifies the toggle (once for the play); `later` is what ends the run
    /// early on some host (`FAIL-ON-c2`, `DIE-ON-c3`, `BLOCK`).
    static func playbook(stanzaChanges: Bool = true, later: String = "true", runOnce: Bool = true) -> String {
        """
        - name: HAProxy stanza
          hosts: controllers
          steps:
            - name: HAProxy stanza
              command: write stanza
              changed_when: \(stanzaChanges)
              notify: haproxy stanza changed
            - name: later step
              command: "\(later)"
          handlers:
            - name: restart haproxy through Pacemaker
              listen: haproxy stanza changed
              command: toggle haproxy
              run_once: \(runOnce)
        """
    }

    func toggles(_ h: EngineHarness) -> [String] {
        h.journal.entries.withLock { $0.filter { $0.script == "toggle haproxy" }.map(\.host) }
    }

    func record(_ h: EngineHarness, _ host: String) -> [PendingHandler] {
        (h.journal.hostFile(host, Self.path) ?? "").split(separator: "\n").compactMap(PendingHandler.init(line:))
    }

    @Test("a later step fails on c2: c2 keeps its record; audit reports it; the next apply runs the handler there once and clears it")
    func laterFailure() async throws {
        let h = EngineHarness()
        let first = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(later: "later FAIL-ON-c2", runOnce: false))
        #expect(first.exitStatus == .stepFailed)
        #expect(toggles(h).sorted() == ["c1", "c3"])
        #expect(record(h, "c1").isEmpty && record(h, "c3").isEmpty, "cleared where the handler ran")
        let pending = try #require(record(h, "c2").first)
        #expect(record(h, "c2").count == 1)
        #expect(pending.playbook == "pb.yml" && pending.play == "HAProxy stanza")
        #expect(pending.handler == "restart haproxy through Pacemaker" && pending.step == "HAProxy stanza")
        // Recorded on c2 right after the stanza step, before the later step ran there.
        let c2 = h.journal.scripts(on: "c2")
        let recorded = try #require(c2.firstIndex { $0.hasPrefix(PendingHandlerFile.recordMarker) })
        #expect(c2[recorded - 1] == "write stanza" && c2[recorded + 1] == "later FAIL-ON-c2")

        // Nothing changes the stanza any more: without the record this audit would be clean.
        let writesBefore = h.journal.writes().count
        let audit = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: Self.playbook(stanzaChanges: false, runOnce: false), check: true)
        #expect(h.journal.writes().count == writesBefore, "check mode wrote \(h.journal.writes().dropFirst(writesBefore))")
        let report = AuditReport(summary: audit, command: "quorum audit", strict: false)
        #expect(report.exitStatus == .drift)
        #expect(report.hosts.map(\.status) == [.clean, .drift, .clean])
        let drift = try #require(report.hosts[1].drift.first)
        #expect(drift.step == "restart haproxy through Pacemaker" && drift.handler)
        #expect(drift.message?.hasPrefix("pending since \(pending.time), notified by HAProxy stanza") == true, "\(drift.message ?? "")")
        #expect(record(h, "c2") == [pending], "check mode leaves the record")

        let second = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false, runOnce: false))
        #expect(second.exitStatus == .success)
        #expect(toggles(h).sorted() == ["c1", "c2", "c3"], "exactly one more run, on c2")
        #expect(second.reports.first { $0.isHandler }?.message?.hasPrefix("pending since") == true)
        #expect(h.journal.hostFile("c2", Self.path) == nil, "cleared: the file is gone")

        _ = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false, runOnce: false))
        #expect(toggles(h).count == 3, "and none after that")
    }

    @Test("the toggle (once for the play) never ran because a later step failed everywhere: the next apply toggles once and clears every host")
    func runOnceAfterFailureEverywhere() async throws {
        let h = EngineHarness()
        let first = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(later: "later FAIL-ON-c1 FAIL-ON-c2 FAIL-ON-c3"))
        #expect(first.exitStatus == .stepFailed)
        #expect(toggles(h).isEmpty)
        for host in ["c1", "c2", "c3"] { #expect(record(h, host).count == 1, "\(host)") }

        let audit = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false), check: true)
        let report = AuditReport(summary: audit, command: "quorum audit", strict: false)
        #expect(report.hosts.flatMap(\.drift).map(\.step) == ["restart haproxy through Pacemaker"], "one toggle predicted for the play")

        let second = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false))
        #expect(second.exitStatus == .success && second.reports.filter(\.isHandler).count == 1)
        #expect(toggles(h) == ["c1"])
        for host in ["c1", "c2", "c3"] { #expect(h.journal.hostFile(host, Self.path) == nil, "\(host) cleared") }
    }

    @Test("c3 is lost before the handlers: its record stays; the next run runs its handler there once")
    func unreachableBeforeHandlers() async throws {
        let h = EngineHarness()
        let first = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: Self.playbook(later: "later DIE-ON-c3", runOnce: false))
        #expect(first.exitStatus == .unreachable)
        #expect(toggles(h).sorted() == ["c1", "c2"])
        #expect(record(h, "c1").isEmpty && record(h, "c2").isEmpty)
        #expect(record(h, "c3").map(\.handler) == ["restart haproxy through Pacemaker"])

        let second = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false, runOnce: false))
        #expect(second.exitStatus == .success)
        #expect(toggles(h).sorted() == ["c1", "c2", "c3"])
        #expect(h.journal.hostFile("c3", Self.path) == nil)
    }

    @Test("an interrupt (the run cancelled) after the change: every host keeps its record; the next run toggles once")
    func interrupted() async throws {
        let h = EngineHarness()
        let run = Task { try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(later: "BLOCK")) }
        // Bounded generously: on a loaded machine (the lab's services and other suites beside this one) the
        // run may take long to reach its third BLOCK; cancelling before that would test something else.
        let deadline = ContinuousClock.now + .seconds(120)
        func blocked() -> Int { h.journal.entries.withLock { $0.filter { $0.script == "BLOCK" }.count } }
        while blocked() < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(blocked() == 3, "every host reached the blocking step before the interrupt")
        run.cancel()
        _ = try await run.value
        #expect(toggles(h).isEmpty, "interrupted before the handlers")
        for host in ["c1", "c2", "c3"] { #expect(record(h, host).count == 1, "\(host)") }

        let second = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(stanzaChanges: false))
        #expect(second.exitStatus == .success)
        #expect(toggles(h) == ["c1"], "one toggle for the play")
        for host in ["c1", "c2", "c3"] { #expect(h.journal.hostFile(host, Self.path) == nil, "\(host) cleared") }
    }

    @Test("check mode writes no record and predicts the handler; a failed handler keeps the record")
    func checkModeAndFailedHandler() async throws {
        let h = EngineHarness()
        let check = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.playbook(), check: true)
        #expect(h.journal.writes().isEmpty, "\(h.journal.writes())")
        #expect(h.journal.hostFiles.withLock { $0.isEmpty })
        #expect(check.reports.filter(\.isHandler).map(\.outcome) == [.changed], "the handler is predicted")

        let failing = Self.playbook().replacingOccurrences(of: "command: toggle haproxy", with: "command: toggle haproxy FAIL-ON-c1")
        _ = try await h.run(inventory: EngineHarness.threeHosts, playbook: failing)
        for host in ["c1", "c2", "c3"] { #expect(record(h, host).count == 1, "\(host): the toggle failed, still owed") }
        // A second notification of a pending handler keeps the first time.
        let firstTime = record(h, "c2").first?.time
        _ = try await h.run(inventory: EngineHarness.threeHosts, playbook: failing)
        #expect(record(h, "c2").count == 1 && record(h, "c2").first?.time == firstTime)
    }
}
