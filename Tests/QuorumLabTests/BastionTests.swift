import Foundation
import QuorumTesting
import Testing

/// Controllers reached through a bastion (issue 15): the machine running Quorum may not open SSH to ctl2 and
/// ctl3 (their firewalls reset it), only to ctl1, which the ssh_config names as their `ProxyJump`. Each hop is a
/// real SSH login with its own host key; the controllers' sessions run over ctl1's `direct-tcpip` channels.
enum LabBastion {
    /// The machine's own address on the lab's bridge: what ctl2 and ctl3 refuse SSH from during these tests.
    static let hostAddress = "10.21.22.1"
    static let comment = "quorum-lab-test: no direct ssh"
    static let behind = ["ctl2", "ctl3"]

    /// An ssh_config that sends ctl2 and ctl3 (as `Host` sees them: their ansible_host) through ctl1, whose own
    /// key and known_hosts are the lab's (or `bastionKnownHosts`).
    static func sshConfig(bastionKnownHosts: String? = nil) -> String {
        """
        Host 10.21.22.5 10.21.22.6
          ProxyJump root@10.21.22.4
        Host 10.21.22.4
          IdentityFile \(Lab.stateDirectory)/id_ed25519
          UserKnownHostsFile \(bastionKnownHosts ?? Lab.stateDirectory + "/known_hosts")
          ConnectTimeout 5

        """
    }

    /// ctl2 and ctl3 reset SSH connections from this machine (REJECT with a TCP reset: a refused direct
    /// connection fails at once, not after a timeout) while `body` runs.
    static func directSSHBlocked<T>(_ body: () throws -> T) throws -> T {
        let rule = "INPUT -s \(hostAddress) -p tcp --dport 22 -m comment --comment '\(comment)' -j REJECT --reject-with tcp-reset"
        for host in behind { _ = try Lab.output(host, "iptables -w 5 -I \(rule)") }
        defer { for host in behind { _ = try? Lab.output(host, "while iptables -w 5 -D \(rule) 2>/dev/null; do :; done") } }
        return try body()
    }

    static let playbook = """
        - name: who answers
          hosts: controllers
          steps:
            - name: hostname
              command: cat /proc/sys/kernel/hostname
              changed_when: false
        """
}

extension LabTests {
    @Test("through a bastion: ctl2 and ctl3 refuse this machine's SSH; with ctl1 as their ProxyJump, apply and audit reach all three")
    func bastionCarriesApplyAndAudit() throws {
        try Self.ensureMagnumApplied()
        let ws = try Workspace("bastion")
        defer { ws.remove() }
        let config = try ws.write("ssh_config", LabBastion.sshConfig())
        let playbook = try ws.write("pb.yml", LabBastion.playbook)
        try LabBastion.directSSHBlocked {
            // The negative control: without the jump, the block holds.
            let direct = try QuorumCLI.apply(playbook)
            #expect(direct.status == 3, "\(direct.all)")
            for host in LabBastion.behind {
                #expect(direct.report?.results.contains { $0.host == host && $0.outcome == "unreachable" } == true, "\(host): \(direct.all)")
            }

            let jumped = try QuorumCLI.apply(playbook, ["-F", config])
            #expect(jumped.status == 0, "\(jumped.all)")
            #expect(jumped.report?.pairs("ok") == Set(Lab.controllers.map { "\($0)/hostname" }), "\(jumped.all)")

            // The whole audit (SSH, and the Keystone, MySQL and Magnum calls tunnelled through the controllers).
            let audit = try LabAudit.audit(["-F", config])
            #expect(audit.status == 0, "\(audit.stdout)\n\(audit.stderr)")
        }
    }

    @Test("through a bastion: a wrong host key for the bastion, or the bastion's link cut, is exit 3 naming the jump host")
    func bastionFailuresNameTheJumpHost() throws {
        let ws = try Workspace("bastion-faults")
        defer { ws.remove() }
        // The lab's known_hosts with ctl2's key filed under ctl1's address: the bastion's key is then "changed". Given
        // as the run's known_hosts file (the inventory's `quorum_known_hosts_file` is the one every connection and
        // every hop checks), so ctl1 itself is refused too; ctl2 and ctl3 fail at the hop, naming it.
        let known = try String(contentsOfFile: Lab.stateDirectory + "/known_hosts", encoding: .utf8)
        let lines = known.split(separator: "\n").map(String.init)
        let ctl2Key = try #require(lines.first { $0.hasPrefix("10.21.22.5 ") })
        let wrong = lines.filter { !$0.hasPrefix("10.21.22.4 ") } + [ctl2Key.replacingOccurrences(of: "10.21.22.5 ", with: "10.21.22.4 ")]
        let wrongKnownHosts = try ws.write("known_hosts", wrong.joined(separator: "\n") + "\n")
        let config = try ws.write("ssh_config", LabBastion.sshConfig(bastionKnownHosts: wrongKnownHosts))
        let playbook = try ws.write("pb.yml", LabBastion.playbook)
        try LabBastion.directSSHBlocked {
            let refused = try QuorumCLI.apply(playbook, ["-F", config, "-e", "quorum_known_hosts_file=\(wrongKnownHosts)"])
            #expect(refused.status == 3, "\(refused.all)")
            for host in Lab.controllers {
                let lost = refused.report?.results.first { $0.host == host && $0.outcome == "unreachable" }
                #expect(lost?.error?.contains("10.21.22.4") == true, "\(host): \(String(describing: lost?.error))")
                if host != "ctl1" { #expect(lost?.error?.contains("jump host") == true, "\(host): \(String(describing: lost?.error))") }
            }
            #expect(!refused.all.contains("hostname  "), "a host was reached:\n\(refused.all)")

            defer { _ = try? Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "mend", "ctl1"]) }
            let cut = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "cut", "ctl1"])
            #expect(cut.status == 0, "\(cut.stderr)")
            let down = try QuorumCLI.apply(playbook, ["-F", config])
            #expect(down.status == 3, "\(down.all)")
            for host in LabBastion.behind {
                let lost = down.report?.results.first { $0.host == host && $0.outcome == "unreachable" }
                #expect(lost?.error?.contains("jump host") == true, "\(host): \(String(describing: lost?.error))")
            }
        }
    }

    @Test("through a bastion that works: a controller behind it that does not answer is exit 3 naming that controller, the others finish")
    func controllerBehindTheBastionUnreachable() throws {
        let ws = try Workspace("bastion-behind")
        defer { ws.remove() }
        let config = try ws.write("ssh_config", LabBastion.sshConfig())
        let playbook = try ws.write("pb.yml", LabBastion.playbook)
        defer { _ = try? Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "mend", "ctl3"]) }
        try LabBastion.directSSHBlocked {
            // (an earlier test cut ctl1 itself: the bastion reaches ctl2 and ctl3 again before ctl3 is cut)
            try HA.waitUntil("ctl1 reaches ctl2's and ctl3's sshd", seconds: 30) {
                try Lab.exec("ctl1", "timeout 3 bash -c ': </dev/tcp/10.21.22.5/22 && : </dev/tcp/10.21.22.6/22'").status == 0
            }
            let cut = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "cut", "ctl3"])
            #expect(cut.status == 0, "\(cut.stderr)")
            let started = Date()
            let run = try QuorumCLI.apply(playbook, ["-F", config])
            let took = Date().timeIntervalSince(started)
            #expect(run.status == 3, "\(run.all)")
            #expect(run.report?.pairs("ok") == ["ctl1/hostname", "ctl2/hostname"], "\(run.all)")
            let lost = run.report?.results.first { $0.host == "ctl3" && $0.outcome == "unreachable" }
            // The bastion was reached: the error is about ctl3's address as seen from it, not about the bastion.
            #expect(
                lost?.error?.contains("10.21.22.6") == true && lost?.error?.contains("10.21.22.4") == true,
                "\(String(describing: lost?.error))")
            // Opening the channel to ctl3 is ctl3's TCP connect: refused at once (the bastion's kernel knows ctl3 is
            // gone) or, when its packets vanish, bounded by ctl3's connect timeout (10 s), not the login's 30 s.
            #expect(
                lost?.error?.contains("could not connect to 10.21.22.6:22") == true
                    || lost?.error?.contains("within 10.0 seconds") == true, "\(String(describing: lost?.error))")
            #expect(took < 20, "ctl3 was named unreachable after \(took) s")
            print("behind a working bastion, after \(String(format: "%.1f", took)) s: \(lost?.error ?? "?")")
        }
    }
}
