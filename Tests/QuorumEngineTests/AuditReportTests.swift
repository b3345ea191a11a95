import Foundation
import QuorumCore
import Testing

@testable import QuorumEngine

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The audit's report builders (table, JSON, JUnit) on hand-made step reports.
@Suite struct AuditReportTests {
    static func step(
        _ host: String, _ name: String, kind: String = "ini", _ outcome: Outcome, diffs: [Diff] = [],
        message: String? = nil, error: String? = nil, handler: Bool = false, findings: [Finding] = [],
        unchecked: String? = nil, skipReason: String? = nil, play: String = "config"
    ) -> StepReport {
        var report = StepReport(
            host: host, play: play, step: name, kind: kind, outcome: outcome, duration: 0.25, diffs: diffs,
            message: message, error: error, location: "pb.yml:10:7", isHandler: handler, runOnce: false,
            ignored: false, items: nil, skipReason: skipReason)
        report.findings = findings
        report.unchecked = unchecked
        return report
    }

    static let rabbitHosts = Finding(
        file: "/etc/magnum/magnum.conf", subject: "[DEFAULT] rabbit_hosts",
        message: "[DEFAULT] rabbit_hosts: removed in oslo.messaging 9.0.0 (Stein); use [DEFAULT] transport_url",
        replacement: "[DEFAULT] transport_url")

    /// Three hosts: ctl1 drifts (an option, a secret, a file, a handler), ctl2 has a finding seen by two steps,
    /// a step not audited and a failure; ctl3 is unreachable.
    static func summary() -> RunSummary {
        let reports = [
            step(
                "ctl1", "magnum.conf", .changed,
                diffs: [
                    Diff(subject: "[keystone_authtoken] memcached_servers", before: "10.0.0.4:11211", after: "10.0.0.5:11211"),
                    Diff(subject: "[keystone_authtoken] password", before: "Leaked-0ld", after: "Leaked-N3w", secret: true),
                    Diff(subject: "[trust] trustee_domain_admin_password", before: nil, after: "Leaked-N3w", secret: true),
                    Diff(subject: "[keystone_authtoken] auth_url", before: "http://k:5000/v3\nhttp://k:35357/v3", after: "http://k:5000/v3")
                ], message: "2 options set"),
            step(
                "ctl1", "HAProxy stanza", kind: "template", .changed,
                diffs: [
                    .file(
                        "/etc/haproxy/conf.d/180-magnum.cfg", before: "listen magnum\n  bind 10.0.0.2:9511\n",
                        after: "listen magnum\n  bind 10.0.0.2:9512\n")
                ]),
            step("ctl1", "restart haproxy", kind: "pcs_resource", .changed, handler: true),
            step("ctl2", "magnum.conf", .ok, findings: [rabbitHosts]),
            step("ctl2", "[trust]", .ok, findings: [rabbitHosts]),
            step(
                "ctl2", "migrate <db> & \"go\"", kind: "command", .changed, message: "would run",
                unchecked: "a command is not run in check mode"),
            step("ctl2", "firewall", kind: "iptables", .failed, error: "cannot read the iptables rules (exit 1)"),
            step("ctl2", "packages", kind: "apt", .skipped, skipReason: "condition false: manage"),
            step("ctl3", "connect", kind: "connect", .unreachable, error: "ctl3: connection refused")
        ]
        return RunSummary(
            recap: [:], hosts: ["ctl1", "ctl2", "ctl3"], reports: reports, check: true, duration: 1.5,
            unreachableErrors: ["ctl3": "ctl3: connection refused"])
    }

    @Test("the table: drift per host and step with what differs, secrets masked, then findings, not audited, failures, unreachable, summary")
    func table() {
        let text = AuditTable(AuditReport(summary: Self.summary(), command: "quorum audit", strict: false)).render()
        let expectedLines = [
            "DRIFT",
            "  ctl1",
            "    ~ magnum.conf  (ini, pb.yml:10:7)  2 options set",
            "        [keystone_authtoken] memcached_servers: 10.0.0.4:11211 → 10.0.0.5:11211",
            "        [keystone_authtoken] password: ******** → ******** (differs)",
            "        [trust] trustee_domain_admin_password: ******** → ******** (set)",
            "        [keystone_authtoken] auth_url: http://k:5000/v3 ↵ http://k:35357/v3 → http://k:5000/v3",
            "    ~ HAProxy stanza  (template, pb.yml:10:7)",
            "        --- /etc/haproxy/conf.d/180-magnum.cfg (before)",
            "        -  bind 10.0.0.2:9511",
            "        +  bind 10.0.0.2:9512",
            "    ~ handler: restart haproxy  (pcs_resource, pb.yml:10:7)",
            "FINDINGS",
            "  ctl2  warning: /etc/magnum/magnum.conf: [DEFAULT] rabbit_hosts: removed in oslo.messaging 9.0.0 (Stein); use [DEFAULT] transport_url",
            "NOT AUDITED",
            "  ctl2  migrate <db> & \"go\": a command is not run in check mode",
            "FAILED",
            "  ctl2  step \"firewall\" (pb.yml:10:7): cannot read the iptables rules (exit 1)",
            "UNREACHABLE",
            "  ctl3  ctl3: connection refused",
            "audit: 3 hosts, 6 probes, drift in 3 steps on 1 host, 1 warning, 1 failed, 1 unreachable, 0 unhealthy, 1 not audited (1.50s, exit 3)"
        ]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        var position = 0
        for expected in expectedLines {
            guard let found = lines[position...].firstIndex(of: expected) else {
                Issue.record("missing or out of order: \(expected)\n--- table:\n\(text)")
                return
            }
            position = found + 1
        }
        #expect(lines.last?.hasPrefix("audit: ") == true)
        let bind = lines.firstIndex(of: "        +  bind 10.0.0.2:9512")
        #expect(bind.map { lines[$0 + 1] } == "    ~ handler: restart haproxy  (pcs_resource, pb.yml:10:7)", "no blank line after a file diff")
        #expect(!text.contains("Leaked"))
        #expect(!text.contains("packages"), "a step skipped by its condition is not in the report")
        #expect(!text.contains("HEALTH"), "no health check failed: no HEALTH section")
    }

    @Test("JSON: exactly the documented keys, null where absent, secrets as ********, and a lossless round trip")
    func json() throws {
        let report = AuditReport(summary: Self.summary(), command: "quorum audit pb.yml -i inv.yml", strict: false)
        let data = try report.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("Leaked"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["schema", "command", "duration", "exit_code", "strict", "summary", "hosts"])
        #expect(object["schema"] as? String == "quorum.audit/1")
        #expect(object["exit_code"] as? Int == 3)
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(
            summary == [
                "hosts": 3, "probes": 6, "drifted_steps": 3, "drifted_hosts": 1, "findings": 1, "failed": 1,
                "unreachable": 1, "not_audited": 1, "unhealthy": 0
            ])
        let hosts = try #require(object["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["status"] as? String } == ["drift", "failed", "unreachable"])
        for host in hosts {
            #expect(Set(host.keys) == ["host", "status", "error", "drift", "findings", "failures", "not_audited", "health"])
        }
        #expect(hosts[0]["error"] is NSNull)
        let drift = try #require((hosts[0]["drift"] as? [[String: Any]])?.first)
        #expect(Set(drift.keys) == ["play", "step", "kind", "location", "handler", "message", "differences"])
        let differences = try #require(drift["differences"] as? [[String: Any]])
        #expect(Set(differences[0].keys) == ["subject", "before", "after", "secret", "file"])
        #expect(differences[1]["before"] as? String == "********" && differences[1]["after"] as? String == "********")
        #expect(differences[2]["before"] is NSNull && differences[2]["after"] as? String == "********")
        let finding = try #require((hosts[1]["findings"] as? [[String: Any]])?.first)
        #expect(Set(finding.keys) == ["severity", "file", "subject", "message", "replacement"])
        #expect(finding["severity"] as? String == "warning")
        #expect((hosts[1]["not_audited"] as? [[String: String]])?.first?["reason"] == "a command is not run in check mode")
        #expect((hosts[1]["failures"] as? [[String: String]])?.first?.keys.sorted() == ["error", "location", "step"])

        let decoded = try JSONDecoder().decode(AuditReport.self, from: data)
        #expect(decoded == report)
    }

    @Test("JUnit: well-formed XML that Foundation's parser reads back, one suite per host, a testcase per step probed")
    func junit() throws {
        for strict in [false, true] {
            let summary = Self.summary()
            let report = AuditReport(summary: summary, command: "quorum audit", strict: strict)
            let xml = AuditJUnit(report: report, results: summary.reports).render()
            #expect(!xml.contains("Leaked"))
            let document = try XMLDocument(xmlString: xml, options: [])
            let root = try #require(document.rootElement())
            #expect(root.name == "testsuites")
            let suites = root.elements(forName: "testsuite")
            #expect(suites.map { $0.attribute(forName: "name")?.stringValue } == ["ctl1", "ctl2", "ctl3"])
            let ctl1 = suites[0].elements(forName: "testcase")
            #expect(ctl1.map { $0.attribute(forName: "name")?.stringValue ?? "" } == ["magnum.conf", "HAProxy stanza", "handler: restart haproxy"])
            #expect(ctl1.allSatisfy { $0.elements(forName: "failure").count == 1 })
            #expect(ctl1[0].attribute(forName: "classname")?.stringValue == "config")
            let failureText = ctl1[0].elements(forName: "failure").first?.stringValue ?? ""
            #expect(failureText.contains("[keystone_authtoken] memcached_servers: 10.0.0.4:11211 → 10.0.0.5:11211"))
            #expect(failureText.contains("password: ******** → ******** (differs)"))

            let ctl2 = suites[1].elements(forName: "testcase")
            #expect(
                ctl2.map { $0.attribute(forName: "name")?.stringValue ?? "" }
                    == ["magnum.conf", "[trust]", "migrate <db> & \"go\"", "firewall"])
            #expect(ctl2[0].elements(forName: "failure").count == (strict ? 1 : 0))
            #expect(ctl2[0].elements(forName: "system-out").count == (strict ? 0 : 1))
            #expect(
                ctl2[1].elements(forName: "failure").isEmpty && ctl2[1].elements(forName: "system-out").isEmpty,
                "a finding seen twice is reported once")
            #expect(
                ctl2[2].elements(forName: "skipped").first?.attribute(forName: "message")?.stringValue
                    == "a command is not run in check mode")
            #expect(ctl2[3].elements(forName: "error").count == 1)
            #expect(suites[1].attribute(forName: "failures")?.stringValue == (strict ? "1" : "0"))
            #expect(suites[1].attribute(forName: "errors")?.stringValue == "1")
            #expect(suites[1].attribute(forName: "skipped")?.stringValue == "1")
            #expect(suites[2].elements(forName: "testcase").first?.elements(forName: "error").count == 1)
            #expect(root.attribute(forName: "tests")?.stringValue == "8")
        }
    }

    @Test("XML escaping keeps markup, quotes, line breaks and control characters from breaking the document")
    func escaping() throws {
        let nasty = "a<b>&\"c\"'d'\n\te\u{01}f]]>"
        let escaped = JUnitDocument.escape(nasty)
        #expect(!escaped.contains("<") && !escaped.contains("\u{01}"))
        let document = try XMLDocument(xmlString: "<x a=\"\(escaped)\">\(escaped)</x>", options: [])
        #expect(document.rootElement()?.attribute(forName: "a")?.stringValue == "a<b>&\"c\"'d'\n\te\u{FFFD}f]]>")
    }

    @Test(
        "exit codes: unreachable 3 over failed 2 over drift 4 over unhealthy 5; findings are drift only with --strict",
        arguments: [
            ([AuditReport.Status.clean, .clean], 0),
            ([.clean, .drift], 4),
            ([.drift, .failed], 2),
            ([.failed, .unreachable, .drift], 3),
            ([.unreachable, .clean], 3),
            ([.clean, .unhealthy], 5),
            ([.unhealthy, .drift, .unhealthy], 4),
            ([.unhealthy, .failed], 2),
            ([.unhealthy, .unreachable], 3)
        ])
    func exitCodes(statuses: [AuditReport.Status], code: Int) {
        let hosts = statuses.enumerated().map { AuditReport.Host(host: "h\($0.offset)", status: $0.element) }
        #expect(Int(AuditReport.exitCode(hosts).rawValue) == code)
    }

    @Test("a finding alone: exit 0, and 4 with --strict")
    func strictFindings() {
        let summary = RunSummary(
            recap: [:], hosts: ["ctl1"], reports: [Self.step("ctl1", "magnum.conf", .ok, findings: [Self.rabbitHosts])],
            check: true, duration: 0.1, unreachableErrors: [:])
        #expect(AuditReport(summary: summary, command: "", strict: false).exitCode == 0)
        let strict = AuditReport(summary: summary, command: "", strict: true)
        #expect(strict.exitCode == 4)
        #expect(AuditTable(strict).summaryLine.contains("1 warning (strict)"))
    }

    /// ctl1: a health check failed (and another passed); ctl2: the same failure, but also drift and a finding.
    static func healthSummary() -> RunSummary {
        func unhealthy(_ host: String) -> StepReport {
            var report = step(
                host, "conductors up", kind: "http_check", .failed,
                error: "GET http://vip:9511/v1/mservices (directly): magnum-conductor on ctl2: state down (want up)")
            report.unhealthy = true
            return report
        }
        let reports = [
            unhealthy("ctl1"),
            step("ctl1", "API answers", kind: "http_check", .ok),
            unhealthy("ctl2"),
            step("ctl2", "magnum.conf", .changed, diffs: [Diff(subject: "[api] port", before: "9999", after: "9511")], findings: [rabbitHosts])
        ]
        var recap = ["ctl1": HostRecap(), "ctl2": HostRecap()]
        for report in reports { recap[report.host]?.count(report) }
        return RunSummary(recap: recap, hosts: ["ctl1", "ctl2"], reports: reports, check: true, duration: 0.5, unreachableErrors: [:])
    }

    @Test("health: its own section, status, JSON entries and JUnit failure type; passing checks are probes; drift wins the exit code")
    func health() throws {
        let summary = Self.healthSummary()
        let report = AuditReport(summary: summary, command: "quorum audit", strict: false)
        #expect(report.hosts.map(\.status) == [.unhealthy, .drift])
        #expect(report.exitCode == 4 && summary.exitStatus == .drift)
        #expect(report.summary.unhealthy == 2 && report.summary.failed == 0 && report.summary.probes == 4)
        #expect(report.hosts.allSatisfy { $0.failures.isEmpty })
        let problem = "GET http://vip:9511/v1/mservices (directly): magnum-conductor on ctl2: state down (want up)"
        #expect(report.hosts[0].health == [AuditReport.Health(step: "conductors up", location: "pb.yml:10:7", problem: problem)])

        let text = AuditTable(report).render()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let at = try #require(lines.firstIndex(of: "HEALTH"))
        #expect(lines[at + 1] == "  ctl1  step \"conductors up\" (pb.yml:10:7): " + problem)
        #expect(lines[at + 2] == "  ctl2  step \"conductors up\" (pb.yml:10:7): " + problem)
        #expect(at < lines.firstIndex(of: "FINDINGS") ?? 0 && (lines.firstIndex(of: "DRIFT") ?? 99) < at)
        #expect(!lines.contains("FAILED"))
        #expect(
            AuditTable(report).summaryLine.hasPrefix(
                "audit: 2 hosts, 4 probes, drift in 1 step on 1 host, 1 warning, 0 failed, 0 unreachable, 2 unhealthy, 0 not audited"))

        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        let hosts = try #require(object["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["status"] as? String } == ["unhealthy", "drift"])
        let entry = try #require((hosts[0]["health"] as? [[String: String]])?.first)
        #expect(entry == ["step": "conductors up", "location": "pb.yml:10:7", "problem": problem])
        #expect((object["summary"] as? [String: Int])?["unhealthy"] == 2)
        #expect(try JSONDecoder().decode(AuditReport.self, from: report.jsonData()) == report)

        let document = try XMLDocument(xmlString: AuditJUnit(report: report, results: summary.reports).render(), options: [])
        let suites = try #require(document.rootElement()).elements(forName: "testsuite")
        let ctl1 = suites[0].elements(forName: "testcase")
        let failure = try #require(ctl1.first?.elements(forName: "failure").first)
        #expect(failure.attribute(forName: "type")?.stringValue == "health")
        #expect(failure.attribute(forName: "message")?.stringValue == "health: " + problem && failure.stringValue == problem)
        #expect(ctl1.first?.elements(forName: "error").isEmpty == true)
        #expect(ctl1.last?.elements(forName: "failure").isEmpty == true, "a passing check is a passing testcase")
        #expect(suites[0].attribute(forName: "failures")?.stringValue == "1" && suites[0].attribute(forName: "errors")?.stringValue == "0")

        // Without the drift: 5, for the audit and for `apply --check`; apply itself says 2.
        let healthOnly = summary.reports.filter { $0.kind == "http_check" }
        var recap = ["ctl1": HostRecap(), "ctl2": HostRecap()]
        for result in healthOnly { recap[result.host]?.count(result) }
        let check = RunSummary(recap: recap, hosts: ["ctl1", "ctl2"], reports: healthOnly, check: true, duration: 0.1, unreachableErrors: [:])
        #expect(AuditReport(summary: check, command: "", strict: false).exitCode == 5 && check.exitStatus == .unhealthy)
        var apply = check
        apply.check = false
        #expect(apply.exitStatus == .stepFailed)
        #expect(recap["ctl1"]?.failed == 1 && recap["ctl1"]?.unhealthy == 1, "a failed health check counts in failed and in unhealthy")
    }
}
