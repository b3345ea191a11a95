import Foundation
import QuorumTesting
import Testing

extension LabTests {
    static var magnumPlaybook: String { PackageRoot.path + "/playbooks/magnum-ha.yml" }

    /// Fresh shared services and controllers for the Magnum playbook.
    static func resetMagnumLab() throws {
        _ = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"])  // an earlier test may have stopped a service
        try LabMySQL.resetMagnum()
        try LabKeystone.reset()
        try HA.resetIptables()
        try HA.resetHAProxy()
        for host in Lab.controllers {
            // (and no handler owed by an earlier test's interrupted run: a fresh controller has none)
            _ = try Lab.output(
                host,
                "service magnum-api stop >/dev/null; service magnum-conductor stop >/dev/null; "
                    + "rm -f /etc/magnum/magnum.conf /etc/default/magnum-api /var/lib/quorum/pending-handlers")
        }
    }

    static func magnumConf(_ host: String) throws -> String { try Lab.output(host, "cat /etc/magnum/magnum.conf") }

    /// The running magnum-api's PID on a controller (the pidfile of Debian's init script), nil when it does not run.
    static func magnumAPIPid(_ host: String) throws -> String? { try magnumPid(host, "magnum-api") }

    /// The running PID of Debian's `service` (magnum-api, magnum-conductor) on a controller, nil when it does not run.
    static func magnumPid(_ host: String, _ service: String) throws -> String? {
        let out = try Lab.exec(host, "service \(service) status >/dev/null && cat /run/magnum/\(service).pid").stdout
        let pid = out.trimmingCharacters(in: .whitespacesAndNewlines)
        return pid.isEmpty ? nil : pid
    }

    /// When magnum-api last started on a controller (its pidfile's time, seconds since the epoch).
    static func magnumAPIStarted(_ host: String) throws -> Double {
        try #require(Double(try Lab.output(host, "stat -c %.9Y /run/magnum/magnum-api.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Sessions HAProxy's magnum_api frontend on a controller has accepted since HAProxy started
    /// (`show stat` on its admin socket).
    static func magnumFrontendSessions(_ host: String) throws -> Int {
        let csv = try Lab.output(
            host,
            #"""
            python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/run/haproxy/admin.sock"); s.sendall(b"show stat\n"); print(s.makefile().read())'
            """#)
        let rows: [[Substring]] = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let frontend = rows.first { (row: [Substring]) in row.count > 7 && row[0] == "magnum_api" && row[1] == "FRONTEND" }
        let row = try #require(frontend, "no magnum_api frontend on \(host)")
        return try #require(Int(row[7]))  // stot
    }

    @Test("magnum-ha.yml on a fresh lab: everything exists; the second run changes nothing and toggles nothing")
    func magnumPlaybookInstallsAndIsIdempotent() throws {
        try Self.resetMagnumLab()
        let pidsBefore = try Lab.controllers.map { try HA.haproxyPid($0) }
        let first = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(first.status == 0, "first apply failed:\n\(first.all)")

        // The database, the account and its grants (checked with the mysql client as the new user).
        #expect(try LabMySQL.canLogin("magnum", "lab-Magnum-db-Pa55", as: "magnum@%"))
        // Keystone: the container-infra endpoints, public and internal only (no admin by default).
        let endpoints = try LabKeystone.endpoints(type: "container-infra")
        #expect(Set(endpoints.compactMap { $0["interface"] as? String }) == ["public", "internal"], "\(endpoints)")
        #expect(endpoints.allSatisfy { ($0["url"] as? String) == "http://10.21.22.2:9511/v1" })
        for host in Lab.controllers {
            let conf = try Lab.output(host, "cat /etc/magnum/magnum.conf")
            #expect(conf.contains("host = \(Lab.addresses[host]!)"), "\(host)'s [api] host")
            #expect(conf.contains("transport_url = rabbit://magnum:lab-Magnum-mq-Pa55@10.21.22.2:5672/magnum\n"), "\(host): \(conf)")
            #expect(conf.contains("host = \(host)\n") && conf.contains("driver = noop\n"), "\(host)'s [DEFAULT] host and notifications")
            #expect(conf.contains("connection = mysql+pymysql://magnum:lab-Magnum-db-Pa55@10.21.22.2:3306/magnum"))
            // 2025.2 is before 2026.1: Magnum still has the trustee domain and [trust].
            #expect(conf.contains("[trust]") && conf.contains("trustee_domain_admin_password = lab-Magnum-dom-Pa55"))
            #expect(try Lab.output(host, "stat -c %a /etc/magnum/magnum.conf") == "640\n")
            let rules = try HA.inputRules(host)
            let anchor = try #require(rules.firstIndex { $0.contains("116 openvswitch db") })
            #expect(rules[anchor + 1] == Self.magnumRule, "\(host): \(rules)")
            // Debian's own init script, told through the file it sources to bind uwsgi to this controller only.
            #expect(
                try Lab.output(host, "cat /etc/default/magnum-api").contains(
                    "DAEMON_ARGS=\"--http-socket \(Lab.addresses[host]!):9511 --ini /etc/magnum/magnum-api-uwsgi.ini --processes 1\""))
            // …and its worker count honoured: uwsgi's master and one worker, not the ini's eight.
            #expect(try Lab.output(host, "pgrep -c -f '^/usr/bin/uwsgi_python3[0-9]* --http-socket '") == "2\n", "\(host): uwsgi processes")
            #expect(try Lab.exec(host, "haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d").status == 0)
        }
        let pidsAfter = try Lab.controllers.map { try HA.haproxyPid($0) }
        #expect(zip(pidsBefore, pidsAfter).allSatisfy { $0 != $1 }, "HAProxy was not restarted through Pacemaker")

        // Magnum's API runs on every controller, bound to its own address, and the final check went through
        // each controller's own HAProxy (its magnum_api frontend accepted the check's request).
        let apiPids = try Lab.controllers.map { try #require(try Self.magnumAPIPid($0), "magnum-api not running on \($0)") }
        let conductorPids = try Lab.controllers.map {
            try #require(try Self.magnumPid($0, "magnum-conductor"), "magnum-conductor not running on \($0)")
        }
        for host in Lab.controllers {
            let answer = try Command.run(["curl", "-sS", "--max-time", "10", "http://\(Lab.addresses[host]!):9511/"])
            #expect(answer.stdout.contains("\"versions\""), "\(host)'s magnum-api: \(answer.stdout)\(answer.stderr)")
            #expect(
                try Lab.output(host, "ss -Hltn 'sport = :9511' | awk '{print $4}' | sort").split(separator: "\n")
                    == ["10.21.22.2:9511", "\(Lab.addresses[host]!):9511"], "\(host): magnum-api must not bind 0.0.0.0")
            #expect(try Self.magnumFrontendSessions(host) >= 1, "the final check did not go through \(host)'s HAProxy")
        }
        // The book's final check: Magnum's API through HAProxy on the VIP, with a token, lists one conductor per
        // controller, up — from the run's own check and asked again here.
        #expect(try LabMagnum.conductors() == ["ctl1": "up", "ctl2": "up", "ctl3": "up"])
        let finalChecks = first.report?.results.filter { $0.step == Self.magnumServiceListStep } ?? []
        #expect(
            finalChecks.map(\.host).sorted() == Lab.controllers && finalChecks.allSatisfy { $0.outcome == "ok" },
            "\(finalChecks.map { "\($0.host): \($0.outcome)" })")
        #expect(first.report?.pairs("changed").contains("ctl1/Magnum's database schema") == true, "the schema was not created")
        #expect(try LabMySQL.admin("SELECT COUNT(*) FROM magnum.alembic_version").trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        // magnum.conf passes oslo-config-validator with the option definitions of Magnum 15 (Debian 12), a
        // release that still has [trust] as 2025.2 does; a misspelled option makes the same validator fail.
        let confs = try Lab.controllers.map { try Self.magnumConf($0) }
        let misspelled = confs[0].replacingOccurrences(of: "lock_path = ", with: "lock_pth = ")
        let verdicts = try MagnumConf.validate(
            zip(Lab.controllers, confs).map { MagnumConf.Job(label: $0, text: $1, release: .debianMagnum15) }
                + [MagnumConf.Job(label: "misspelled", text: misspelled, release: .debianMagnum15)])
        for verdict in verdicts.dropLast() { #expect(verdict.status == 0, "\(verdict.label): \(verdict.output)") }
        #expect(verdicts.last?.status == 1 && verdicts.last?.output.contains("lock_pth") == true, "negative control: \(verdicts.last?.output ?? "")")
        let authtoken = try MagnumConf.checkAuthtoken(confs, release: .debianMagnum15)
        #expect(authtoken.status == 0, "\(authtoken.stdout)\(authtoken.stderr)")
        for secret in LabAudit.passwords {
            #expect(!first.all.contains(secret) && !(first.report?.raw.contains(secret) ?? false), "a password leaked")
        }

        let second = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(second.status == 0, "\(second.all)")
        #expect(second.report?.totalChanged == 0, "second run changed \(second.report?.pairs("changed").sorted() ?? [])")
        #expect(!(second.report?.results.contains { $0.isHandler } ?? true), "a handler ran on a no-change run")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == pidsAfter, "HAProxy restarted on a no-change run")
        #expect(try Lab.controllers.map { try Self.magnumAPIPid($0) } == apiPids, "magnum-api restarted on a no-change run")
        #expect(
            try Lab.controllers.map { try Self.magnumPid($0, "magnum-conductor") } == conductorPids,
            "magnum-conductor restarted on a no-change run")
        #expect(second.report?.pairs("ok").contains("ctl3/\(Self.magnumServiceListStep)") == true)
        // The schema is current: its `unless` probe says so and magnum-db-manage does not run (MagnumSchemaTests).
        let schema = second.report?.results.first { $0.step == MagnumSchema.step }
        #expect(schema?.outcome == "ok" && schema?.message?.hasPrefix("not run: `unless` probe succeeded") == true, "\(schema?.message ?? "")")
    }

    @Test("magnum-ha.yml: release 2026.1 adds the trustee domain and [trust]; 2026.2 removes [trust] again")
    func magnumReleaseDecidesTrust() throws {
        try Self.ensureMagnumApplied()
        let old = try QuorumCLI.apply(Self.magnumPlaybook, ["-e", "magnum_release=2026.1"])
        #expect(old.status == 0, "\(old.all)")
        let withTrust = try Self.magnumConf("ctl2")
        #expect(withTrust.contains("trustee_domain_name = magnum"))
        #expect(try LabKeystone.counts()["domains"] == 2, "the trustee domain `magnum` was not created")

        // The lab's Magnum is Debian's 15 (2023.1): declaring 2026.2 over it would strip [trust] from a working cloud,
        // so the playbook's preflight refuses before any write; the render is wanted here to validate it with
        // Magnum 23's own option definitions, hence --skip-preflight for the second run.
        let refused = try QuorumCLI.apply(Self.magnumPlaybook, ["-e", "magnum_release=2026.2"])
        #expect(refused.status == 2 && refused.all.contains("does not match Magnum"), "\(refused.all)")
        #expect(refused.report?.totalChanged == 0, "the preflight let a change through")
        #expect(try Self.magnumConf("ctl2") == withTrust, "magnum.conf changed after a failed preflight")
        // (and without the health checks: Magnum 15 without [trust] answers 500, which is the preflight's point)
        let new = try QuorumCLI.apply(
            Self.magnumPlaybook,
            [
                "-e", "magnum_release=2026.2", "--skip-preflight",
                "-e", "magnum_health_check=false"
            ])
        #expect(new.status == 0, "\(new.all)")
        #expect(!(try Lab.output("ctl2", "cat /etc/magnum/magnum.conf").contains("trustee_")), "[trust] options left behind")
        let changed = new.report?.pairs("changed") ?? []
        #expect(changed.contains("ctl2/no [trust] after 2026.1 (Magnum removed it)"), "\(changed.sorted())")

        // The 2026.2 render passes oslo-config-validator with Magnum 23's (2026.2) own option definitions on
        // every controller; a misspelled option fails it (negative control), and so does the 2026.1 render,
        // whose [trust] group Magnum 23 no longer has ([trust] is covered by Magnum 15 in the fresh-install test).
        let confs = try Lab.controllers.map { try Self.magnumConf($0) }
        let misspelled = confs[0].replacingOccurrences(of: "cert_manager_type = ", with: "cert_manager_typ = ")
        let verdicts = try MagnumConf.validate(
            zip(Lab.controllers, confs).map { MagnumConf.Job(label: $0, text: $1, release: .magnum23) }
                + [
                    MagnumConf.Job(label: "misspelled", text: misspelled, release: .magnum23),
                    MagnumConf.Job(label: "2026.1 render", text: withTrust, release: .magnum23)
                ])
        for verdict in verdicts.prefix(3) { #expect(verdict.status == 0, "\(verdict.label): \(verdict.output)") }
        #expect(verdicts[3].status == 1 && verdicts[3].output.contains("cert_manager_typ"), "negative control: \(verdicts[3].output)")
        #expect(verdicts[4].status == 1 && verdicts[4].output.contains("trust"), "[trust] with Magnum 23: \(verdicts[4].output)")
        let authtoken = try MagnumConf.checkAuthtoken(confs, release: .magnum23)
        #expect(authtoken.status == 0, "\(authtoken.stdout)\(authtoken.stderr)")
        let badAuthtoken = try MagnumConf.checkAuthtoken(
            [confs[0].replacingOccurrences(of: "www_authenticate_uri = ", with: "auth_uri = ")],
            release: .magnum23)
        #expect(badAuthtoken.status == 1 && badAuthtoken.stdout.contains("auth_uri"), "\(badAuthtoken.stdout)\(badAuthtoken.stderr)")
    }
}

extension LabTests {
    static let magnumFirewallStep = "Magnum API port in the firewall"
    /// One step declares Magnum's services running and restarts those older than their configuration files.
    static let magnumRestartStep = "Magnum's services run with the current configuration"
    static let magnumAPIUpStep = "Magnum API answers on this controller"
    /// The book's rule: Magnum's API from the management network only, right after `116 openvswitch db`.
    static let magnumRule = #"-A INPUT -s 10.21.22.0/24 -p tcp -m multiport --dports 9511 -m comment --comment "117 magnum-api from 10.21.22.0/24" -j ACCEPT"#
    static let magnumTokenStep = "Magnum's API on this controller accepts a token"
    static let magnumServiceListStep = "Magnum's API and conductors answer through HAProxy on the VIP (magnum service-list)"

    /// Everything the playbook touches on a controller besides magnum.conf: HAProxy's files and process,
    /// the live and saved iptables rules.
    static func magnumSurroundings(_ host: String) throws -> [String] {
        [
            try Lab.fingerprint(host, ["/etc/haproxy", "/etc/iptables"]), try Lab.output(host, "iptables -w 5 -S"),
            try HA.haproxyPid(host) ?? "no haproxy"
        ]
    }

    @Test("magnum-ha.yml re-render: new memcached_servers and service password change only magnum.conf (masked); restarts roll")
    func magnumRerenderChangesOnlyMagnumConf() throws {
        try Self.ensureMagnumApplied()
        let surroundings = try Lab.controllers.map { try Self.magnumSurroundings($0) }
        let apiPids = try Lab.controllers.map { try Self.magnumAPIPid($0) }

        let oldPassword = "lab-Magnum-ks-Pa55"
        let newPassword = "lab-Magnum-ks-N3w-Pa55"
        let memcached = "10.21.22.4:11211,10.21.22.5:11211"
        let run = try QuorumCLI.apply(
            Self.magnumPlaybook,
            [
                "-e", "memcached_servers=\(memcached)",
                "-e", "magnum_keystone_password=\(newPassword)", "--diff"
            ])
        #expect(run.status == 0, "\(run.all)")
        let report = try #require(run.report)

        // On each controller only magnum.conf and the restart change; once, the Keystone user's password.
        let perHost = Set(Lab.controllers.flatMap { ["\($0)/magnum.conf", "\($0)/\(Self.magnumRestartStep)"] })
        #expect(report.pairs("changed") == perHost.union(["ctl1/magnum service user"]), "\(report.pairs("changed").sorted())")
        #expect(!report.results.contains { $0.isHandler }, "a handler (HAProxy toggle) ran")
        for host in Lab.controllers {
            let conf = try Self.magnumConf(host)
            #expect(conf.contains("memcached_servers = \(memcached)\n") && conf.contains("password = \(newPassword)\n"))
            // Only the two options in the diff, the password masked.
            let result = try #require(report.results.first { $0.host == host && $0.step == "magnum.conf" })
            let subjects = result.diffs.compactMap { $0["subject"] as? String }
            #expect(subjects.sorted() == ["[keystone_authtoken] memcached_servers", "[keystone_authtoken] password"], "\(host): \(subjects)")
            let password = try #require(result.diffs.first { ($0["subject"] as? String) == "[keystone_authtoken] password" })
            #expect(password["secret"] as? Bool == true, "\(password)")
        }
        #expect(run.stdout.contains("[keystone_authtoken] password: ******** → ******** (differs)"), "\(run.stdout)")
        #expect(run.stdout.contains("10.21.22.5:11211,10.21.22.6:11211"), "the old memcached_servers is not in the diff")
        for secret in [newPassword, oldPassword] {
            #expect(!run.all.contains(secret) && !report.raw.contains(secret), "a password leaked")
        }
        // HAProxy, its files and iptables untouched.
        #expect(try Lab.controllers.map { try Self.magnumSurroundings($0) } == surroundings, "HAProxy or iptables changed")

        // The restarts, one controller at a time: each controller restarted and answered (wait_for) before the
        // next one restarted, in the report's order and by the new processes' start times.
        let newPids = try Lab.controllers.map { try Self.magnumAPIPid($0) }
        #expect(zip(apiPids, newPids).allSatisfy { $0 != nil && $1 != nil && $0 != $1 }, "\(apiPids) → \(newPids)")
        let order = report.results.map { "\($0.host)/\($0.step)" }
        let rolling = order.filter { $0.hasSuffix(Self.magnumRestartStep) || $0.hasSuffix(Self.magnumAPIUpStep) }
        #expect(rolling == Lab.controllers.flatMap { ["\($0)/\(Self.magnumRestartStep)", "\($0)/\(Self.magnumAPIUpStep)"] }, "\(rolling)")
        let started = try Lab.controllers.map { try Self.magnumAPIStarted($0) }
        #expect(started == started.sorted() && Set(started).count == 3, "start times \(started)")
    }

    @Test("magnum-ha.yml drift: a hand edit on ctl3 and a removed rule on ctl1 — check and audit find exactly those (exit 4, touches nothing); apply repairs")
    func magnumDriftIsFoundAndRepaired() throws {
        try Self.ensureMagnumApplied()

        _ = try Lab.output("ctl3", "sed -i 's/^memcached_servers = .*/memcached_servers = 10.21.22.9:11211/' /etc/magnum/magnum.conf")
        let rule = try #require(try HA.inputRules("ctl1").first { $0.contains("117 magnum-api from 10.21.22.0/24") })
        _ = try Lab.output("ctl1", "iptables -w 5 " + rule.replacingOccurrences(of: "-A ", with: "-D ", options: .anchored))
        let fingerprints = try Lab.controllers.map { try Lab.fingerprint($0) + (try Lab.output($0, "iptables -w 5 -S")) }
        let apiPids = try Lab.controllers.map { try Self.magnumAPIPid($0) }
        let haproxyPids = try Lab.controllers.map { try HA.haproxyPid($0) }

        let check = try QuorumCLI.apply(Self.magnumPlaybook, ["--check", "--diff"])
        #expect(check.status == 4 && check.report?.exitCode == 4, "\(check.all)")
        let found = try #require(check.report).pairs("changed")
        // The two drifts, plus their consequence: ctl3 would restart magnum-api because its magnum.conf would change.
        #expect(found == ["ctl3/magnum.conf", "ctl1/\(Self.magnumFirewallStep)", "ctl3/\(Self.magnumRestartStep)"], "\(found.sorted())")
        let confDrift = try #require(check.report?.results.first { $0.host == "ctl3" && $0.step == "magnum.conf" })
        #expect(confDrift.diffs.compactMap { $0["subject"] as? String } == ["[keystone_authtoken] memcached_servers"])
        #expect(
            try Lab.controllers.map { try Lab.fingerprint($0) + (try Lab.output($0, "iptables -w 5 -S")) } == fingerprints,
            "check mode changed a controller")
        #expect(try Lab.controllers.map { try Self.magnumAPIPid($0) } == apiPids, "check mode restarted magnum-api")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == haproxyPids, "check mode restarted HAProxy")
        // `quorum audit` reports the same (host, step) set and touches nothing either.
        let audit = try LabAudit.audit()
        #expect(audit.status == 4 && audit.drift == found, "audit: \(audit.drift.sorted())\n\(audit.stdout)")
        #expect(
            try Lab.controllers.map { try Lab.fingerprint($0) + (try Lab.output($0, "iptables -w 5 -S")) } == fingerprints,
            "the audit changed a controller")

        let repair = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(repair.status == 0, "\(repair.all)")
        #expect(repair.report?.pairs("changed") == found, "repair changed \(repair.report?.pairs("changed").sorted() ?? [])")
        #expect(try Self.magnumConf("ctl3").contains("memcached_servers = 10.21.22.4:11211,10.21.22.5:11211,10.21.22.6:11211\n"))
        let rules = try HA.inputRules("ctl1")
        let anchor = try #require(rules.firstIndex { $0.contains("116 openvswitch db") })
        #expect(rules[anchor + 1] == rule, "ctl1: \(rules)")
        let after = try QuorumCLI.apply(Self.magnumPlaybook, ["--check"])
        #expect(after.status == 0 && after.report?.totalChanged == 0, "drift left after the repair: \(after.report?.pairs("changed").sorted() ?? [])")
    }
}
