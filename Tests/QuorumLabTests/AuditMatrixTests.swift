import Foundation
import QuorumTesting
import Synchronization
import Testing

/// "Check predicts apply" (issue 7) with playbooks/magnum-ha.yml on the lab: drift injected by hand with the
/// lab's own tools, then the set of (host, step) that `--check` predicts must be the scenario's expected drift,
/// and exactly what the following apply changes; a check right after reports nothing.
enum DriftMatrix {
    static var playbook: String { LabTests.magnumPlaybook }

    /// The lab inventory's passwords: never in a check's diff, output or report.
    /// The matrix is about what check predicts, not about Magnum's API: it runs without restarting magnum-api
    /// and without the final check (the Magnum tests cover both), which keeps each case to a few seconds.
    static let extra = ["-e", "magnum_services=[]", "-e", "magnum_health_check=false"]
    static let secrets = [
        "lab-Magnum-db-Pa55", "lab-Magnum-mq-Pa55", "Qu0rum-Rabb1t", "keystone-Adm1n-Pa55", "Qu0rum-Adm1n",
        "lab-Magnum-ks-Pa55", "lab-Magnum-dom-Pa55"
    ]

    /// The play that restarts Magnum where magnum.conf changed. Its steps belong to a scenario's sets on the hosts
    /// whose magnum.conf drifted, only when the inventory runs Magnum's services there (lab.yml: none), so they
    /// are taken from the report rather than listed.
    static let restartPlay = "Rolling restart of Magnum"

    static func expected(_ drift: Set<String>, _ report: RunReport) -> Set<String> {
        let restarted = Set(drift.filter { $0.hasSuffix("/" + Step.conf) }.map { String($0.split(separator: "/")[0]) })
        return drift.union(
            report.results.filter {
                $0.play.hasPrefix(restartPlay) && $0.outcome == "changed" && restarted.contains($0.host)
            }.map { "\($0.host)/\($0.step)" })
    }

    /// Step names of magnum-ha.yml.
    enum Step {
        static let database = "magnum database"
        static let account = "magnum database account"
        static let user = "magnum service user"
        static let role = "magnum is admin of the service project"
        static let service = "container-infra service"
        static let endpoints = "container-infra endpoints"
        static let folder = "configuration folder"
        static let conf = "magnum.conf"
        /// The inventory's `magnum_conf_overrides`, an ini step of its own on the same file.
        static let overrides = "magnum.conf overrides"
        static let trust = "[trust] for Magnum up to 2026.1"
        static let schema = "Magnum's database schema"
        static let firewall = "Magnum API port in the firewall"
        static let stanza = "HAProxy stanza"
        static let toggle = "restart haproxy through Pacemaker"
    }

    /// Shared services' steps run once per play, on the first controller.
    static func once(_ step: String) -> String { "ctl1/" + step }

    /// True while the lab is known to match the playbook: set by a matrix case that ends with a clean check, read
    /// by the next one (the cases run one after another; the first of a test run applies).
    static let applied = Mutex(false)

    /// Applies the playbook unless the last case left the lab matching it; a second apply must change nothing.
    static func ensureApplied() throws {
        if applied.withLock({ $0 }) { return }
        _ = try Drift.applied(playbook, extra, secrets: secrets)
        let again = try Drift.applied(playbook, extra, secrets: secrets)
        #expect(again.isEmpty, "a second apply changed \(again.sorted())")
        applied.withLock { $0 = again.isEmpty }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        /// The hand change(s), made with the lab's tools.
        var inject: @Sendable () throws -> Void
        /// The (host, step) pairs that must be predicted and changed.
        var drift: Set<String>
        /// The (host, step) pairs check mode cannot know without acting (audit: not audited); all others are audited.
        var notAudited: Set<String> = []
        /// Text the check's --diff must show.
        var shows: [String] = []
        /// After apply: true when the lab itself shows the hand change repaired (or, for what is not drift, kept).
        var fixed: @Sendable () throws -> Bool
        /// Undoes what apply leaves alone (run after the final check).
        var cleanup: @Sendable () throws -> Void = {}

        var testDescription: String { name }

        /// Several hand changes at once: their drift together, plus `also` (what they cause together).
        static func all(_ name: String, _ parts: [Scenario], also: Set<String> = []) -> Scenario {
            Scenario(
                name: name, inject: { for part in parts { try part.inject() } },
                drift: parts.reduce(into: also) { $0.formUnion($1.drift) },
                notAudited: parts.reduce(into: []) { $0.formUnion($1.notAudited) }, shows: parts.flatMap(\.shows),
                fixed: { try parts.allSatisfy { try $0.fixed() } },
                cleanup: { for part in parts { try part.cleanup() } })
        }
    }

    // MARK: hand changes

    static let stanzaPath = "/etc/haproxy/conf.d/180-magnum.cfg"
    static let confPath = "/etc/magnum/magnum.conf"
    static let memcached = "memcached_servers = 10.21.22.4:11211,10.21.22.5:11211,10.21.22.6:11211"
    static let rule = "INPUT -s 10.21.22.0/24 -p tcp -m multiport --dports 9511 -m comment --comment '117 magnum-api from 10.21.22.0/24' -j ACCEPT"
    static let url = "http://10.21.22.2:9511/v1"

    static func sh(_ host: String, _ script: String) throws { _ = try Lab.output(host, script) }
    static func succeeds(_ host: String, _ script: String) throws -> Bool { try Lab.exec(host, script).status == 0 }
    static func keystone(_ arguments: [String], answers status: String) throws {
        let answer = try LabKeystone.call(arguments)
        guard answer.split(separator: "\n").allSatisfy({ $0 == status }), !answer.isEmpty else {
            throw TestError("keystone \(arguments): \(answer)")
        }
    }

    /// The magnum rule right after `116 openvswitch db`, once.
    static func rulePlaced(_ host: String) throws -> Bool {
        let rules = try HA.inputRules(host)
        guard let anchor = rules.firstIndex(where: { $0.contains("116 openvswitch db") }), anchor + 1 < rules.count else { return false }
        return rules[anchor + 1].contains("117 magnum-api from 10.21.22.0/24") && rules.filter { $0.contains("117 magnum-api from 10.21.22.0/24") }.count == 1
    }

    static func grants(_ host: String) throws -> String { try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'\(host)'") }

    static func endpointsFixed(count: Int = 2) throws -> Bool {
        let endpoints = try LabKeystone.endpoints(type: "container-infra")
        return endpoints.count == count && endpoints.allSatisfy { $0["url"] as? String == url }
    }

    static let stanzaEdited = Scenario(
        name: "HAProxy stanza edited on ctl2",
        inject: { try sh("ctl2", "sed -i 's/inter 10s/inter 13s/' \(stanzaPath) && grep -q 'inter 13s' \(stanzaPath)") },
        drift: ["ctl2/" + Step.stanza], shows: ["-    server ctl1 10.21.22.4:9511 check inter 13s"],
        fixed: { try !succeeds("ctl2", "grep -q 'inter 13s' \(stanzaPath)") && succeeds("ctl2", "grep -q 'inter 10s' \(stanzaPath)") })

    static let stanzaDeleted = Scenario(
        name: "HAProxy stanza deleted on ctl1",
        inject: { try sh("ctl1", "rm \(stanzaPath)") },
        drift: ["ctl1/" + Step.stanza],
        fixed: { try succeeds("ctl1", "grep -q 'listen magnum_api' \(stanzaPath)") })

    static let confMode = Scenario(
        name: "magnum.conf mode 0644 on ctl3",
        inject: { try sh("ctl3", "chmod 0644 \(confPath)") },
        drift: ["ctl3/" + Step.conf], shows: ["0644"],
        fixed: { try Lab.output("ctl3", "stat -c %a \(confPath)") == "640\n" })

    static let memcachedEdited = Scenario(
        name: "[keystone_authtoken] memcached_servers edited on ctl3",
        inject: { try sh("ctl3", "sed -i 's/^memcached_servers = .*/memcached_servers = 10.21.22.9:11211/' \(confPath) && grep -q 10.21.22.9 \(confPath)") },
        drift: ["ctl3/" + Step.conf], shows: ["[keystone_authtoken] memcached_servers", "10.21.22.9:11211"],
        fixed: { try succeeds("ctl3", "grep -qx '\(memcached)' \(confPath)") })

    /// A secret option: its diff must be masked (Drift checks no password is printed).
    static let passwordDeleted = Scenario(
        name: "[keystone_authtoken] password deleted on ctl1",
        inject: { try sh("ctl1", "sed -i '/^password = /d' \(confPath) && ! grep -q '^password = ' \(confPath)") },
        drift: ["ctl1/" + Step.conf], shows: ["[keystone_authtoken] password", "********"],
        fixed: { try Lab.output("ctl1", "grep -c '^password = ' \(confPath)") == "1\n" })

    static let unmanagedOption = Scenario(
        name: "an unmanaged option added on ctl2 is not drift",
        inject: { try sh("ctl2", "sed -i '/^\\[DEFAULT\\]/a debug = true' \(confPath) && grep -qx 'debug = true' \(confPath)") },
        drift: [],
        fixed: { try succeeds("ctl2", "grep -qx 'debug = true' \(confPath)") },
        cleanup: { try sh("ctl2", "sed -i '/^debug = true$/d' \(confPath)") })

    static let ruleDeleted = Scenario(
        name: "iptables 117 magnum-api from 10.21.22.0/24 deleted on ctl1",
        inject: { try sh("ctl1", "iptables -w 5 -D \(rule)") },
        drift: ["ctl1/" + Step.firewall],
        fixed: { try rulePlaced("ctl1") })

    static let ruleMisplaced = Scenario(
        name: "iptables 117 magnum-api from 10.21.22.0/24 moved to the end of INPUT on ctl2",
        inject: { try sh("ctl2", "iptables -w 5 -D \(rule) && iptables -w 5 -A \(rule)") },
        drift: ["ctl2/" + Step.firewall],
        fixed: { try rulePlaced("ctl2") })

    /// Magnum's own account cannot read the database until the grant is back: the schema probe cannot tell (exit 3).
    static let grantRevoked = Scenario(
        name: "MySQL: the magnum grant revoked",
        inject: { _ = try LabMySQL.admin("REVOKE ALL PRIVILEGES ON magnum.* FROM 'magnum'@'%'") },
        drift: [once(Step.account)], notAudited: [once(Step.schema)],
        fixed: { try grants("%").contains(LabMySQL.allOnMagnum) })

    /// MariaDB keeps grants on a dropped database: the database is drift, and the schema that goes with it (a
    /// database the run creates has none).
    static let databaseDropped = Scenario(
        name: "MySQL: the magnum database dropped",
        inject: { _ = try LabMySQL.admin("DROP DATABASE magnum") },
        drift: [once(Step.database), once(Step.schema)],
        fixed: { try LabMySQL.admin("SHOW DATABASES LIKE 'magnum'") == "magnum\n" })

    /// The grants depend on the database the run would create: a planned dependency, "would change".
    static let databaseAndGrantsGone = Scenario(
        name: "MySQL: the magnum database dropped and its grants revoked",
        inject: {
            _ = try LabMySQL.admin("DROP DATABASE magnum; REVOKE ALL PRIVILEGES ON magnum.* FROM 'magnum'@'%'")
        },
        drift: [once(Step.database), once(Step.account), once(Step.schema)],
        fixed: {
            try LabMySQL.admin("SHOW DATABASES LIKE 'magnum'") == "magnum\n"
                && grants("%").contains(LabMySQL.allOnMagnum)
        })

    static let endpointURL = Scenario(
        name: "Keystone: the public endpoint's URL changed",
        inject: { try keystone(["set-endpoint-url", "container-infra", "public", "http://10.21.22.99:9511/v1"], answers: "200") },
        drift: [once(Step.endpoints)], shows: ["http://10.21.22.99:9511/v1"],
        fixed: { try endpointsFixed() })

    /// Keystone deletes a service's endpoints with it; the endpoints depend on the service the run would create.
    static let serviceDeleted = Scenario(
        name: "Keystone: the container-infra service deleted",
        inject: { try keystone(["delete-service", "container-infra"], answers: "204") },
        drift: [once(Step.service), once(Step.endpoints)],
        fixed: { try endpointsFixed() })

    static let roleRemoved = Scenario(
        name: "Keystone: magnum's admin role on the service project removed",
        inject: { try keystone(["project-role", "DELETE", "magnum", "admin", "service"], answers: "204") },
        drift: [once(Step.role)],
        fixed: { try LabKeystone.call(["project-role", "HEAD", "magnum", "admin", "service"]) == "204\n" })

    /// Keystone deletes the user's role assignments with it; the assignment depends on the user the run would create.
    static let userDeleted = Scenario(
        name: "Keystone: the magnum service user deleted",
        inject: {
            let deleted = try LabKeystone.openstack(["user", "delete", "--domain", "Default", "magnum"])
            guard deleted.status == 0 else { throw TestError("openstack user delete: \(deleted.stderr)") }
        },
        drift: [once(Step.user), once(Step.role)],
        fixed: { try LabKeystone.call(["project-role", "HEAD", "magnum", "admin", "service"]) == "204\n" })

    /// Both ini steps of the file (the options, then [trust]) rewrite it.
    static let confDeleted = Scenario(
        name: "magnum.conf deleted on ctl2",
        inject: { try sh("ctl2", "rm \(confPath)") },
        drift: ["ctl2/" + Step.conf, "ctl2/" + Step.overrides, "ctl2/" + Step.trust],
        fixed: { try succeeds("ctl2", "grep -q '^trustee_domain_name = magnum' \(confPath) && grep -qx '\(memcached)' \(confPath)") })

    /// The live rule is in place; only the saved rules lost it.
    static let savedRuleDeleted = Scenario(
        name: "the 117 magnum-api from 10.21.22.0/24 rule deleted from rules.v4 on ctl3",
        inject: { try sh("ctl3", "sed -i '/117 magnum-api from 10.21.22.0\\/24/d' /etc/iptables/rules.v4") },
        drift: ["ctl3/" + Step.firewall],
        fixed: { try succeeds("ctl3", "grep -q '117 magnum-api from 10.21.22.0/24' /etc/iptables/rules.v4") })

    static let folderMode = Scenario(
        name: "/etc/magnum mode 0755 on ctl1",
        inject: { try sh("ctl1", "chmod 0755 /etc/magnum") },
        drift: ["ctl1/" + Step.folder],
        fixed: { try Lab.output("ctl1", "stat -c %a /etc/magnum") == "750\n" })

    /// Hand changes of one kind on different hosts share a scenario: each is still its own (host, step) pair, and
    /// the matrix stays well under three minutes (three runs of the whole playbook per scenario).
    static let scenarios: [Scenario] = [
        // The toggle is a handler run once per play, on the first host that notified it.
        .all(
            "HAProxy stanza edited on ctl2 and deleted on ctl1: both rewritten, HAProxy toggled once",
            [stanzaEdited, stanzaDeleted], also: ["ctl1/" + Step.toggle]),
        .all(
            "magnum.conf: memcached_servers edited on ctl3, password deleted on ctl1, an unmanaged option on ctl2 (no drift)",
            [memcachedEdited, passwordDeleted, unmanagedOption]),
        .all("iptables: 117 magnum-api from 10.21.22.0/24 deleted on ctl1, moved to the end of INPUT on ctl2", [ruleDeleted, ruleMisplaced]),
        grantRevoked, databaseDropped, serviceDeleted,
        .all("Keystone: the public endpoint's URL changed, magnum's admin role on the service project removed", [endpointURL, roleRemoved]),
        .all(
            "at once: the magnum database dropped and its grants revoked, the rule misplaced on ctl2, magnum.conf 0644 on ctl3",
            [databaseAndGrantsGone, ruleMisplaced, confMode]),
        .all(
            "at once: the magnum Keystone user deleted, magnum.conf deleted on ctl2, rules.v4 edited on ctl3, /etc/magnum 0755 on ctl1",
            [userDeleted, confDeleted, savedRuleDeleted, folderMode])
    ]
}

extension LabTests {
    @Test(
        "check predicts apply: a hand change, --check's (host, step) set is the drift, apply changes exactly that, a check after finds nothing",
        arguments: DriftMatrix.scenarios)
    func checkPredictsApply(_ scenario: DriftMatrix.Scenario) throws {
        let started = Date()
        try DriftMatrix.ensureApplied()
        DriftMatrix.applied.withLock { $0 = false }
        try scenario.inject()

        let predicted = try Drift.predicted(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets)
        #expect(
            predicted.pairs == DriftMatrix.expected(scenario.drift, predicted.report),
            "predicted \(predicted.pairs.sorted()), expected \(scenario.drift.sorted())")
        #expect(predicted.unchecked == scenario.notAudited, "not audited: \(predicted.unchecked.sorted())")
        for text in scenario.shows {
            #expect(predicted.output.contains(text), "the check's diff does not show `\(text)`:\n\(predicted.output)")
        }
        let applied = try Drift.applied(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets).subtracting(predicted.unchecked)
        #expect(applied == predicted.pairs, "check predicted \(predicted.pairs.sorted()), apply changed \(applied.sorted())")
        #expect(try scenario.fixed(), "the lab does not show the hand change repaired")

        let after = try Drift.predicted(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets)
        #expect(after.pairs.isEmpty, "a check right after apply predicts \(after.pairs.sorted())")
        try scenario.cleanup()
        DriftMatrix.applied.withLock { $0 = after.pairs.isEmpty }
        print("drift matrix: \(scenario.name): \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
    }

    @Test("magnum-ha.yml --check on a fresh lab: exit 4, no failure, planned dependencies would change, nothing written; apply does just that")
    func magnumCheckOnFreshLabPredictsApply() throws {
        try Self.resetMagnumLab()
        DriftMatrix.applied.withLock { $0 = false }
        let before = try LabSnapshot.take()

        let predicted = try Drift.predicted(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets)
        #expect(!predicted.pairs.isEmpty)
        // Each depends on an object an earlier step would create: the database, the service, the user, the domain;
        // the schema, on the database (audited: the probe is told the database is new).
        for step in [
            DriftMatrix.Step.account, DriftMatrix.Step.role, DriftMatrix.Step.endpoints,
            "trustee domain admin is admin of its domain", DriftMatrix.Step.schema
        ] {
            #expect(predicted.pairs.contains(DriftMatrix.once(step)), "\(step) is not predicted: \(predicted.pairs.sorted())")
        }
        #expect(predicted.unchecked.isEmpty, "not audited: \(predicted.unchecked.sorted())")
        let after = try LabSnapshot.take()
        #expect(after == before, "check mode changed the lab")

        let applied = try Drift.applied(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets).subtracting(predicted.unchecked)
        let unchanged = predicted.pairs.subtracting(applied)
        let unpredicted = applied.subtracting(predicted.pairs)
        #expect(applied == predicted.pairs, "predicted, not changed: \(unchanged.sorted()); changed, not predicted: \(unpredicted.sorted())")
        let again = try Drift.predicted(DriftMatrix.playbook, DriftMatrix.extra, secrets: DriftMatrix.secrets)
        #expect(again.pairs.isEmpty, "a check right after apply predicts \(again.pairs.sorted())")
    }
}
