import Foundation
import QuorumCore
import QuorumTesting
import Testing

@Suite("Filling empty values of a secrets file")
struct PasswordFillerTests {
    static let secrets = """
        # kolla-style passwords.yml
        database_password:
        keystone_admin_password: Kept-Value-1   # set by hand
        rabbitmq_password: ""
        nova:
          api_password: ~
          port: 8774
        'quoted key': null   # comment stays
        list: [a, b]

        """

    @Test("only empty values are filled; comments, order, quoting and the other values are kept")
    func fills() throws {
        var generator = SystemRandomNumberGenerator()
        let result = try PasswordFiller.fill(Self.secrets, path: "passwords.yml", using: &generator)
        #expect(result.filled == ["database_password", "rabbitmq_password", "nova.api_password", "quoted key"])
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let original = Self.secrets.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == original.count)
        for (index, line) in original.enumerated() where ![1, 3, 5, 7].contains(index) {
            #expect(lines[index] == line)
        }
        #expect(lines[7].hasPrefix("'quoted key': ") && lines[7].hasSuffix(" # comment stays"))
        let root = try #require(try YAMLFile.parse(result.text, path: "passwords.yml"))
        var passwords: [String] = []
        for name in ["database_password", "rabbitmq_password"] { passwords.append(try #require(root[name]?.value.stringValue)) }
        passwords.append(try #require(root["nova"]?["api_password"]?.value.stringValue))
        passwords.append(try #require(root["quoted key"]?.value.stringValue))
        for password in passwords {
            #expect(password.count == 32)
            #expect(password.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
        #expect(Set(passwords).count == 4)
        #expect(root["keystone_admin_password"]?.value == .string("Kept-Value-1"))
        #expect(root["nova"]?["port"]?.value == .int(8774))
    }

    @Test("an alphabet with YAML's special characters gives quoted values that read back exactly")
    func quoting() throws {
        var generator = SystemRandomNumberGenerator()
        let result = try PasswordFiller.fill("a:\nb: ''\n", path: "p.yml", length: 40, alphabet: "\"\\:#'{}", using: &generator)
        let root = try #require(try YAMLFile.parse(result.text, path: "p.yml"))
        for name in ["a", "b"] {
            let value = try #require(root[name]?.value.stringValue)
            #expect(value.count == 40 && value.allSatisfy { "\"\\:#'{}".contains($0) })
        }
    }

    @Test("an empty value inside a flow map is named with its line; nothing is filled")
    func flowStyle() throws {
        var generator = SystemRandomNumberGenerator()
        let error = try #require(throws: ConfigurationError.self) {
            try PasswordFiller.fill("a:\nb: {c: , d: x}\n", path: "p.yml", using: &generator)
        }
        #expect(error.description == "p.yml:2:5: error: `b.c` is empty but not written as `c:` on its own line; fill it by hand")
    }
}

/// `quorum vault genpwd` through the binary.
@Suite("quorum vault genpwd through the binary")
struct GenpwdCommandTests {
    static let secretsFile = """
        # passwords.yml
        database_password:
        keystone_admin_password: Zebra-Quokka-93/x+y   # kept
        rabbitmq_password: ""
        nova:
          api_password: ~

        """

    @Test("genpwd fills only the empty values, keeps the rest and the comments, writes 0600; a second run changes nothing")
    func genpwd() throws {
        let dir = try Scratch()
        try dir.write("passwords.yml", Self.secretsFile, mode: 0o644)
        let run = try QuorumBinary.run(["vault", "genpwd", "passwords.yml"], in: dir.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr == "filled 3 empty values in passwords.yml: database_password, rabbitmq_password, nova.api_password\n")
        #expect(dir.mode("passwords.yml") == 0o600)
        let filled = try #require(dir.read("passwords.yml"))
        let lines = filled.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "# passwords.yml")
        #expect(lines[2] == "keystone_admin_password: Zebra-Quokka-93/x+y   # kept")
        #expect(lines[4] == "nova:")
        for index in [1, 3, 5] {
            let value = String(lines[index].split(separator: ":", maxSplits: 1)[1].dropFirst())
            #expect(value.count == 32 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "line \(index): \(value.count) characters")
        }
        #expect(dir.listing() == ["passwords.yml"])

        let again = try QuorumBinary.run(["vault", "genpwd", "passwords.yml"], in: dir.path)
        #expect(again.status == 0 && again.stderr.contains("no empty value; nothing written"))
        #expect(dir.read("passwords.yml") == filled)

        let short = try QuorumBinary.run(["vault", "genpwd", "passwords.yml", "--length", "8", "--alphabet", "ab"], in: dir.path)
        #expect(short.status == 1 && short.stderr.contains("64 at least"), "\(short.stderr)")
    }

    @Test("genpwd on a Quorum vault file decrypts, fills and encrypts again; an Ansible file is refused")
    func genpwdVault() throws {
        let dir = try Scratch()
        try dir.write("passwords.yml", Self.secretsFile)
        let env = ["QUORUM_VAULT_PASSWORD": "Genpwd-Passphrase-3"]
        #expect(try QuorumBinary.run(["vault", "encrypt", "passwords.yml"], in: dir.path, environment: env).status == 0)
        let run = try QuorumBinary.run(
            ["vault", "genpwd", "passwords.yml", "--length", "20", "--alphabet", "0123456789abcdef"],
            in: dir.path, environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(dir.read("passwords.yml")?.hasPrefix("$QUORUM_VAULT;1;") == true)
        #expect(dir.mode("passwords.yml") == 0o600)
        let view = try QuorumBinary.run(["vault", "view", "passwords.yml"], in: dir.path, environment: env, plaintextStdout: true)
        let lines = view.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[2] == "keystone_admin_password: Zebra-Quokka-93/x+y   # kept")
        let value = String(lines[1].dropFirst("database_password: ".count))
        // 20 hex digits: quoted when YAML would read them as a number.
        let bare = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(bare.count == 20 && bare.allSatisfy(\.isHexDigit), "\(value)")

        try dir.write("ansible.yml", try AnsibleFixtures.text("vault-1.1.yml"))
        let ansible = try QuorumBinary.run(["vault", "genpwd", "ansible.yml"], in: dir.path, environment: env)
        #expect(ansible.status == 1 && ansible.stderr.contains("rekey --from-ansible"))
    }
}
