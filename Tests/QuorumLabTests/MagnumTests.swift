import Foundation
import Testing

extension LabTests {
    static var magnumPlaybook: String { Lab.root + "/playbooks/magnum-ha.yml" }

    /// Fresh shared services and controllers for the Magnum playbook.
    static func resetMagnumLab() throws {
        _ = try Command.run(["bash", Lab.root + "/lab/lab.sh", "up"])   // an earlier test may have stopped a service
        try LabMySQL.resetMagnum()
        try LabKeystone.reset()
        try HA.resetIptables()
        try HA.resetHAProxy()
        for host in Lab.controllers { try Lab.exec(host, "rm -f /etc/magnum/magnum.conf") }
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
            #expect(conf.contains("transport_url = rabbit://openstack:lab-Rabbit-Pa55@10.21.22.4:5672,"))
            #expect(conf.contains("connection = mysql+pymysql://magnum:lab-Magnum-db-Pa55@10.21.22.2:3306/magnum"))
            // 2025.2 is before 2026.1: Magnum still has the trustee domain and [trust].
            #expect(conf.contains("[trust]") && conf.contains("trustee_domain_admin_password = lab-Magnum-dom-Pa55"))
            #expect(try Lab.output(host, "stat -c %a /etc/magnum/magnum.conf") == "640\n")
            let rules = try HA.inputRules(host)
            let anchor = try #require(rules.firstIndex { $0.contains("116 openvswitch db") })
            #expect(rules[anchor + 1].contains("180 magnum-api"), "\(host): \(rules)")
            #expect(try Lab.exec(host, "haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d").status == 0)
        }
        let pidsAfter = try Lab.controllers.map { try HA.haproxyPid($0) }
        #expect(zip(pidsBefore, pidsAfter).allSatisfy { $0 != $1 }, "HAProxy was not restarted through Pacemaker")
        for secret in ["lab-Magnum-db-Pa55", "lab-Rabbit-Pa55", "keystone-Adm1n-Pa55", "Qu0rum-Adm1n", "lab-Magnum-ks-Pa55"] {
            #expect(!first.all.contains(secret) && !(first.report?.raw.contains(secret) ?? false), "a password leaked")
        }

        let second = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(second.status == 0, "\(second.all)")
        #expect(second.report?.totalChanged == 0, "second run changed \(second.report?.pairs("changed").sorted() ?? [])")
        #expect(!(second.report?.results.contains { $0.isHandler } ?? true), "a handler ran on a no-change run")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == pidsAfter, "HAProxy restarted on a no-change run")
    }

    @Test("magnum-ha.yml: release 2026.1 adds the trustee domain and [trust]; 2026.2 removes [trust] again")
    func magnumReleaseDecidesTrust() throws {
        try Self.resetMagnumLab()
        let old = try QuorumCLI.apply(Self.magnumPlaybook, ["-e", "magnum_release=2026.1"])
        #expect(old.status == 0, "\(old.all)")
        #expect(try Lab.output("ctl2", "cat /etc/magnum/magnum.conf").contains("trustee_domain_name = magnum"))
        #expect(try LabKeystone.counts()["domains"] == 2, "the trustee domain `magnum` was not created")

        let new = try QuorumCLI.apply(Self.magnumPlaybook, ["-e", "magnum_release=2026.2"])
        #expect(new.status == 0, "\(new.all)")
        #expect(!(try Lab.output("ctl2", "cat /etc/magnum/magnum.conf").contains("trustee_")), "[trust] options left behind")
        let changed = new.report?.pairs("changed") ?? []
        #expect(changed.contains("ctl2/no [trust] after 2026.1 (Magnum removed it)"), "\(changed.sorted())")
    }
}
