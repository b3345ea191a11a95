import Foundation
import QuorumCore
import Testing

@testable import QuorumEngine

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `quorum apply --format junit`: one testcase per (host, step), failures for failed steps and unreachable
/// hosts, written by the same `JUnitDocument` as the audit's.
@Suite struct ApplyJUnitTests {
    static func summary(check: Bool = false) -> RunSummary {
        var ignored = AuditReportTests.step("ctl1", "optional", kind: "command", .failed, error: "exit 1")
        ignored.ignored = true
        let reports = [
            AuditReportTests.step(
                "ctl1", "magnum.conf", .changed,
                diffs: [
                    Diff(subject: "[keystone_authtoken] password", before: "Leaked-0ld", after: "Leaked-N3w", secret: true)
                ], message: "1 option set"),
            AuditReportTests.step("ctl1", "packages", kind: "apt", .skipped, skipReason: "condition false: manage"),
            ignored,
            AuditReportTests.step("ctl1", "restart <magnum> & \"api\"", kind: "service", .changed, handler: true),
            AuditReportTests.step("ctl2", "magnum.conf", .ok),
            AuditReportTests.step("ctl2", "firewall", kind: "iptables", .failed, error: "iptables: <exit 1>"),
            AuditReportTests.step("ctl3", "connect", kind: "connect", .unreachable, error: "ctl3: connection refused")
        ]
        return RunSummary(
            recap: [:], hosts: ["ctl1", "ctl2", "ctl3"], reports: reports, check: check, duration: 2,
            unreachableErrors: ["ctl3": "ctl3: connection refused"])
    }

    @Test("well-formed XML: a suite per host, a testcase per (host, step), failures for failed and unreachable")
    func document() throws {
        let xml = ApplyJUnit(summary: Self.summary()).render()
        #expect(!xml.contains("Leaked"))
        let root = try #require(try XMLDocument(xmlString: xml, options: []).rootElement())
        #expect(root.attribute(forName: "name")?.stringValue == "quorum apply")
        #expect(root.attribute(forName: "tests")?.stringValue == "7")
        #expect(root.attribute(forName: "failures")?.stringValue == "2")
        #expect(root.attribute(forName: "errors")?.stringValue == "0")
        #expect(root.attribute(forName: "skipped")?.stringValue == "1")
        let suites = root.elements(forName: "testsuite")
        #expect(suites.map { $0.attribute(forName: "name")?.stringValue } == ["ctl1", "ctl2", "ctl3"])

        let ctl1 = suites[0].elements(forName: "testcase")
        #expect(
            ctl1.map { $0.attribute(forName: "name")?.stringValue ?? "" }
                == ["magnum.conf", "packages", "optional", "handler: restart <magnum> & \"api\""])
        #expect(ctl1.allSatisfy { $0.elements(forName: "failure").isEmpty }, "changes, skips and ignored failures pass")
        let changed = ctl1[0].elements(forName: "system-out").first?.stringValue ?? ""
        #expect(changed == "changed: 1 option set\n[keystone_authtoken] password: ******** → ******** (differs)")
        #expect(ctl1[1].elements(forName: "skipped").first?.attribute(forName: "message")?.stringValue == "condition false: manage")
        #expect(ctl1[2].elements(forName: "system-out").first?.stringValue == "failed (ignored): exit 1")

        let failure = try #require(suites[1].elements(forName: "testcase")[1].elements(forName: "failure").first)
        #expect(failure.attribute(forName: "type")?.stringValue == "failed")
        #expect(failure.attribute(forName: "message")?.stringValue == "iptables: <exit 1>")
        let unreachable = try #require(suites[2].elements(forName: "testcase").first?.elements(forName: "failure").first)
        #expect(unreachable.attribute(forName: "type")?.stringValue == "unreachable")
        #expect(suites[1].attribute(forName: "failures")?.stringValue == "1")
    }

    @Test("apply --check: changes are what would change, and still pass")
    func checkMode() throws {
        let xml = ApplyJUnit(summary: Self.summary(check: true)).render()
        let root = try #require(try XMLDocument(xmlString: xml, options: []).rootElement())
        #expect(root.attribute(forName: "name")?.stringValue == "quorum apply --check")
        let first = root.elements(forName: "testsuite")[0].elements(forName: "testcase")[0]
        #expect(first.elements(forName: "system-out").first?.stringValue?.hasPrefix("would change: 1 option set") == true)
    }
}
