import Foundation
import QuorumTesting
import Testing

/// Preflight and durable handlers with playbooks/magnum-ha.yml on the lab (issue 14): a missing need stops
/// apply with exit 2 before any write (database, Keystone, files, firewall and HAProxy unchanged); a stanza
/// written by a run that ended before its toggle is reported by audit and toggled exactly once by the next apply.
/// Needs `/var/lib/quorum` private per controller (lab.sh PRIVATE_DIRS), as a real controller's disk is.
enum LabPreflight {
    static let pending = "/var/lib/quorum/pending-handlers"

    /// An apply of magnum-ha.yml that must stop in preflight: exit 2, only preflight failures (on `hosts`, each
    /// message containing `cause`), and the lab exactly as it was.
    static func expectStopped(
        _ extra: [String], failing hosts: Set<String>, cause: String,
        prepare: () throws -> Void = {}, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try prepare()
        let before = try LabSnapshot.take()
        let run = try QuorumCLI.apply(LabTests.magnumPlaybook, extra)
        let report = try #require(run.report, sourceLocation: sourceLocation)
        #expect(run.status == 2, "\(run.all)", sourceLocation: sourceLocation)
        #expect(
            report.results.allSatisfy { $0.kind == "preflight" && $0.outcome == "failed" },
            "\(report.results.map { "\($0.host)/\($0.step): \($0.outcome)" })", sourceLocation: sourceLocation)
        #expect(Set(report.results.map(\.host)) == hosts, sourceLocation: sourceLocation)
        // The missing need is named; what depends on it may fail after it (a role for a user its project stops).
        #expect(
            report.results.contains { $0.error?.contains(cause) == true }, "\(report.results.map(\.error))",
            sourceLocation: sourceLocation)
        #expect(try LabSnapshot.take() == before, "preflight changed the lab", sourceLocation: sourceLocation)
        for host in Lab.controllers {
            #expect(try Lab.exec(host, "test -e \(pending)").status != 0, "\(host): a pending record", sourceLocation: sourceLocation)
        }
    }
}

extension LabTests {
    @Test("preflight: each missing need (database login, Keystone project, anchor rule, Pacemaker resource, HAProxy base) is exit 2 before any write")
    func preflightStopsBeforeAnyWrite() throws {
        // From the converged lab: a run that stops in preflight leaves it converged (asserted by each case).
        try LabTests.ensureMagnumApplied()
        try LabPreflight.expectStopped(
            ["-e", "database_admin_password=Wrong-Pa55"], failing: ["ctl1"],
            cause: "cannot log in to MySQL")
        try LabPreflight.expectStopped(
            ["-e", "magnum_service_project=no-such-project"], failing: ["ctl1"],
            cause: "project `no-such-project` does not exist")
        try LabPreflight.expectStopped([], failing: ["ctl2"], cause: "no rule commented `116 openvswitch db`") {
            _ = try Lab.output("ctl2", "iptables -w 5 -S INPUT | grep -F '\"116 openvswitch db\"' | sed 's/^-A/-D/' | xargs -r -L1 iptables -w 5")
        }
        _ = try Lab.output("ctl2", "iptables-restore -w 5 </etc/iptables/rules.v4")  // the anchor back, from the saved rules
        try LabPreflight.expectStopped(
            ["-e", "haproxy_resource=p_missing"], failing: ["ctl1"],
            cause: "no Pacemaker resource `p_missing`")
        try LabPreflight.expectStopped([], failing: ["ctl3"], cause: "HAProxy's configuration is invalid without") {
            _ = try Lab.output("ctl3", "printf 'listen broken\\n  bind :1\\n  bogus-keyword\\n' > /etc/haproxy/conf.d/190-broken.cfg")
        }
        for host in Lab.controllers { _ = try Lab.exec(host, "rm -f /etc/haproxy/conf.d/190-broken.cfg") }
    }

    @Test("a stanza written by a run whose toggle never ran: audit reports the pending toggle, the next apply toggles exactly once, then never")
    func pendingToggleSurvivesTheRun() throws {
        try LabTests.ensureMagnumApplied()
        for host in Lab.controllers { _ = try Lab.output(host, "rm -f \(HA.stanza)") }
        // The toggle fails (no such resource; the preflight that would have caught it skipped): the stanza is new on
        // every controller, HAProxy still runs without it.
        let first = try QuorumCLI.apply(LabTests.magnumPlaybook, ["--skip-preflight", "-e", "haproxy_resource=p_missing"])
        #expect(first.status == 2, "\(first.all)")
        for host in Lab.controllers {
            #expect(try Lab.exec(host, "test -f \(HA.stanza)").status == 0, "\(host): stanza written")
            #expect(try Lab.output(host, "cat \(LabPreflight.pending)").contains("\trestart haproxy through Pacemaker\tHAProxy stanza"))
        }
        let pids = try Lab.controllers.map { try HA.haproxyPid($0) }

        let audit = try LabAudit.audit()
        #expect(audit.status == 4, "\(audit.stdout)\(audit.stderr)")
        #expect(audit.drift.contains("ctl1/restart haproxy through Pacemaker"), "\(audit.drift)")
        #expect(audit.stdout.contains("pending since"), "\(audit.stdout)")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == pids, "audit toggled")

        let second = try QuorumCLI.apply(LabTests.magnumPlaybook)
        #expect(second.status == 0, "\(second.all)")
        let toggles = try #require(second.report).results.filter { $0.isHandler && $0.step == "restart haproxy through Pacemaker" }
        #expect(toggles.map(\.outcome) == ["changed"], "exactly one toggle")
        #expect(toggles.first?.message?.hasPrefix("pending since") == true)
        let newPids = try Lab.controllers.map { try HA.haproxyPid($0) }
        for (old, new) in zip(pids, newPids) { #expect(old != new, "HAProxy restarted with the stanza") }
        for host in Lab.controllers {
            let left = try Lab.exec(host, "cat \(LabPreflight.pending)")
            #expect(left.status != 0, "\(host): not cleared, still pending:\n\(left.stdout)\n\(second.all)")
        }

        let third = try QuorumCLI.apply(LabTests.magnumPlaybook)
        #expect(third.status == 0 && third.report?.results.contains { $0.isHandler && $0.outcome == "changed" } == false, "\(third.all)")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == newPids, "no toggle after that")
    }
}
