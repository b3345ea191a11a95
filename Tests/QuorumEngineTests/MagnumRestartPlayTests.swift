import Foundation
import QuorumCore
import QuorumEngine
import Testing

/// playbooks/magnum-ha.yml's rolling restart play, as written, through the engine against in-memory controllers:
/// what each service's step asks of the host (its files, its pid file) and when the API's health gate runs.
@Suite struct MagnumRestartPlayTests {
    static let step = "Magnum's services run with the current configuration"

    /// The play "Rolling restart of Magnum", cut out of the playbook.
    static func play() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("playbooks/magnum-ha.yml"), encoding: .utf8)
        let start = try #require(text.range(of: "- name: Rolling restart of Magnum"))
        let end = try #require(text.range(of: "\n- name: Final check"))
        return String(text[start.lowerBound..<end.lowerBound])
    }

    static func inventory(_ vars: String = "{}") -> String {
        """
        all:
          vars: \(vars)
          children:
            controllers:
              hosts: {c1: {ansible_host: 10.0.0.1}, c2: {ansible_host: 10.0.0.2}}
        """
    }

    /// What a SysV controller's probe prints: the service runs, its process started 500 s ago, and every file
    /// asked about changed at `modified` (seconds since the epoch).
    static func probeAnswer(modified: Double) -> [String: String] {
        let stat = "42 (magnum) S " + Array(repeating: "0", count: 18).joined(separator: " ") + " 50000 0 0"
        return [
            "if [ -d /run/systemd/system ]": """
            manager=sysv
            load=loaded
            status=0
            enabled=yes
            pidfile=1
            pid=42
            stat=\(stat)
            ticks=100
            uptime=1000.00
            now=1796224000.000000000
            mtime1=\(modified)
            mtime2=\(modified)
            --output--

            """
        ]
    }

    @Test func eachServiceIsProbedWithItsOwnFilesAndPidFileAndAFreshOneIsLeftAlone() async throws {
        let harness = EngineHarness()
        let summary = try await harness.run(
            inventory: Self.inventory(), playbook: try Self.play(), skipPreflight: true,
            answers: Self.probeAnswer(modified: 1_796_223_000))
        #expect(summary.outcomes(Self.step) == ["c1": .ok, "c2": .ok], "\(summary.reports.compactMap(\.error))")
        #expect(summary.outcomes("Magnum API answers on this controller") == ["c1": .skipped, "c2": .skipped])
        #expect(harness.journal.writes().isEmpty)
        let probes = harness.journal.scripts(on: "c1").filter { $0.hasPrefix("if [ -d /run/systemd/system ]") }
        #expect(probes.count == 2)
        let api = try #require(probes.first { $0.contains("/run/magnum/magnum-api.pid") })
        let conductor = try #require(probes.first { $0.contains("/run/magnum/magnum-conductor.pid") })
        #expect(
            api.contains("if [ -e /etc/magnum/magnum.conf ]; then printf 'mtime1=")
                && api.contains("if [ -e /etc/default/magnum-api ]; then printf 'mtime2="))
        #expect(
            conductor.contains("if [ -e /etc/magnum/magnum.conf ]; then printf 'mtime1=")
                && !conductor.contains("/etc/default/magnum-api"))
    }

    @Test func aStaleServiceIsDriftInCheckMode() async throws {
        let harness = EngineHarness()
        let summary = try await harness.run(
            inventory: Self.inventory("{magnum_services: [magnum-conductor]}"),
            playbook: try Self.play(), check: true, skipPreflight: true,
            answers: Self.probeAnswer(modified: 1_796_223_900))
        #expect(summary.outcomes(Self.step) == ["c1": .changed, "c2": .changed], "\(summary.reports.compactMap(\.error))")
        let diffs = summary.reports.filter { $0.step == Self.step }.flatMap(\.diffs)
        #expect(diffs.allSatisfy { $0.after == "restarted: /etc/magnum/magnum.conf changed 2026-12-02T15:05:00Z" }, "\(diffs)")
        #expect(harness.journal.writes().isEmpty)
    }
}
