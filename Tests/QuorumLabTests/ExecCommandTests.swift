import Foundation
import QuorumTesting
import Testing

/// `quorum exec` against the lab's controllers: output grouped per host, the exit status, secrets masked.
extension LabTests {
    @Test("exec: `hostname` on controllers prints ctl1, ctl2, ctl3 each under its own header, exit 0")
    func execPrintsEachHostUnderItsHeader() throws {
        let run = try QuorumCLI.run(["exec", "controllers", "-i", Lab.inventory, "--", "hostname"], json: false)
        #expect(run.status == 0, "\(run.all)")
        for host in Lab.controllers {
            #expect(run.stdout.contains("\(host) | exit 0\n  \(host)\n"), "\(run.stdout)")
            #expect(run.stdout.contains("\n  \(host)  exit 0  "), "no recap line for \(host):\n\(run.stdout)")
        }
        let headers = Lab.controllers.compactMap { run.stdout.range(of: "\($0) | exit")?.lowerBound }
        #expect(headers.count == 3 && headers == headers.sorted(), "not in inventory order:\n\(run.stdout)")
    }

    @Test("exec: a command failing on ctl2 only exits 2 and names ctl2's status")
    func execFailingOnOneControllerExits2() throws {
        let run = try QuorumCLI.run(
            ["exec", "controllers", "-i", Lab.inventory, "--", "sh", "-c", "test \"$(hostname)\" != ctl2"],
            json: false)
        #expect(run.status == 2, "\(run.all)")
        #expect(run.stdout.contains("ctl2 | exit 1\n") && run.stdout.contains("\n  ctl2  exit 1  "), "\(run.stdout)")
        #expect(run.stdout.contains("ctl1 | exit 0\n") && run.stdout.contains("ctl3 | exit 0\n"), "\(run.stdout)")
    }

    @Test("exec: a vault secret the command echoes is masked in its output and in -vv's command lines")
    func execMasksAVaultSecret() throws {
        let workspace = try Workspace("exec-vault")
        defer { workspace.remove() }
        let secret = "Vault-Exec-\(UUID().uuidString.prefix(8))"
        // The lab inventory (absolute key paths) with a vault file for the controllers: not secret by its name.
        let inventory = try workspace.write("inventory.yml", try Self.leakInventory([:]))
        let vaultFile = try workspace.write("group_vars/controllers/vault.yml", "exec_probe_value: \(secret)\n")
        let password = try workspace.write("vault-password", "exec-lab-test\n")
        let encrypt = try QuorumCLI.run(["vault", "encrypt", vaultFile, "--vault-password-file", password], json: false)
        #expect(encrypt.status == 0, "\(encrypt.all)")

        let run = try QuorumCLI.run(
            ["exec", "ctl1", "-i", inventory, "--vault-password-file", password, "-vv", "--", "echo", secret],
            json: false)
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stdout.contains("ctl1 | exit 0\n  ********\n"), "\(run.stdout)")
        #expect(run.stdout.contains("ctl1 $ echo ********\n"), "-vv did not show the command:\n\(run.stdout)")
        #expect(!run.all.contains(secret), "the vault secret leaked:\n\(run.all)")
    }
}
