import Foundation
import QuorumCore
import QuorumSteps
import Synchronization
import Testing

@testable import QuorumEngine

/// Preflight through the real engine against in-memory hosts: each missing need fails the run with exit 2,
/// named with host and cause, before any write anywhere; needs an earlier step of the run creates do not fail.
/// (Keystone's needs are in QuorumStepsTests' StepPreflightTests, against the fake Keystone.)
@Suite struct PreflightEngineTests {
    /// A run that stopped in preflight: exit 2, only preflight reports, and not one write on any host.
    func expectStoppedBeforeAnyWrite(
        _ summary: RunSummary, _ h: EngineHarness, failing hosts: [String],
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        #expect(summary.exitStatus == .stepFailed, sourceLocation: sourceLocation)
        #expect(
            summary.reports.allSatisfy { $0.kind == "preflight" && $0.outcome == .failed }, "\(summary.reports.map(\.step))",
            sourceLocation: sourceLocation)
        #expect(summary.reports.map(\.host) == hosts, sourceLocation: sourceLocation)
        #expect(h.journal.writes().isEmpty, "written: \(h.journal.writes())", sourceLocation: sourceLocation)
        #expect(h.journal.hostFiles.withLock { $0.isEmpty }, sourceLocation: sourceLocation)
        #expect(h.recorder.stopped.withLock { $0.contains { $0.contains("nothing was written") } }, sourceLocation: sourceLocation)
    }

    /// The changes of a real play come first; the need is checked by a later step or a handler.
    static func play(_ body: String, preflight: String = "") -> String {
        """
        - name: deploy
          hosts: controllers
        \(preflight)
          steps:
            - name: first change
              copy: {dest: /etc/first, content: "x"}
              notify: reload
        \(body)
          handlers:
            - name: reload
              command: reload
        """
    }

    @Test("a play's `preflight:` probe failing on c2: exit 2 before any write, named with host, check and output")
    func playProbe() async throws {
        let h = EngineHarness()
        let playbook = Self.play(
            "",
            preflight: """
                  preflight:
                    - name: installed Magnum matches magnum_release
                      command: "check-release FAIL-ON-c2"
                    - name: never on c3
                      command: "FAIL-ON-c3"
                      when: inventory_hostname != 'c3'
                """)
        let summary = try await h.run(inventory: EngineHarness.threeHosts, playbook: playbook)
        expectStoppedBeforeAnyWrite(summary, h, failing: ["c2"])
        let failure = try #require(summary.reports.first)
        #expect(failure.step == "preflight: installed Magnum matches magnum_release")
        #expect(failure.error == "the check failed (exit 1): boom")
        #expect(failure.location.hasSuffix("pb.yml:4:7"), "\(failure.location)")
        // Read-only: the probe went through `probe`, on every host.
        for host in ["c1", "c2", "c3"] { #expect(h.journal.scripts(on: host).contains("check-release FAIL-ON-c2")) }

        // --skip-preflight: the run goes on and makes its changes.
        let skipped = EngineHarness()
        let run = try await skipped.run(inventory: EngineHarness.threeHosts, playbook: playbook, skipPreflight: true)
        #expect(run.exitStatus == .success && !skipped.journal.writes().isEmpty)
    }

    static let iptablesSave = """
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -p tcp -m multiport --dports 6641,6642 -m comment --comment "116 openvswitch db" -j ACCEPT
        COMMIT
        """

    static let magnumRule = """
            - name: Magnum API port in the firewall
              iptables: {comment: "180 magnum-api", destination_ports: [9511], position: {after_comment: "116 openvswitch db"}}
        """

    @Test("iptables: a missing anchor rule fails on every host before any write; present, or placed by an earlier step, it passes")
    func iptablesAnchor() async throws {
        let h = EngineHarness()
        let summary = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.play(Self.magnumRule))
        expectStoppedBeforeAnyWrite(summary, h, failing: ["c1", "c2", "c3"])
        #expect(summary.reports.first?.step == "preflight: Magnum API port in the firewall")
        #expect(summary.reports.first?.error == "no rule commented `116 openvswitch db` in chain INPUT to place `180 magnum-api` after")

        let present = EngineHarness()
        let passed = try await present.run(
            inventory: EngineHarness.threeHosts, playbook: Self.play(Self.magnumRule),
            answers: ["iptables-save -t filter": Self.iptablesSave])
        #expect(!passed.reports.contains { $0.kind == "preflight" }, "\(passed.reports.filter { $0.kind == "preflight" }.map(\.error))")
        #expect(passed.outcomes("first change") == ["c1": .changed, "c2": .changed, "c3": .changed])

        let planned = EngineHarness()
        let anchorFirst = """
                - name: the anchor, placed by this run
                  iptables: {comment: "116 openvswitch db", destination_ports: [6641, 6642]}
            \(Self.magnumRule)
            """
        let run = try await planned.run(inventory: EngineHarness.threeHosts, playbook: Self.play(anchorFirst))
        #expect(!run.reports.contains { $0.kind == "preflight" }, "\(run.reports.filter { $0.kind == "preflight" }.map(\.error))")
        #expect(run.outcomes("first change").count == 3, "the run went on")
    }

    static let crmMon =
        #"<pacemaker-result><resources><clone id="p_haproxy-clone"><resource id="p_haproxy" role="Started" active="true"><node name="c1" id="1"/></resource></clone></resources></pacemaker-result>"#

    @Test("pcs_resource (a handler, once for the play): a missing resource fails before any write; an existing one passes")
    func pcsResource() async throws {
        let playbook = """
            - name: deploy
              hosts: controllers
              steps:
                - name: stanza
                  copy: {dest: /etc/haproxy/conf.d/180-magnum.cfg, content: "listen magnum"}
                  notify: toggle
              handlers:
                - name: toggle
                  pcs_resource: {resource: p_haproxy}
            """
        let h = EngineHarness()
        let summary = try await h.run(inventory: EngineHarness.threeHosts, playbook: playbook)
        expectStoppedBeforeAnyWrite(summary, h, failing: ["c1"])
        #expect(summary.reports.first?.isHandler == true)
        #expect(summary.reports.first?.error == "no Pacemaker resource `p_haproxy` in the cluster (crm_mon on c1)")

        let present = EngineHarness()
        let passed = try await present.run(
            inventory: EngineHarness.threeHosts, playbook: playbook,
            answers: ["crm_mon -1 --output-as=xml": Self.crmMon])
        #expect(!passed.reports.contains { $0.kind == "preflight" })
        #expect(passed.outcomes("stanza").count == 3)
    }

    @Test("a template validated by HAProxy: an invalid base configuration on c1 fails before any write; the check only reads")
    func haproxyBase() async throws {
        let playbook = Self.play(
            """
                - name: HAProxy stanza
                  template:
                    src: stanza.cfg.j2
                    dest: /etc/haproxy/conf.d/180-magnum.cfg
                    validate: "haproxy -c -f /etc/haproxy/haproxy.cfg -f %s FAIL-ON-{{ bad_host }}"
            """
        ).replacingOccurrences(of: "  hosts: controllers", with: "  hosts: controllers\n  vars: {bad_host: c1}")
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts, playbook: playbook,
            files: ["files/stanza.cfg.j2": "listen magnum\n"])
        expectStoppedBeforeAnyWrite(summary, h, failing: ["c1"])
        #expect(summary.reports.first?.error?.hasPrefix("HAProxy's configuration is invalid without /etc/haproxy/conf.d/180-magnum.cfg") == true)
        let check = try #require(h.journal.scripts(on: "c1").first { $0.contains("haproxy -c") })
        #expect(check.contains("-f /dev/null FAIL-ON-c1"), "the base alone, with an empty file in the stanza's place: \(check)")

        let valid = EngineHarness()
        let run = try await valid.run(
            inventory: EngineHarness.threeHosts,
            playbook: playbook.replacingOccurrences(of: "bad_host: c1", with: "bad_host: none"),
            files: ["files/stanza.cfg.j2": "listen magnum\n"])
        #expect(!run.reports.contains { $0.kind == "preflight" })
    }

    @Test("mysql: a server that does not answer fails once for the play, before any write")
    func mysqlLogin() async throws {
        let h = EngineHarness()
        let summary = try await h.run(
            inventory: EngineHarness.threeHosts,
            playbook: Self.play(
                """
                    - name: magnum database
                      mysql_database: {name: magnum, login: {host: 127.0.0.1, port: 1, via: direct, password: Adm1n-Pa55, connect_timeout: 5}}
                """))
        expectStoppedBeforeAnyWrite(summary, h, failing: ["c1"])
        #expect(
            summary.reports.first?.error?.hasPrefix("cannot log in to MySQL at 127.0.0.1:1 as root") == true,
            "\(summary.reports.first?.error ?? "")")
        #expect(summary.reports.allSatisfy { !($0.error ?? "").contains("Adm1n-Pa55") })
    }

    @Test("check mode: preflight failures are reported as failures (exit 2) and the check goes on; nothing written")
    func checkModeReportsAndGoesOn() async throws {
        let h = EngineHarness()
        let summary = try await h.run(inventory: EngineHarness.threeHosts, playbook: Self.play(Self.magnumRule), check: true)
        #expect(summary.exitStatus == .stepFailed)
        #expect(summary.reports.filter { $0.kind == "preflight" }.map(\.host) == ["c1", "c2", "c3"])
        #expect(summary.outcomes("first change") == ["c1": .changed, "c2": .changed, "c3": .changed], "the check went on")
        #expect(h.journal.writes().isEmpty)
        let report = AuditReport(summary: summary, command: "quorum audit", strict: false)
        #expect(report.hosts.allSatisfy { $0.failures.contains { $0.step == "preflight: Magnum API port in the firewall" } })
    }

    /// The `magnum_release` check proposed for playbooks/magnum-ha.yml's configuration play: Magnum's `[trust]`
    /// exists up to 2026.1 (Magnum 22), so a release declared on the other side of that line than the Magnum on
    /// the host (or the one apt would install) would strip `[trust]` from a working cloud, or write it for a
    /// Magnum that has none. Nothing installed and nothing to install: nothing to compare.
    static let magnumReleaseCheck = """
          preflight:
            - name: Magnum on the host is on magnum_release's side of 2026.1 ([trust])
              command: >-
                v=$(dpkg-query -W -f '${Version}' python3-magnum 2>/dev/null);
                [ -n "$v" ] || v=$(apt-cache policy python3-magnum 2>/dev/null | sed -n 's/^ *Candidate: *//p');
                case "$v" in ''|'(none)') exit 0;; esac;
                major=${v#*:}; major=${major%%.*};
                {% if magnum_release is version('2026.1', '>') %}[ "$major" -ge 23 ]{% else %}[ "$major" -le 22 ]{% endif %} || {
                echo "magnum_release {{ magnum_release }} does not match Magnum $v on this host: {{ 'a release after 2026.1 (no [trust]) needs Magnum 23 or later' if magnum_release is version('2026.1', '>') else 'a release up to 2026.1 (with [trust]) needs Magnum 22 or earlier' }}" >&2; exit 1; }
        """

    @Test("the magnum_release check renders to a script that passes and fails as it should (run by /bin/sh with stand-in dpkg-query and apt-cache)")
    func magnumReleaseCheck() async throws {
        let stubs = NSTemporaryDirectory() + "quorum-dpkg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: stubs) }
        try "#!/bin/sh\nprintf '%s' \"$STUB_DPKG\"\n".write(toFile: stubs + "/dpkg-query", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nprintf 'python3-magnum:\\n  Candidate: %s\\n' \"${STUB_APT:-(none)}\"\n"
            .write(toFile: stubs + "/apt-cache", atomically: true, encoding: .utf8)
        for tool in ["dpkg-query", "apt-cache"] { chmod(stubs + "/" + tool, 0o755) }

        func script(release: String) async throws -> String {
            let h = EngineHarness()
            let playbook = Self.play("", preflight: Self.magnumReleaseCheck)
                .replacingOccurrences(of: "  hosts: controllers", with: "  hosts: controllers\n  vars: {magnum_release: \"\(release)\"}")
            _ = try await h.run(inventory: EngineHarness.threeHosts, playbook: playbook)
            return try #require(h.journal.scripts(on: "c1").first { $0.contains("dpkg-query") })
        }
        func run(_ script: String, dpkg: String, apt: String = "") throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script]
            process.environment = ["PATH": stubs + ":/usr/bin:/bin", "STUB_DPKG": dpkg, "STUB_APT": apt]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, message)
        }
        let after = try await script(release: "2026.2")
        let upTo = try await script(release: "2025.2")
        #expect(try run(after, dpkg: "23.0.0-1").0 == 0)
        let stripped = try run(after, dpkg: "2:22.0.0-1")
        #expect(stripped.0 == 1)
        #expect(
            stripped.1 == "magnum_release 2026.2 does not match Magnum 2:22.0.0-1 on this host: a release after 2026.1 (no [trust]) needs Magnum 23 or later\n")
        #expect(try run(after, dpkg: "", apt: "22.0.0-1").0 == 1, "about to install the older one")
        #expect(try run(after, dpkg: "").0 == 0, "nothing installed, nothing to install")
        #expect(try run(upTo, dpkg: "15.0.0-4").0 == 0, "the lab: Debian's Magnum 15 with 2025.2")
        #expect(try run(upTo, dpkg: "23.0.0-1").0 == 1)
    }

    @Test("`preflight:` in a playbook: bad shapes are diagnostics with file:line:col")
    func loaderDiagnostics() throws {
        let dir = NSTemporaryDirectory() + "quorum-preflight-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        - hosts: all
          preflight:
            - {name: release, comand: "true"}
            - name: no command
            - just a string
          steps: []
        """.write(toFile: dir + "/pb.yml", atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigurationError.self) { try PlaybookLoader(catalog: StepCatalog.byName).load(dir + "/pb.yml") }
        let messages = error?.diagnostics.map { "\($0.location?.line ?? 0):\($0.location?.column ?? 0) \($0.message)" } ?? []
        #expect(messages.contains("3:23 unknown preflight keyword `comand`"), "\(messages)")
        #expect(messages.contains("3:7 the preflight check has no `command:`"), "\(messages)")
        #expect(messages.contains("4:7 the preflight check has no `command:`"), "\(messages)")
        #expect(messages.contains("5:7 a preflight check must be a map with `command:` (and `name:`), found a string"), "\(messages)")

        try """
        - hosts: all
          preflight:
            - {name: release, command: "dpkg-query -W python3-magnum", when: "x is defined"}
          steps: []
        """.write(toFile: dir + "/ok.yml", atomically: true, encoding: .utf8)
        let play = try #require(try PlaybookLoader(catalog: StepCatalog.byName).load(dir + "/ok.yml").plays.first)
        #expect(play.preflight.map(\.command) == ["dpkg-query -W python3-magnum"])
        #expect(play.preflight.first?.when.map(\.value) == ["x is defined"])
    }
}
