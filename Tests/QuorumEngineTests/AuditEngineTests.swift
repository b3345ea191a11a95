import Foundation
import QuorumCore
import Testing

@testable import QuorumEngine

/// `quorum audit` through the real engine against in-memory hosts: a check-mode run folded into the
/// audit report. The lab tests (AuditTests) prove the same against real controllers.
@Suite struct AuditEngineTests {
    static let inventory = """
        all:
          children:
            controllers:
              hosts: {c1: {}, c2: {}, c3: {}}
              vars:
                magnum_password: Sup3r-Secret-1
        """

    static let playbook = """
        - name: config
          hosts: controllers
          steps:
            - name: magnum.conf
              ini:
                path: /etc/magnum/magnum.conf
                settings:
                  keystone_authtoken: {memcached_servers: "10.0.0.4:11211", password: "{{ magnum_password }}"}
              notify: flag restart
            - name: api port
              ini: {path: /etc/magnum/magnum.conf, settings: {api: {port: 9511}}}
            - name: database migration
              command: magnum-db-manage upgrade
            - name: never here
              command: "true"
              when: false
          handlers:
            - name: flag restart
              copy: {dest: /run/magnum-restart, content: "1"}
        """

    static func conf(memcached: String, password: String, extra: String = "") -> String {
        "[DEFAULT]\n\(extra)[api]\nport = 9511\n[keystone_authtoken]\nmemcached_servers = \(memcached)\npassword = \(password)\n"
    }

    static let files = [
        "c1:/etc/magnum/magnum.conf": conf(
            memcached: "10.0.0.4:11211", password: "Sup3r-Secret-1",
            extra: "rabbit_hosts = a:5672\nrabbit_password = R4bbit-Old-7\n"),
        "c2:/etc/magnum/magnum.conf": conf(memcached: "10.0.0.9:11211", password: "Old-Secret-22"),
        "c3:/etc/magnum/magnum.conf": conf(memcached: "10.0.0.4:11211", password: "Sup3r-Secret-1")
    ]

    @Test("audit writes nothing; drift, handler drift, findings and not-audited steps land on the right hosts")
    func auditWritesNothing() async throws {
        let h = EngineHarness()
        let summary = try await h.run(inventory: Self.inventory, playbook: Self.playbook, check: true, remoteFiles: Self.files)
        #expect(h.journal.writes().isEmpty, "writes during an audit: \(h.journal.writes())")

        let report = AuditReport(summary: summary, command: "quorum audit pb.yml", strict: false)
        let byHost = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.host, $0) })
        #expect(report.hosts.map(\.host) == ["c1", "c2", "c3"])
        #expect(byHost["c1"]?.status == .clean && byHost["c3"]?.status == .clean)
        #expect(byHost["c2"]?.status == .drift)
        #expect(byHost["c2"]?.drift.map(\.step) == ["magnum.conf", "flag restart"])
        #expect(byHost["c2"]?.drift.last?.handler == true)
        let differences = byHost["c2"]?.drift.first?.differences ?? []
        #expect(differences.map(\.subject) == ["[keystone_authtoken] memcached_servers", "[keystone_authtoken] password"])
        #expect(differences.first?.before == "10.0.0.9:11211" && differences.first?.after == "10.0.0.4:11211")
        #expect(differences.last?.secret == true && differences.last?.before == "********" && differences.last?.after == "********")

        // Two ini steps read c1's file: each finding once.
        #expect(byHost["c1"]?.findings.map(\.subject) == ["[DEFAULT] rabbit_hosts", "[DEFAULT] rabbit_password"])
        #expect(byHost["c1"]?.findings.allSatisfy { $0.replacement == "[DEFAULT] transport_url" } == true)
        #expect(byHost.values.allSatisfy { $0.notAudited.map(\.step) == ["database migration"] })
        #expect(
            report.summary
                == AuditReport.Summary(
                    hosts: 3, probes: 7, driftedSteps: 2, driftedHosts: 1, findings: 2,
                    failed: 0, unreachable: 0, notAudited: 3))
        #expect(report.exitStatus == .drift)

        let everything = [
            String(decoding: try report.jsonData(), as: UTF8.self), AuditTable(report).render(),
            AuditJUnit(report: report, results: summary.reports).render()
        ].joined()
        for secret in ["Sup3r-Secret-1", "Old-Secret-22", "R4bbit-Old-7"] {
            #expect(!everything.contains(secret), "\(secret) leaked")
        }
    }

    @Test("no drift: exit 0 even with findings; --strict turns findings into drift (exit 4)")
    func findingsAndStrict() async throws {
        let h = EngineHarness()
        let files = [
            "/etc/magnum/magnum.conf": Self.conf(
                memcached: "10.0.0.4:11211", password: "Sup3r-Secret-1",
                extra: "rpc_backend = rabbit\n")
        ]
        let summary = try await h.run(inventory: Self.inventory, playbook: Self.playbook, check: true, remoteFiles: files)
        let plain = AuditReport(summary: summary, command: "quorum audit", strict: false)
        #expect(plain.exitStatus == .success)
        #expect(plain.summary.findings == 3 && plain.summary.driftedSteps == 0)
        #expect(plain.hosts.allSatisfy { $0.status == .clean })
        let strict = AuditReport(summary: summary, command: "quorum audit --strict", strict: true)
        #expect(strict.exitStatus == .drift)
        #expect(strict.hosts.allSatisfy { $0.status == .drift })
        #expect(h.journal.writes().isEmpty)
    }

    /// `unless` makes a command auditable: its read-only probe runs in check mode (here it exits 1 on c2 only).
    static let probedPlaybook = """
        - name: schema
          hosts: controllers
          steps:
            - name: database schema
              command: {cmd: "magnum-db-manage upgrade && hostname", unless: "schema-current FAIL-ON-c2"}
              register: schema
              # What apply would print is not known in check mode: undefined output counts as a change.
              changed_when: "schema.stdout is undefined or schema.stdout != ''"
            - name: unprobed
              command: make
        """

    @Test("a command with `unless` is audited: the probe runs in check mode, exit 1 is drift, exit 0 is clean; apply runs the command only there")
    func commandWithUnlessIsAudited() async throws {
        let h = EngineHarness()
        let summary = try await h.run(inventory: Self.inventory, playbook: Self.probedPlaybook, check: true)
        #expect(h.journal.writes().isEmpty)
        let report = AuditReport(summary: summary, command: "quorum audit", strict: false)
        #expect(report.hosts.map(\.status) == [.clean, .drift, .clean])
        #expect(report.hosts[1].drift.map(\.step) == ["database schema"])
        #expect(report.hosts[1].drift.first?.message == "would run: `unless` probe exited 1: boom")
        // Only the command without a probe is not audited.
        #expect(report.hosts.allSatisfy { $0.notAudited.map(\.step) == ["unprobed"] })
        #expect(report.summary.probes == 3 && report.summary.notAudited == 3 && report.exitStatus == .drift)
        for host in ["c1", "c2", "c3"] {
            #expect(h.journal.scripts(on: host) == ["schema-current FAIL-ON-c2"], "\(host): only the probe runs in check mode")
        }

        let apply = EngineHarness()
        let applied = try await apply.run(inventory: Self.inventory, playbook: Self.probedPlaybook)
        #expect(applied.outcomes("database schema") == ["c1": .ok, "c2": .changed, "c3": .ok])
        #expect(apply.journal.writes(on: "c2") == ["magnum-db-manage upgrade && hostname", "make"])
        #expect(apply.journal.writes(on: "c1") == ["make"] && apply.journal.writes(on: "c3") == ["make"])
    }

    @Test("an unreachable host: exit 3, its error in the report, the others audited")
    func unreachable() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: Self.inventory, playbook: Self.playbook, check: true,
            unreachable: ["c3"], remoteFiles: Self.files)
        let report = AuditReport(summary: summary, command: "quorum audit", strict: false)
        #expect(report.exitStatus == .unreachable)
        #expect(report.hosts.last?.status == .unreachable)
        #expect(report.hosts.last?.error?.contains("connection refused") == true)
        #expect(report.summary.unreachable == 1 && report.summary.driftedHosts == 1)
    }
}
