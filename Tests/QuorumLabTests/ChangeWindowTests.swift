import Foundation
import QuorumTesting
import Testing

/// The operator's change window (issue 16): `apply --confirm` shows the plan and applies exactly it, or nothing
/// without a terminal; `apply --format json` keeps stdout a document; `-e @FILE` reads a vault file. Each test
/// works on one small file of its own on the controllers (`ChangeWindow.file`, removed afterwards), not on Magnum.
enum ChangeWindow {
    static let file = "/etc/magnum/quorum-change-window.txt"
    static let step = "Window file"

    /// A workspace holding a one-step playbook that writes `file` on every controller.
    static func workspace() throws -> (Workspace, String) {
        let workspace = try Workspace("change-window")
        let playbook = try workspace.write(
            "window.yml",
            """
            - name: Change window
              hosts: controllers
              steps:
                - name: \(step)
                  copy:
                    dest: \(file)
                    content: "{{ window_text | default('Quorum change window') }} on {{ inventory_hostname }}\\n"
                    mode: "0644"
                  tags: [window]
            """)
        return (workspace, playbook)
    }

    /// `file` as the playbook writes it on every controller.
    static func converge(_ playbook: String) throws {
        let setup = try QuorumCLI.apply(playbook)
        #expect(setup.status == 0, "setup apply failed:\n\(setup.all)")
    }

    /// The playbook applied, then `file` edited by hand on ctl2.
    static func editedByHandOnCtl2() throws -> (Workspace, String) {
        let (workspace, playbook) = try workspace()
        try converge(playbook)
        try Lab.exec("ctl2", "echo 'edited by hand' >> \(file)")
        return (workspace, playbook)
    }

    static func removeFile() {
        for host in Lab.controllers { _ = try? Lab.exec(host, "rm -f \(file)") }
    }

    /// The plan `--confirm` prints: stdout up to the audit table's summary line.
    static func plan(_ stdout: String) -> String {
        String(stdout[..<(stdout.range(of: "\naudit: ")?.lowerBound ?? stdout.endIndex)])
    }
}

extension LabTests {
    @Test("apply --confirm --yes after a hand edit on ctl2: the plan shows that one file, the apply changes exactly it")
    func confirmYesAppliesExactlyThePlan() throws {
        let (workspace, playbook) = try ChangeWindow.editedByHandOnCtl2()
        defer {
            workspace.remove()
            ChangeWindow.removeFile()
        }

        let run = try QuorumCLI.apply(playbook, ["--confirm", "--yes"])
        #expect(run.status == 0, "\(run.all)")
        let plan = ChangeWindow.plan(run.stdout)
        #expect(plan.contains("DRIFT\n  ctl2\n    ~ \(ChangeWindow.step)  (copy, "), "\(plan)")
        #expect(plan.contains("-edited by hand"), "the plan does not show the hand edit:\n\(plan)")
        #expect(!plan.contains("  ctl1\n") && !plan.contains("  ctl3\n"), "the plan shows other hosts:\n\(plan)")
        #expect(try #require(run.report).pairs("changed") == ["ctl2/\(ChangeWindow.step)"])
        #expect(run.stdout.contains("plan vs apply: as planned (1 change)"), "\(run.stdout)")
        #expect(try Lab.output("ctl2", "cat \(ChangeWindow.file)") == "Quorum change window on ctl2\n")
    }

    @Test("apply --confirm with stdin not a terminal: the plan, exit 4, nothing applied (fingerprints equal)")
    func confirmWithoutTerminalChangesNothing() throws {
        let (workspace, playbook) = try ChangeWindow.editedByHandOnCtl2()
        defer {
            workspace.remove()
            ChangeWindow.removeFile()
        }
        let before = try Lab.controllers.map { try Lab.fingerprint($0) }

        let run = try QuorumCLI.apply(playbook, ["--confirm"])  // QuorumCLI gives stdin a pipe
        #expect(run.status == 4, "\(run.all)")
        #expect(run.stderr.contains("stdin is not a terminal") && run.stderr.contains("nothing applied"), "\(run.stderr)")
        #expect(ChangeWindow.plan(run.stdout).contains("~ \(ChangeWindow.step)"), "no plan shown:\n\(run.stdout)")
        #expect(!run.stdout.contains("plan vs apply"), "an apply ran:\n\(run.stdout)")
        #expect(try #require(run.report).pairs("changed") == ["ctl2/\(ChangeWindow.step)"], "the --json document is not the plan's")
        let after = try Lab.controllers.map { try Lab.fingerprint($0) }
        #expect(before == after, "--confirm without a terminal changed a controller")
    }

    @Test("apply --format json: stdout is exactly the JSON document, the console lines are on stderr")
    func applyFormatJSONKeepsStdoutADocument() throws {
        let (workspace, playbook) = try ChangeWindow.workspace()
        defer {
            workspace.remove()
            ChangeWindow.removeFile()
        }
        ChangeWindow.removeFile()  // so the check has a change to report on every controller
        let run = try QuorumCLI.run(
            ["apply", playbook, "-i", Lab.inventory, "--check", "--tags", "window", "--format", "json"],
            json: false)
        #expect(run.status == 4, "a check before the first apply must find the file missing:\n\(run.all)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
            "stdout is not a JSON object:\n\(run.stdout)")
        #expect(document["check"] as? Bool == true && document["exit_code"] as? Int == 4)
        let results = document["results"] as? [[String: Any]] ?? []
        #expect(Set(results.compactMap { $0["host"] as? String }) == Set(Lab.controllers))
        #expect(run.stderr.contains("PLAY Change window") && run.stderr.contains("RECAP"), "\(run.stderr)")
        #expect(run.stderr.contains("changed      ctl2    \(ChangeWindow.step)"), "\(run.stderr)")
    }

    @Test("-e @FILE with a vault-encrypted vars file in a check run: decrypted, used, its value masked everywhere")
    func extraVarsFromAVaultFile() throws {
        let (workspace, playbook) = try ChangeWindow.workspace()
        defer {
            workspace.remove()
            ChangeWindow.removeFile()
        }
        try ChangeWindow.converge(playbook)
        let secret = "Vault-Window-Text-61"
        let vars = try workspace.write("window-vault.yml", "window_text: \(secret)\n")
        let password = try workspace.write("vault-pass", "Lab-Window-Vault-Pa55\n")
        let encrypt = try QuorumCLI.run(["vault", "encrypt", vars, "--vault-password-file", password], json: false)
        #expect(encrypt.status == 0, "\(encrypt.all)")
        #expect(!(try String(contentsOfFile: vars, encoding: .utf8)).contains(secret), "the vars file is not encrypted")
        let before = try Lab.controllers.map { try Lab.fingerprint($0) }

        let check = try QuorumCLI.apply(
            playbook,
            [
                "--check", "--diff", "--tags", "window", "-e", "@" + vars,
                "--vault-password-file", password
            ])
        #expect(check.status == 4, "\(check.all)")
        let report = try #require(check.report)
        #expect(report.pairs("changed") == Set(Lab.controllers.map { "\($0)/\(ChangeWindow.step)" }))
        #expect(check.stdout.contains("+******** on ctl2"), "the diff does not show the masked vault value:\n\(check.stdout)")
        #expect(!check.all.contains(secret) && !report.raw.contains(secret), "the vault value leaked")
        let after = try Lab.controllers.map { try Lab.fingerprint($0) }
        #expect(before == after, "a check run changed a controller")
    }
}

/// `--list-hosts` needs no lab, so it is not in `LabTests` (whose init brings the lab up): it runs with the lab
/// down, and proves it contacts nothing by sending every host to a closed port.
@Suite("--list-hosts contacts no host")
struct ChangeWindowListingTests {
    static let closedPort = ["-e", "ansible_host=127.0.0.1", "-e", "ansible_port=1"]

    @Test("--list-hosts prints ctl1, ctl2, ctl3 for every play of magnum-ha.yml, honours --limit, and contacts no host")
    func listHostsContactsNothing() throws {
        let list = try QuorumCLI.run(
            ["apply", LabTests.magnumPlaybook, "-i", Lab.inventory, "--list-hosts"] + Self.closedPort,
            json: false)
        #expect(list.status == 0, "\(list.all)")
        let plays = list.stdout.components(separatedBy: "\n  play #").dropFirst()
        #expect(plays.count == 4, "\(list.stdout)")
        for play in plays { #expect(play.hasSuffix("hosts (3):\n      ctl1\n      ctl2\n      ctl3\n"), "\(play)") }
        #expect(!list.all.contains("PLAY ") && !list.all.contains("RECAP") && !list.all.contains("unreachable"), "\(list.all)")

        let limited = try QuorumCLI.run(
            ["audit", LabTests.magnumPlaybook, "-i", Lab.inventory, "--list-hosts", "--limit", "ctl2"]
                + Self.closedPort, json: false)
        #expect(limited.status == 0 && limited.stdout.contains("hosts (1):\n      ctl2\n"), "\(limited.all)")
        #expect(!limited.stdout.contains("ctl1") && !limited.stdout.contains("ctl3"), "\(limited.stdout)")

        // The control: the same hosts in a check run are tried, and found closed.
        let contact = try QuorumCLI.run(
            [
                "apply", LabTests.magnumPlaybook, "-i", Lab.inventory, "--check", "--tags", "check",
                "--skip-preflight", "--connect-timeout", "2"
            ] + Self.closedPort, json: false)
        #expect(contact.status == 3, "\(contact.all)")
    }
}

/// `quorum apply --confirm` on a real terminal: a pseudo-terminal (Python's `pty`) whose driver answers the
/// question with `answer` as soon as `[y/N]` appears, and collects everything printed.
enum ConfirmOnTerminal {
    static let driver = #"""
        import os, pty, sys
        answer, argv = sys.argv[1].encode() + b"\n", sys.argv[2:]
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(argv[0], argv)
        out, answered = b"", False
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            if not answered and b"[y/N]" in out:
                os.write(fd, answer)
                answered = True
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """#

    static func run(_ arguments: [String], answer: String) throws -> Command.Result {
        try Command.run(
            ["/usr/bin/python3", "-c", driver, answer, PackageRoot.quorumBinary] + arguments,
            environment: QuorumCLI.inheritedEnvironment)
    }
}

extension LabTests {
    @Test("apply --confirm on a terminal answered n: the plan shows the drift, nothing is applied on any controller, in the database or Keystone")
    func confirmAnsweredNoChangesNothing() throws {
        try Self.ensureMagnumApplied()
        defer { _ = try? QuorumCLI.apply(Self.magnumPlaybook) }  // the drift made here, repaired
        _ = try Lab.output("ctl2", "sed -i 's/^memcached_servers = .*/memcached_servers = 127.0.0.1:11211/' /etc/magnum/magnum.conf")
        _ = try LabMySQL.admin("REVOKE DELETE ON magnum.* FROM 'magnum'@'%'")
        let fingerprints = try Lab.controllers.map { try Lab.fingerprint($0) }
        let (grants, counters, keystone) = (
            try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'%'"), try LabMySQL.counters(),
            try LabKeystone.counts()
        )
        let apiPids = try Lab.controllers.map { try Self.magnumAPIPid($0) }

        let run = try ConfirmOnTerminal.run(["apply", Self.magnumPlaybook, "-i", Lab.inventory, "--confirm"], answer: "n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("Apply these changes? [y/N]") && run.stdout.contains("nothing applied"), "\(run.stdout)")
        #expect(run.stdout.contains("magnum.conf") && run.stdout.contains("magnum database account"), "the plan misses the drift:\n\(run.stdout)")
        #expect(!run.stdout.contains("plan vs apply"), "an apply ran:\n\(run.stdout)")
        #expect(try Lab.controllers.map { try Lab.fingerprint($0) } == fingerprints, "a controller changed")
        #expect(try LabMySQL.admin("SHOW GRANTS FOR 'magnum'@'%'") == grants && LabMySQL.counters() == counters, "the database changed")
        #expect(try LabKeystone.counts() == keystone, "Keystone changed")
        #expect(try Lab.controllers.map { try Self.magnumAPIPid($0) } == apiPids, "magnum-api restarted")
    }
}
