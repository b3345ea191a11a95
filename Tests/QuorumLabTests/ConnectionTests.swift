import Foundation
import QuorumTesting
import Testing

extension LabTests {
    static let simplePlaybook = """
        - hosts: controllers
          steps:
            - name: who am I
              command: id -un
        """

    /// An inventory like the lab's, with absolute paths and the given extra `all` vars.
    static func inventory(in ws: Workspace, vars: [String: String], hosts: [String] = Lab.controllers) throws -> String {
        var allVars = [
            "ansible_user": "root",
            "ansible_ssh_private_key_file": Lab.stateDirectory + "/id_ed25519",
            "quorum_known_hosts_file": Lab.stateDirectory + "/known_hosts"
        ]
        for (key, value) in vars { allVars[key] = value }
        let varLines = allVars.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }
            .map { "    \($0.key): \(try! Self.yamlQuoted($0.value))" }.joined(separator: "\n")
        let hostLines = hosts.map { "        \($0): {ansible_host: \(Lab.addresses[$0]!)}" }.joined(separator: "\n")
        return try ws.write("inv.yml", "all:\n  vars:\n\(varLines)\n  children:\n    controllers:\n      hosts:\n\(hostLines)\n")
    }

    @Test("an unknown host key is refused (exit 3) unless --accept-new-host-keys, which records it")
    func unknownHostKeyIsRefused() throws {
        let ws = try Workspace("hostkeys")
        defer { ws.remove() }
        let knownHosts = try ws.write("known_hosts", "# operator's file: this comment must survive\n")
        let inventory = try Self.inventory(in: ws, vars: ["quorum_known_hosts_file": knownHosts], hosts: ["ctl1"])
        let playbook = try ws.write("pb.yml", Self.simplePlaybook)

        let refused = try QuorumCLI.apply(playbook, inventory: inventory)
        #expect(refused.status == 3, "\(refused.all)")
        #expect(refused.all.contains("ctl1"))
        #expect(refused.all.contains("SHA256:"), "the refusal does not show the key's fingerprint:\n\(refused.all)")
        #expect(refused.all.contains("--accept-new-host-keys"))
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == "# operator's file: this comment must survive\n")

        let accepted = try QuorumCLI.apply(playbook, inventory: inventory, ["--accept-new-host-keys"])
        #expect(accepted.status == 0, "\(accepted.all)")
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(recorded.hasPrefix("# operator's file: this comment must survive\n"), "the file was rewritten:\n\(recorded)")
        #expect(recorded.split(separator: "\n").count == 2, "expected exactly one new line:\n\(recorded)")

        let strict = try QuorumCLI.apply(playbook, inventory: inventory)
        #expect(strict.status == 0, "the recorded key is not accepted on the next strict run:\n\(strict.all)")
    }

    @Test("a changed host key is always refused, naming the host and both fingerprints")
    func changedHostKeyIsRefused() throws {
        let ws = try Workspace("changedkey")
        defer { ws.remove() }
        _ = try Command.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ws.path + "/other"])
        let otherKey = try String(contentsOfFile: ws.path + "/other.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let real = try String(contentsOfFile: Lab.stateDirectory + "/known_hosts", encoding: .utf8)
        let forged =
            real.split(separator: "\n").map { line in
                line.hasPrefix("10.21.22.4 ") ? "10.21.22.4 \(otherKey)" : String(line)
            }.joined(separator: "\n") + "\n"
        let knownHosts = try ws.write("known_hosts", forged)
        let inventory = try Self.inventory(in: ws, vars: ["quorum_known_hosts_file": knownHosts])
        let playbook = try ws.write("pb.yml", Self.simplePlaybook)

        for flags in [[], ["--accept-new-host-keys"]] {
            let run = try QuorumCLI.apply(playbook, inventory: inventory, flags)
            #expect(run.status == 3, "\(run.all)")
            let report = try #require(run.report)
            #expect(report.results.contains { $0.host == "ctl1" && $0.outcome == "unreachable" })
            let ctl1Error = report.results.first { $0.host == "ctl1" }?.error ?? ""
            #expect(ctl1Error.contains("10.21.22.4"), "\(ctl1Error)")
            #expect(ctl1Error.components(separatedBy: "SHA256:").count >= 3, "both fingerprints must be named: \(ctl1Error)")
            // The other controllers are not affected.
            #expect(report.results.contains { $0.host == "ctl2" && $0.outcome == "changed" })
        }
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == forged, "known_hosts was modified")
    }

    @Test("a wrong password is refused with a clear message (exit 3) and the password is never printed")
    func wrongPasswordIsRefused() throws {
        let ws = try Workspace("password")
        defer { ws.remove() }
        let wrong = "Wr0ng-secret-pw-991"
        let inventory = try Self.inventory(
            in: ws,
            vars: [
                "ansible_user": "labop", "ansible_ssh_private_key_file": "",
                "ansible_password": wrong
            ], hosts: ["ctl2"])
        let playbook = try ws.write("pb.yml", Self.simplePlaybook)
        let run = try QuorumCLI.apply(playbook, inventory: inventory)
        #expect(run.status == 3, "\(run.all)")
        #expect(run.all.lowercased().contains("authentication"), "\(run.all)")
        #expect(run.all.contains("labop@10.21.22.5"), "\(run.all)")
        #expect(!run.all.contains(wrong) && !(run.report?.raw.contains(wrong) ?? false), "the password leaked")
    }

    @Test("password login and become with a sudo password: files end up owned by root, no password printed")
    func passwordLoginAndBecome() throws {
        let ws = try Workspace("become")
        defer { ws.remove() }
        let inventory = try Self.inventory(
            in: ws,
            vars: [
                "ansible_user": "labop", "ansible_ssh_private_key_file": "", "ansible_password": "labop-Pa55",
                "ansible_become_password": "labop-Pa55"
            ], hosts: ["ctl1", "ctl3"])
        for host in ["ctl1", "ctl3"] { try Lab.exec(host, "rm -rf /etc/magnum/become") }
        let playbook = try ws.write(
            "pb.yml",
            """
            - hosts: controllers
              become: true
              steps:
                - file: {path: /etc/magnum/become, state: directory, mode: "0700"}
                - copy: {dest: /etc/magnum/become/who, content: "root only\\n", mode: "0600"}
                - name: whoami
                  command: id -un
                  register: who
                  changed_when: false
                  failed_when: who.stdout != 'root'
                - name: as labop
                  command: id -un
                  become: false
                  register: plain
                  changed_when: false
                  failed_when: plain.stdout != 'labop'
            """)
        let run = try QuorumCLI.apply(playbook, inventory: inventory)
        #expect(run.status == 0, "\(run.all)")
        for host in ["ctl1", "ctl3"] {
            #expect(try Lab.output(host, "stat -c '%U %a' /etc/magnum/become/who") == "root 600\n")
        }
        #expect(!run.all.contains("labop-Pa55") && !(run.report?.raw.contains("labop-Pa55") ?? false), "a password leaked")

        let badBecome = try Self.inventory(
            in: ws,
            vars: [
                "ansible_user": "labop", "ansible_ssh_private_key_file": "", "ansible_password": "labop-Pa55",
                "ansible_become_password": "not-the-password"
            ], hosts: ["ctl1"])
        let refused = try QuorumCLI.apply(playbook, inventory: badBecome)
        #expect(refused.status == 2, "\(refused.all)")
        #expect(refused.all.contains("sudo refused the become password"), "\(refused.all)")
    }
}
