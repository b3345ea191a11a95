import Foundation
import OrderedCollections
import QuorumCore
import QuorumSteps
import QuorumVault
import Testing

/// Vault files where Quorum reads variables: `group_vars/`, `host_vars/` and a play's `vars_files`.
@Suite("Vault files in inventories and vars_files")
struct VaultLoadingTests {
    static let passphrase = VaultPassphrase("Loading-Passphrase-1")
    static let quick = ScryptParameters(logN: 15, r: 8, p: 1)

    /// Writes `files` (relative path → text) into a fresh directory; paths in `vaulted` are encrypted.
    static func scratch(_ files: [String: String], vaulted: Set<String>) throws -> String {
        let dir = "/tmp/quorum-vault-load-\(UUID().uuidString.prefix(8))"
        for (relative, text) in files {
            let path = dir + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let content =
                vaulted.contains(relative)
                ? try VaultFormat.encrypt(Array(text.utf8), passphrase: passphrase, parameters: quick) : text
            try content.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    static let inventory = "all:\n  hosts:\n    ctl1: {ansible_host: 127.0.0.1, ansible_port: 1}\n"

    @Test("group_vars and host_vars vault files load with the passphrase; every value they hold is a secret")
    func loads() throws {
        let dir = try Self.scratch(
            [
                "hosts.yml": Self.inventory,
                "group_vars/all.yml": "db_admin: Zebra-Quokka-93\nnested: {list: [Inner-Value-77, 5432]}\nflag: true\n",
                "host_vars/ctl1/secrets.yml": "host_only: Host-Secret-88\n",
                "host_vars/ctl1/plain.yml": "plain_value: Not-A-Secret\n"
            ], vaulted: ["group_vars/all.yml", "host_vars/ctl1/secrets.yml"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inventory = try Inventory.load(dir + "/hosts.yml", vault: VaultKeyring(passphrase: Self.passphrase))
        let variables = inventory.variables(for: "ctl1")
        #expect(variables["db_admin"] == .string("Zebra-Quokka-93"))
        #expect(variables["host_only"] == .string("Host-Secret-88"))
        #expect(Set(inventory.vaultSecrets) == ["Zebra-Quokka-93", "Inner-Value-77", "5432", "Host-Secret-88"])

        let redactor = SecretRedactor()
        redactor.register(contentsOf: inventory.vaultSecrets)
        #expect(redactor.redact("\(variables)").contains("Not-A-Secret"))
        for secret in ["Zebra-Quokka-93", "Inner-Value-77", "Host-Secret-88"] {
            #expect(!redactor.redact("\(variables)").contains(secret))
            #expect(!redactor.redact(Data(secret.utf8).base64EncodedString()).contains(Data(secret.utf8).base64EncodedString()))
        }
    }

    @Test("a wrong passphrase, or none, is a diagnostic naming the file")
    func wrongOrMissingPassphrase() throws {
        let dir = try Self.scratch(
            ["hosts.yml": Self.inventory, "group_vars/all.yml": "db_admin: Zebra-Quokka-93\n"],
            vaulted: ["group_vars/all.yml"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrong = try #require(throws: ConfigurationError.self) {
            try Inventory.load(dir + "/hosts.yml", vault: VaultKeyring(passphrase: VaultPassphrase("nope")))
        }
        #expect(
            wrong.description == "\(dir)/group_vars/all.yml:1:1: error: cannot decrypt \(dir)/group_vars/all.yml: wrong passphrase or the file was modified")
        let missing = try #require(throws: ConfigurationError.self) { try Inventory.load(dir + "/hosts.yml") }
        #expect(missing.description.contains("\(dir)/group_vars/all.yml is a vault file and no vault passphrase was given"))
        #expect(!wrong.description.contains("Zebra") && !missing.description.contains("Zebra"))
    }

    @Test("a YAML error inside a vault file points at the line of the decrypted text, as for the plain file")
    func yamlErrorLines() throws {
        let broken = "a: 1\nb: 2\n  c: 3\n"
        let plain = try Self.scratch(["hosts.yml": Self.inventory, "group_vars/all.yml": broken], vaulted: [])
        let vaulted = try Self.scratch(["hosts.yml": Self.inventory, "group_vars/all.yml": broken], vaulted: ["group_vars/all.yml"])
        defer {
            try? FileManager.default.removeItem(atPath: plain)
            try? FileManager.default.removeItem(atPath: vaulted)
        }
        let expected = try #require(throws: ConfigurationError.self) { try Inventory.load(plain + "/hosts.yml") }
        let error = try #require(throws: ConfigurationError.self) {
            try Inventory.load(vaulted + "/hosts.yml", vault: VaultKeyring(passphrase: Self.passphrase))
        }
        #expect(error.diagnostics.first?.location?.line == 3)
        #expect(error.description == expected.description.replacingOccurrences(of: plain, with: vaulted))
    }

    @Test("vars_files may be vault files: the loader reads them, the static checker knows their names; a file it cannot open is named")
    func varsFiles() throws {
        let dir = try Self.scratch(
            [
                "hosts.yml": Self.inventory,
                "secrets.yml": "magnum_db_pw: Vars-File-Secret-9\n",
                "site.yml": "- hosts: all\n  vars_files: [secrets.yml]\n  steps:\n    - command: \"echo {{ magnum_db_pw }}\"\n"
            ], vaulted: ["secrets.yml"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inventory = try Inventory.load(dir + "/hosts.yml")
        func load(_ vault: VaultKeyring?) -> (playbook: Playbook, diagnostics: [Diagnostic]) {
            var diagnostics = DiagnosticCollector()
            let playbook = PlaybookLoader(catalog: StepCatalog.byName, vault: vault).loadCollecting(dir + "/site.yml", into: &diagnostics)
            return (playbook, diagnostics.diagnostics)
        }
        let good = load(VaultKeyring(passphrase: Self.passphrase))
        #expect(good.diagnostics.isEmpty)
        let file = try #require(good.playbook.plays.first?.varsFiles.first)
        #expect(file.encrypted && file.variables.map(\.name) == ["magnum_db_pw"])
        #expect(!StaticChecker(inventory: inventory).check([good.playbook]).contains { $0.message.contains("magnum_db_pw") })
        let wrong = load(VaultKeyring(passphrase: VaultPassphrase("nope"))).diagnostics
        #expect(
            wrong.contains { $0.description == "\(dir)/secrets.yml:1:1: error: cannot decrypt \(dir)/secrets.yml: wrong passphrase or the file was modified" })
        let none = load(nil).diagnostics
        #expect(none.contains { $0.message == "\(dir)/secrets.yml is a vault file and no vault passphrase was given" })

        let loaded = try VaultFiles.load(dir + "/secrets.yml", vault: VaultKeyring(passphrase: Self.passphrase))
        #expect(loaded.encrypted)
        #expect(loaded.root?.entries?.first?.value.value == .string("Vars-File-Secret-9"))
    }
}
