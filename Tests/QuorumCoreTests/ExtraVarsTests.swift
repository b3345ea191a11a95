import Foundation
import OrderedCollections
import QuorumVault
import Testing

@testable import QuorumCore

/// `-e` as Ansible reads it: `name=value`, `@FILE` (YAML, JSON, vault files), inline maps; later wins; every
/// problem reported together, naming the file (and line and column) before any host is contacted.
@Suite("Extra variables (-e)")
struct ExtraVarsTests {
    static let passphrase = VaultPassphrase("Extra-Vars-Passphrase-1")
    static let ansibleFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuorumVaultTests/Fixtures/ansible").path

    static func parse(_ arguments: [String], vault: VaultKeyring? = nil) throws -> ExtraVars {
        try ExtraVars.parse(arguments, vault: vault)
    }

    /// The diagnostics of a parse that must fail, as `file:line:col: message` (`-: message` without a place), with
    /// `dir/` left out.
    static func errors(_ arguments: [String], in dir: String = "", vault: VaultKeyring? = nil) throws -> [String] {
        let error = try #require(throws: ConfigurationError.self) { try ExtraVars.parse(arguments, vault: vault) }
        return error.diagnostics.map { diagnostic in
            let file = { (path: String) in dir.isEmpty ? path : path.replacingOccurrences(of: dir + "/", with: "") }
            let place = diagnostic.location.map { "\(file($0.file)):\($0.line):\($0.column)" } ?? "-"
            return "\(place): \(diagnostic.message)"
        }
    }

    @Test("name=value: YAML values, the text itself when empty, null or ~ (the empty-value trap), split at the first =")
    func pairs() throws {
        let extra = try Self.parse([
            "port=9511", "empty=", "nothing=null", "tilde=~", "hosts=[a, b]", "url=a=b", "flag=true",
            "text=hello world"
        ])
        #expect(extra.variables["port"] == .int(9511))
        #expect(extra.variables["empty"] == .string(""))
        #expect(extra.variables["nothing"] == .string("null"))
        #expect(extra.variables["tilde"] == .string("~"))
        #expect(extra.variables["hosts"] == .list([.string("a"), .string("b")]))
        #expect(extra.variables["url"] == .string("a=b"))
        #expect(extra.variables["flag"] == .bool(true))
        #expect(extra.variables["text"] == .string("hello world"))
        #expect(extra.secrets.isEmpty)
    }

    @Test("@FILE in YAML or JSON, inline JSON and YAML maps; given several times, a later one wins name by name")
    func filesAndMaps() throws {
        let dir = try InventoryFixtures.scratch([
            "a.yml": "port: 9511\nrelease: '2025.2'\nservers: [x, y]\n",
            "b.json": #"{"port": 9512, "nested": {"k": [1, 2]}}"#,
            "empty.yml": ""
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let extra = try Self.parse([
            "@\(dir)/a.yml", "@\(dir)/b.json", "@\(dir)/empty.yml", #"{"release": "2026.1"}"#,
            "  {servers: [z]}", "port=9513"
        ])
        #expect(extra.variables["port"] == .int(9513))
        #expect(extra.variables["release"] == .string("2026.1"))
        #expect(extra.variables["servers"] == .list([.string("z")]))
        #expect(extra.variables["nested"] == .map(["k": .list([.int(1), .int(2)])]))
        #expect(Array(extra.variables.keys) == ["port", "release", "servers", "nested"])
        #expect(extra.secrets.isEmpty, "plain files hold no secrets")
    }

    @Test("a Quorum vault file is decrypted with the run's keyring; every value it holds is a secret")
    func quorumVaultFile() throws {
        let text = "db_password: Zebra-Quokka-93\nnested: {list: [Inner-Value-77, 5432]}\n"
        let encrypted = try VaultFormat.encrypt(
            Array(text.utf8), passphrase: Self.passphrase,
            parameters: ScryptParameters(logN: 15, r: 8, p: 1))
        let dir = try InventoryFixtures.scratch(["secrets.yml": encrypted])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let extra = try Self.parse(["@\(dir)/secrets.yml", "port=1"], vault: VaultKeyring(passphrase: Self.passphrase))
        #expect(extra.variables["db_password"] == .string("Zebra-Quokka-93"))
        #expect(Set(extra.secrets) == ["Zebra-Quokka-93", "Inner-Value-77", "5432"])

        let redactor = SecretRedactor()
        redactor.register(contentsOf: extra.secrets)
        #expect(!redactor.redact("password is Zebra-Quokka-93").contains("Zebra"))

        #expect(
            try Self.errors(["@\(dir)/secrets.yml"], in: dir)
                == ["secrets.yml:1:1: \(dir)/secrets.yml is a vault file and no vault passphrase was given"])
    }

    @Test("an Ansible Vault file (made by ansible-vault) is decrypted with the run's password; its values are secrets")
    func ansibleVaultFile() throws {
        let keyring = VaultKeyring(passphrase: VaultPassphrase("Fixture-Default-Password-11"))
        let extra = try Self.parse(["@\(Self.ansibleFixtures)/vault-1.1.yml"], vault: keyring)
        #expect(extra.variables["keystone_admin_credential"] == .string("Fixture-Keystone-Admin-11"))
        #expect(extra.variables["database_port"] == .int(3306))
        #expect(extra.secrets.contains("Fixture-Keystone-Admin-11") && extra.secrets.contains("Fixture-Rabbit-Word-11"))

        let wrong = try Self.errors(["@\(Self.ansibleFixtures)/vault-1.1.yml"], vault: VaultKeyring(passphrase: VaultPassphrase("nope")))
        #expect(wrong.count == 1 && wrong[0].hasPrefix("\(Self.ansibleFixtures)/vault-1.1.yml:1:1: cannot decrypt"), "\(wrong)")
    }

    @Test("every problem at once: the file with line and column, the -e argument by number; a list is not a map")
    func errors() throws {
        let dir = try InventoryFixtures.scratch(["bad.yml": "port: 1\nservers: [unclosed\n", "list.yml": "- a\n- b\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let errors = try Self.errors(
            [
                "@\(dir)/bad.yml", "@\(dir)/missing.yml", "@\(dir)/list.yml", "nope", "=1", "@",
                #"{"port": 1,"#, "[1, 2]"
            ], in: dir)
        #expect(errors.count == 8, "\(errors)")
        #expect(errors[0].hasPrefix("bad.yml:3:1: YAML syntax error"), "\(errors[0])")
        #expect(errors[1] == "missing.yml:1:1: cannot read \(dir)/missing.yml")
        #expect(errors[2] == "list.yml:1:1: -e needs a map of variables (name: value), not a list")
        #expect(errors[3] == "-: -e #4: takes name=value, @FILE or a map ({\"name\": value}), got `nope`")
        #expect(errors[4] == "-: -e #5: takes name=value, @FILE or a map ({\"name\": value}), got `=1`")
        #expect(errors[5] == "-: -e #6: @ needs a file name (-e @vars.yml)")
        #expect(errors[6].hasPrefix("-e #7:") && errors[6].contains("YAML syntax error"), "\(errors[6])")
        #expect(errors[7] == "-e #8:1:1: -e needs a map of variables (name: value), not a list")
    }
}
