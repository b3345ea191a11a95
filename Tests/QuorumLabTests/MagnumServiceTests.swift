import Foundation
import QuorumTesting
import Testing

/// Magnum's services as Debian runs them (issue 13): the conductors and the API checked for real — by the
/// playbook's health steps, in apply and in `quorum audit` — and Magnum's own RabbitMQ user.
extension LabTests {
    /// The lab after a successful apply of magnum-ha.yml (applied only when an audit finds it differs).
    static func ensureMagnumApplied() throws {
        _ = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"])  // an earlier test may have stopped a service
        if try LabAudit.audit().status == 0 { return }
        let apply = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(apply.status == 0, "apply failed:\n\(apply.all)\nMagnum's processes:\n\(LabMagnum.processes())")
    }

    @Test("a stopped magnum-conductor on ctl2: audit names it (drift, then health once Magnum sees it down), writes nothing; apply starts it")
    func magnumStoppedConductorIsFoundAndRepaired() throws {
        try Self.ensureMagnumApplied()
        _ = try Lab.output("ctl2", "service magnum-conductor stop >/dev/null")
        let fingerprints = try Lab.controllers.map { try Lab.fingerprint($0) }
        let apiPids = try Lab.controllers.map { try Self.magnumAPIPid($0) }

        // At once: the declared running state is drift on ctl2 (exit 4), nothing else.
        let audit = try LabAudit.audit()
        #expect(audit.status == 4 && audit.drift == ["ctl2/\(Self.magnumRestartStep)"], "\(audit.drift.sorted())\n\(audit.stdout)")
        #expect(audit.stdout.contains("service magnum-conductor: stopped → running"), "\(audit.stdout)")

        // Magnum marks the conductor down once it missed its reports (every 60 s; service_down_time 90 s in the lab): the
        // health check says so, in the table, the JSON and the exit code's priority (drift 4 stays first).
        try LabMagnum.waitForConductors("ctl2's conductor down", seconds: 180) { $0["ctl2"] == "down" && $0["ctl1"] == "up" }
        let later = try LabAudit.audit()
        #expect(later.status == 4, "\(later.stdout)")
        #expect(later.stdout.contains("HEALTH") && later.stdout.contains("magnum-conductor on ctl2: state down (want up)"), "\(later.stdout)")
        let unhealthy = try LabAudit.audit(["--format", "json", "-e", "magnum_services=[magnum-api]"])
        #expect(unhealthy.status == 5, "only the health check fails once ctl2's conductor is not declared: \(unhealthy.stdout)")
        #expect(try Lab.controllers.map { try Lab.fingerprint($0) } == fingerprints, "an audit changed a controller")
        #expect(try Lab.controllers.map { try Self.magnumAPIPid($0) } == apiPids)
        #expect(try Self.magnumPid("ctl2", "magnum-conductor") == nil, "the audit started the conductor")

        let repair = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(repair.status == 0, "\(repair.all)")
        #expect(repair.report?.pairs("changed") == ["ctl2/\(Self.magnumRestartStep)"], "\(repair.report?.pairs("changed").sorted() ?? [])")
        #expect(try LabMagnum.conductors() == ["ctl1": "up", "ctl2": "up", "ctl3": "up"])
        #expect(try LabAudit.audit().status == 0)
    }

    @Test("a wrong Keystone password in ctl3's magnum.conf (restarted by hand): audit finds the drift and the health failure; apply repairs both")
    func magnumWrongServicePasswordIsUnhealthyUntilRepaired() throws {
        try Self.ensureMagnumApplied()
        _ = try Lab.output(
            "ctl3",
            "sed -i 's/^password = lab-Magnum-ks-Pa55$/password = Wrong-by-hand-9x/' /etc/magnum/magnum.conf"
                + " && service magnum-api restart >/dev/null")
        // The API on ctl3 now answers /healthcheck (HAProxy keeps it) but cannot validate a token.
        try HA.waitUntil("ctl3's magnum-api up again", seconds: 120) {
            try Lab.exec("ctl3", "curl -fsS --max-time 5 http://10.21.22.6:9511/healthcheck").status == 0
        }
        let audit = try LabAudit.audit()
        #expect(audit.status == 4, "\(audit.stdout)")
        #expect(audit.drift.contains("ctl3/magnum.conf"), "\(audit.drift.sorted())")
        #expect(audit.stdout.contains("HEALTH") && audit.stdout.contains(Self.magnumTokenStep), "\(audit.stdout)")
        #expect(!audit.stdout.contains("Wrong-by-hand-9x") && !audit.stdout.contains("lab-Magnum-ks-Pa55"), "a password leaked")

        let repair = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(repair.status == 0, "\(repair.all)")
        #expect(repair.report?.pairs("changed").contains("ctl3/magnum.conf") == true)
        #expect(repair.report?.pairs("ok").contains("ctl3/\(Self.magnumTokenStep)") == true, "\(repair.all)")
        let clean = try LabAudit.audit()
        #expect(clean.status == 0, "\(clean.stdout)")
    }

    @Test("Magnum's RabbitMQ user: created, password changed (old refused, new accepted), check mode touches nothing, no password shown")
    func magnumRabbitMQUser() throws {
        try Self.ensureMagnumApplied()
        #expect(try LabMagnum.rabbitAccepts("magnum", "lab-Magnum-mq-Pa55"))
        #expect(try LabMagnum.rabbitmqctl(["list_permissions", "-p", "magnum"]).contains("magnum\t.*\t.*\t.*"))
        let newPassword = "lab-Magnum-mq-N3w-Pa55"
        let state = { () throws -> String in
            try LabMagnum.rabbitmqctl(["list_users"]) + (try LabMagnum.rabbitmqctl(["list_permissions", "-p", "magnum"]))
        }
        let before = try state()
        let check = try QuorumCLI.apply(
            Self.magnumPlaybook,
            [
                "--check", "--diff", "--tags", "identity",
                "-e", "magnum_rabbitmq_password=\(newPassword)"
            ])
        #expect(check.status == 4, "\(check.all)")
        #expect(check.stdout.contains("password of rabbitmq user magnum: ******** → ******** (differs)"), "\(check.stdout)")
        #expect(try state() == before, "check mode changed the broker")
        #expect(try LabMagnum.rabbitAccepts("magnum", "lab-Magnum-mq-Pa55"), "check mode changed the password")

        let change = try QuorumCLI.apply(Self.magnumPlaybook, ["-e", "magnum_rabbitmq_password=\(newPassword)"])
        #expect(change.status == 0, "\(change.all)")
        #expect(try LabMagnum.rabbitAccepts("magnum", newPassword), "the new password is refused")
        #expect(!(try LabMagnum.rabbitAccepts("magnum", "lab-Magnum-mq-Pa55")), "the old password still works")
        // The conductors reconnect with the new transport_url (magnum.conf changed, rolling restart).
        #expect(try LabMagnum.conductors() == ["ctl1": "up", "ctl2": "up", "ctl3": "up"])
        for run in [check, change] {
            for secret in [newPassword, "lab-Magnum-mq-Pa55", "Qu0rum-Rabb1t"] {
                #expect(!run.all.contains(secret) && !(run.report?.raw.contains(secret) ?? false), "a password leaked")
            }
        }
        let back = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(back.status == 0, "\(back.all)")
        #expect(try LabMagnum.rabbitAccepts("magnum", "lab-Magnum-mq-Pa55"), "the lab's password was not set back")
    }

    @Test("the firewall rule admits Magnum's API from the management network only")
    func magnumRuleDropsOtherNetworks() throws {
        try Self.ensureMagnumApplied()
        // From ctl2 to ctl1's API: once from its own address (10.21.22.5, inside 10.21.22.0/24), once from an
        // address outside it (10.99.0.5, added to ctl2 for this test; ctl1 has no route back, so only counters
        // tell). Counting rules for those two sources, put just before ctl1's final drop, count what the rule
        // let through to the drop: nothing from inside, the outside's packets. (The rule's and the drop's own
        // counters also move with HAProxy's health checks and other traffic.)
        func reachedDrop(_ source: String) throws -> Int {
            let line = try Lab.output("ctl1", "iptables -w 5 -L INPUT -v -n -x | grep -F 'quorum-lab-test: \(source) reached the drop'")
            return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[0]), "\(line)")
        }
        let sources = ["10.21.22.5", "10.99.0.5"]
        for source in sources {
            _ = try Lab.output(
                "ctl1",
                "n=$(iptables -w 5 -L INPUT --line-numbers -n | awk '/999 drop all/ {print $1}') && "
                    + "iptables -w 5 -I INPUT \"$n\" -s \(source) -p tcp --dport 9511 -m comment --comment 'quorum-lab-test: \(source) reached the drop'")
        }
        defer {
            for source in sources {
                _ = try? Lab.exec(
                    "ctl1", "iptables -w 5 -D INPUT -s \(source) -p tcp --dport 9511 -m comment --comment 'quorum-lab-test: \(source) reached the drop'")
            }
        }
        _ = try Lab.output("ctl2", "ip addr add 10.99.0.5/32 dev eth0")
        defer { _ = try? Lab.exec("ctl2", "ip addr del 10.99.0.5/32 dev eth0") }
        #expect(try Lab.exec("ctl2", "curl -fsS --max-time 10 -o /dev/null http://10.21.22.4:9511/healthcheck").status == 0)
        #expect(try reachedDrop("10.21.22.5") == 0, "a packet from inside the management network reached the drop")
        #expect(try Lab.exec("ctl2", "curl -sS --max-time 3 --interface 10.99.0.5 -o /dev/null http://10.21.22.4:9511/").status != 0)
        #expect(try reachedDrop("10.99.0.5") > 0, "the outside's packets did not reach the drop")
    }
}
