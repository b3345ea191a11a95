import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import QuorumVault
import Testing

/// The Ansible Vault fixtures, made by the real `ansible-vault` (Fixtures/ansible/README.md says how).
enum AnsibleFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/ansible"

    static func text(_ name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw TestError("missing fixture \(directory)/\(name)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The test-only passwords the fixtures were made with.
    static let defaultPassword = VaultPassphrase("Fixture-Default-Password-11")
    static let prodPassword = VaultPassphrase("Fixture-Prod-Password-12")
    static var both: VaultKeyring {
        VaultKeyring(
            passphrase: nil,
            identities: [
                VaultIdentity(label: "default", passphrase: defaultPassword),
                VaultIdentity(label: "prod", passphrase: prodPassword)
            ])
    }

    /// Every plaintext value the fixtures hold that must never be printed.
    static let secrets = [
        "Fixture-Keystone-Admin-11", "Fixture-Rabbit-Word-11", "Fixture-Magnum-Db-12/x+y",
        "Fixture-Inline-Amqp-13", "Fixture-Inline-Db-14"
    ]

    static func expectNoSecret(in text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for secret in secrets {
            for form in Leaks.forms(of: secret) {
                #expect(!text.contains(form), "output shows a fixture secret (\(form.prefix(12))…)", sourceLocation: sourceLocation)
            }
        }
    }
}

@Suite("Ansible Vault files made by ansible-vault")
struct AnsibleVaultFormatTests {
    @Test("a 1.1 file decrypts to its plaintext with the default password")
    func version11() throws {
        let text = try AnsibleFixtures.text("vault-1.1.yml")
        #expect(text.hasPrefix("$ANSIBLE_VAULT;1.1;AES256\n"))
        #expect(try AnsibleVaultFormat.header(of: text) == .init(version: "1.1", label: nil))
        let plaintext = try AnsibleVaultFormat.decrypt(text, password: AnsibleFixtures.defaultPassword)
        #expect(String(decoding: plaintext, as: UTF8.self) == (try AnsibleFixtures.text("plain-1.1.yml")))
    }

    @Test("a 1.2 file names its vault id; the keyring tries that id first, then the others")
    func version12() throws {
        let text = try AnsibleFixtures.text("vault-1.2.yml")
        #expect(text.hasPrefix("$ANSIBLE_VAULT;1.2;AES256;prod\n"))
        #expect(try AnsibleVaultFormat.header(of: text) == .init(version: "1.2", label: "prod"))
        let plain = try AnsibleFixtures.text("plain-1.2.yml")
        #expect(String(decoding: try AnsibleFixtures.both.decrypt(text), as: UTF8.self) == plain)
        // The prod password given under another label still opens it (after the named id was tried).
        let relabelled = VaultKeyring(passphrase: AnsibleFixtures.prodPassword)
        #expect(String(decoding: try relabelled.decrypt(text), as: UTF8.self) == plain)
        let wrong = VaultKeyring(
            passphrase: VaultPassphrase("nope"),
            identities: [
                VaultIdentity(label: "other", passphrase: VaultPassphrase("nope2")),
                VaultIdentity(label: "prod", passphrase: VaultPassphrase("nope3"))
            ])
        #expect(throws: VaultError.noMatchingPassword(tried: ["prod", "default", "other"])) { try wrong.decrypt(text) }
        #expect(throws: VaultError.noPassphrase) { try VaultKeyring(passphrase: nil).decrypt(text) }
    }

    @Test("a changed ciphertext byte fails the HMAC, before anything is decrypted; a broken envelope is named")
    func tampered() throws {
        let text = try AnsibleFixtures.text("vault-1.1.yml")
        // Inside the outer hex: hex(salt) \n hex(HMAC) \n hex(ciphertext); change the last ciphertext digit.
        let body = text.split(separator: "\n").dropFirst().joined()
        var envelope = [UInt8](Self.unhex(body))
        envelope[envelope.count - 1] = envelope[envelope.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let changed = "$ANSIBLE_VAULT;1.1;AES256\n" + envelope.map { String(format: "%02x", $0) }.joined() + "\n"
        #expect(throws: VaultError.noMatchingPassword(tried: ["default"])) {
            try VaultKeyring(passphrase: AnsibleFixtures.defaultPassword).decrypt(changed)
        }
        #expect(throws: VaultError.wrongPassphraseOrModified) {
            try AnsibleVaultFormat.decrypt(changed, password: AnsibleFixtures.defaultPassword)
        }
        #expect(
            VaultError.noMatchingPassword(tried: ["default"]).description
                == "wrong vault password or the file was modified (the HMAC does not match; tried vault id default)")
        #expect(throws: VaultError.malformed("the body is not hexadecimal")) {
            try AnsibleVaultFormat.decrypt(text.replacingOccurrences(of: "\n3", with: "\nz"), password: AnsibleFixtures.defaultPassword)
        }
        #expect(throws: VaultError.unsupported("Ansible Vault cipher `AES` (Quorum reads AES256)")) {
            try AnsibleVaultFormat.decrypt(text.replacingOccurrences(of: ";AES256", with: ";AES"), password: AnsibleFixtures.defaultPassword)
        }
    }

    @Test("inline !vault values in a YAML inventory decrypt to strings and are secrets; none without a password")
    func inlineInventory() throws {
        let dir = "/tmp/quorum-ansible-inline-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AnsibleFixtures.text("inline-inventory.yml").write(toFile: dir + "/hosts.yml", atomically: true, encoding: .utf8)
        let inventory = try Inventory.load(dir + "/hosts.yml", vault: AnsibleFixtures.both)
        let variables = inventory.variables(for: "ctl1")
        #expect(variables["amqp_credential"] == .string("Fixture-Inline-Amqp-13"))
        #expect(variables["db_credential"] == .string("Fixture-Inline-Db-14"))
        #expect(variables["region"] == .string("RegionOne"))
        #expect(Set(inventory.vaultSecrets) == ["Fixture-Inline-Amqp-13", "Fixture-Inline-Db-14"])

        let none = try #require(throws: ConfigurationError.self) { try Inventory.load(dir + "/hosts.yml") }
        #expect(none.diagnostics.count == 2)
        #expect(
            none.description.contains("\(dir)/hosts.yml:4:22: error: an inline `!vault` value and no vault password was given"),
            "\(none.description)")
        let wrong = try #require(throws: ConfigurationError.self) {
            try Inventory.load(dir + "/hosts.yml", vault: VaultKeyring(passphrase: AnsibleFixtures.defaultPassword))
        }
        #expect(wrong.diagnostics.count == 1)
        #expect(wrong.description.hasPrefix("\(dir)/hosts.yml:"))
        #expect(wrong.description.contains("error: cannot decrypt the inline `!vault` value in \(dir)/hosts.yml: wrong vault password"))
        #expect(wrong.description.contains("tried vault id default)"), "\(wrong.description)")
        AnsibleFixtures.expectNoSecret(in: none.description + wrong.description)
    }

    @Test("whole Ansible vault files load from group_vars and host_vars; every value they hold is a secret")
    func varsFiles() throws {
        let dir = "/tmp/quorum-ansible-vars-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/group_vars", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/host_vars", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "all:\n  hosts:\n    ctl1: {}\n".write(toFile: dir + "/hosts.yml", atomically: true, encoding: .utf8)
        try AnsibleFixtures.text("vault-1.1.yml").write(toFile: dir + "/group_vars/all.yml", atomically: true, encoding: .utf8)
        try AnsibleFixtures.text("vault-1.2.yml").write(toFile: dir + "/host_vars/ctl1.yml", atomically: true, encoding: .utf8)
        let inventory = try Inventory.load(dir + "/hosts.yml", vault: AnsibleFixtures.both)
        let variables = inventory.variables(for: "ctl1")
        #expect(variables["keystone_admin_credential"] == .string("Fixture-Keystone-Admin-11"))
        #expect(variables["magnum_database_credential"] == .string("Fixture-Magnum-Db-12/x+y"))
        #expect(variables["database_port"] == .int(3306))
        #expect(Set(inventory.vaultSecrets).isSuperset(of: ["Fixture-Keystone-Admin-11", "Fixture-Rabbit-Word-11", "Fixture-Magnum-Db-12/x+y"]))

        let wrong = try #require(throws: ConfigurationError.self) {
            try Inventory.load(dir + "/hosts.yml", vault: VaultKeyring(passphrase: AnsibleFixtures.defaultPassword))
        }
        #expect(
            wrong.description
                == "\(dir)/host_vars/ctl1.yml:1:1: error: cannot decrypt \(dir)/host_vars/ctl1.yml: wrong vault password or the file was modified (the HMAC does not match; tried vault id default)"
        )
        let none = try #require(throws: ConfigurationError.self) { try Inventory.load(dir + "/hosts.yml") }
        #expect(none.description.contains("\(dir)/group_vars/all.yml is an Ansible Vault file and no vault passphrase was given"))
    }
}

extension AnsibleVaultFormatTests {
    static func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...($0 + 1)], as: UTF8.self), radix: 16)! }
    }
}

extension AnsibleVaultFormatTests {
    @Test("an inventory file that is itself a vault file loads; every value written in it is a secret")
    func vaultedInventory() throws {
        let dir = "/tmp/quorum-vaulted-inventory-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let passphrase = VaultPassphrase("Inventory-Passphrase-4")
        for (name, text) in [
            ("hosts.yml", "all:\n  vars: {amqp_login: Vaulted-Yaml-Value-6}\n  hosts:\n    ctl1: {ansible_host: 10.0.0.11}\n"),
            ("hosts.ini", "[controllers]\nctl1 ansible_host=10.0.0.11 amqp_login=Vaulted-Ini-Value-7\n")
        ] {
            try VaultFormat.encrypt(Array(text.utf8), passphrase: passphrase).write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            let inventory = try Inventory.load(dir + "/" + name, vault: VaultKeyring(passphrase: passphrase))
            let value = try #require(inventory.variables(for: "ctl1")["amqp_login"]?.stringValue)
            #expect(value.hasPrefix("Vaulted-"), "\(name)")
            #expect(Set(inventory.vaultSecrets) == [value, "10.0.0.11"], "\(name)")
        }
    }
}
