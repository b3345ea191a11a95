import Foundation
import QuorumTesting
import Testing

/// The built `quorum` for the vault commands: run through QuorumTesting's runner with a fixed environment
/// (HOME is the test's directory, so no passphrase or editor comes from the test's own), and every byte it
/// prints checked for secrets, except a `vault view`'s stdout (`plaintextStdout`), which is the plaintext by design.
enum QuorumBinary {
    static func run(
        _ arguments: [String], in directory: String, environment extra: [String: String] = [:],
        setsid: Bool = false, plaintextStdout: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> QuorumCLI.Run {
        var environment = QuorumCLI.fixedEnvironment(home: directory)
        environment.merge(extra) { $1 }
        let result = try QuorumCLI.run(arguments, json: false, environment: environment, directory: directory, setsid: setsid)
        Leaks.expectNone(in: result.stderr, sourceLocation: sourceLocation)
        if !plaintextStdout { Leaks.expectNone(in: result.stdout, sourceLocation: sourceLocation) }
        return result
    }
}

/// The distinctive secret values of these tests and the forms of them that must never be printed.
enum Leaks {
    static let secrets = ["Zebra-Quokka-93/x+y", "Host-Secret-88!", "Vars-File-Secret-9?"]

    static func forms(of secret: String) -> [String] {
        let base64 = Data(secret.utf8).base64EncodedString()
        return [
            secret, base64, String(base64.prefix { $0 != "=" }),
            secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret,
            secret.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? secret
        ]
    }

    static func expectNone(in text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets {
            for form in forms(of: secret) {
                #expect(!text.contains(form), "output shows a secret (\(form.prefix(3))…)", sourceLocation: sourceLocation)
            }
        }
    }
}

/// A scratch directory for one test.
final class Scratch {
    let path: String

    init() throws {
        path = "/tmp/quorum-vault-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String, mode: Int? = nil) throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file) }
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func mode(_ relative: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path + "/" + relative))?[.posixPermissions] as? Int
    }

    /// Every entry below the directory (relative paths), to prove nothing was left behind.
    func listing() -> Set<String> {
        Set(FileManager.default.subpaths(atPath: path) ?? [])
    }

    /// An executable shell script.
    func script(_ relative: String, _ body: String) throws -> String {
        try write(relative, "#!/bin/sh\n" + body, mode: 0o755)
        return path + "/" + relative
    }
}

@Suite("quorum vault … through the binary")
struct VaultCommandTests {
    static let plaintext = "db_admin: \"Zebra-Quokka-93/x+y\"\nrabbit_password: \"Host-Secret-88!\"\nport: 5672\n"
    static let env = ["QUORUM_VAULT_PASSWORD": "Cli-Passphrase-42"]
    static let header = "$QUORUM_VAULT;1;AES256-GCM;scrypt;"

    @Test("encrypt, view, decrypt in place with QUORUM_VAULT_PASSWORD; the file's mode is kept")
    func encryptViewDecrypt() throws {
        let dir = try Scratch()
        try dir.write("vars.yml", Self.plaintext, mode: 0o640)
        let encrypt = try QuorumBinary.run(["vault", "encrypt", "vars.yml"], in: dir.path, environment: Self.env)
        #expect(encrypt.status == 0, "\(encrypt.stderr)")
        let sealed = try #require(dir.read("vars.yml"))
        #expect(sealed.hasPrefix(Self.header))
        Leaks.expectNone(in: sealed)
        #expect(dir.mode("vars.yml") == 0o640)
        #expect(dir.listing() == ["vars.yml"])

        let again = try QuorumBinary.run(["vault", "encrypt", "vars.yml"], in: dir.path, environment: Self.env)
        #expect(again.status == 1 && again.stderr.contains("vars.yml is already a vault file"))

        let view = try QuorumBinary.run(["vault", "view", "vars.yml"], in: dir.path, environment: Self.env, plaintextStdout: true)
        #expect(view.status == 0 && view.stdout == Self.plaintext)

        let decrypt = try QuorumBinary.run(["vault", "decrypt", "vars.yml"], in: dir.path, environment: Self.env)
        #expect(decrypt.status == 0)
        #expect(dir.read("vars.yml") == Self.plaintext)
        #expect(dir.mode("vars.yml") == 0o640)
        #expect(dir.listing() == ["vars.yml"])
    }

    @Test("create with a password file and $EDITOR, then rekey: the old passphrase stops working")
    func createAndRekey() throws {
        let dir = try Scratch()
        try dir.write("pw1", "First-Passphrase\n")
        try dir.write("pw2", "Second-Passphrase\n")
        let editor = try dir.script("fill.sh", "cat > \"$1\" <<'END'\n\(Self.plaintext)END\n")
        let create = try QuorumBinary.run(
            ["vault", "create", "new.yml", "--vault-password-file", "pw1"], in: dir.path,
            environment: ["EDITOR": editor, "TMPDIR": dir.path])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(dir.read("new.yml")?.hasPrefix(Self.header) == true)
        #expect(dir.mode("new.yml") == 0o600)
        let before = try #require(dir.read("new.yml"))

        let exists = try QuorumBinary.run(
            ["vault", "create", "new.yml", "--vault-password-file", "pw1"], in: dir.path,
            environment: ["EDITOR": editor])
        #expect(exists.status == 1 && exists.stderr.contains("new.yml exists"))

        let rekey = try QuorumBinary.run(
            ["vault", "rekey", "new.yml", "--vault-password-file", "pw1", "--new-vault-password-file", "pw2"],
            in: dir.path)
        #expect(rekey.status == 0, "\(rekey.stderr)")
        #expect(dir.read("new.yml") != before)
        let old = try QuorumBinary.run(["vault", "view", "new.yml", "--vault-password-file", "pw1"], in: dir.path)
        #expect(old.status == 1)
        #expect(old.stderr == "error: cannot decrypt new.yml: wrong passphrase or the file was modified\n")
        let new = try QuorumBinary.run(["vault", "view", "new.yml", "--vault-password-file", "pw2"], in: dir.path, plaintextStdout: true)
        #expect(new.status == 0 && new.stdout == Self.plaintext)
        #expect(dir.listing() == ["pw1", "pw2", "fill.sh", "new.yml"])
    }

    /// A vault file written by the binary, in a fresh scratch directory.
    func sealedFile(_ dir: Scratch) throws -> String {
        try dir.write("vars.yml", Self.plaintext)
        #expect(try QuorumBinary.run(["vault", "encrypt", "vars.yml"], in: dir.path, environment: Self.env).status == 0)
        return try #require(dir.read("vars.yml"))
    }

    @Test("a wrong passphrase: every command fails with exit 1, the same message, and writes nothing")
    func wrongPassphrase() throws {
        let dir = try Scratch()
        let sealed = try sealedFile(dir)
        try dir.write("pw2", "Second-Passphrase\n")
        let editor = try dir.script("editor.sh", "touch \"$(dirname \"$0\")/editor-ran\"\n")
        let listing = dir.listing()
        for command in [["view"], ["decrypt"], ["edit"], ["rekey", "--new-vault-password-file", "pw2"]] {
            let run = try QuorumBinary.run(
                ["vault"] + command + ["vars.yml"], in: dir.path,
                environment: ["QUORUM_VAULT_PASSWORD": "Wrong-Passphrase", "EDITOR": editor])
            #expect(run.status == 1, "\(command)")
            #expect(run.stderr == "error: cannot decrypt vars.yml: wrong passphrase or the file was modified\n", "\(command)")
            #expect(run.stdout.isEmpty)
            #expect(dir.read("vars.yml") == sealed)
            #expect(dir.listing() == listing, "\(command) left something behind")
        }
    }

    @Test("a tampered file (body byte, header field, truncation) fails to decrypt and is left as it was")
    func tampered() throws {
        let dir = try Scratch()
        let sealed = try sealedFile(dir)
        var lines = sealed.split(separator: "\n").map(String.init)
        var body = [UInt8](Data(base64Encoded: lines.dropFirst().joined())!)
        body[40] ^= 0x80
        let flipped = lines[0] + "\n" + Data(body).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n"
        let header = sealed.replacingOccurrences(of: "r=8;", with: "r=9;")
        lines.removeLast()
        let truncated = lines.joined(separator: "\n") + "\n"
        for (name, text) in [("body", flipped), ("header", header), ("truncated", truncated)] {
            try dir.write("vars.yml", text)
            for command in ["decrypt", "view"] {
                let run = try QuorumBinary.run(["vault", command, "vars.yml"], in: dir.path, environment: Self.env)
                #expect(run.status == 1, "\(name) \(command)")
                #expect(run.stderr.hasPrefix("error: cannot decrypt vars.yml: "), "\(name): \(run.stderr)")
                #expect(run.stdout.isEmpty)
                #expect(dir.read("vars.yml") == text)
            }
        }
    }

    @Test("edit: the editor gets a 0600 file in a 0700 directory, the change is re-encrypted, the temporary file is gone")
    func editChanges() throws {
        let dir = try Scratch()
        let sealed = try sealedFile(dir)
        try FileManager.default.createDirectory(atPath: dir.path + "/tmp", withIntermediateDirectories: true)
        let log = dir.path + "/editor.log"
        let editor = try dir.script(
            "editor.sh",
            """
            echo "$1" > '\(log)'
            stat -c %a "$1" >> '\(log)'
            stat -c %a "$(dirname "$1")" >> '\(log)'
            echo 'added: line' >> "$1"
            """)
        let run = try QuorumBinary.run(
            ["vault", "edit", "vars.yml"], in: dir.path,
            environment: Self.env.merging(["EDITOR": editor, "TMPDIR": dir.path + "/tmp"]) { $1 })
        #expect(run.status == 0, "\(run.stderr)")
        let seen = try #require(dir.read("editor.log")).split(separator: "\n").map(String.init)
        #expect(seen.count == 3)
        #expect(seen[0].hasPrefix(dir.path + "/tmp/quorum-vault-") && seen[0].hasSuffix("/vars.yml"))
        #expect(seen[1] == "600")
        #expect(seen[2] == "700")
        #expect(!FileManager.default.fileExists(atPath: seen[0]))
        #expect(FileManager.default.subpaths(atPath: dir.path + "/tmp") == [])
        let now = try #require(dir.read("vars.yml"))
        #expect(now.hasPrefix(Self.header) && now != sealed)
        let view = try QuorumBinary.run(["vault", "view", "vars.yml"], in: dir.path, environment: Self.env, plaintextStdout: true)
        #expect(view.stdout == Self.plaintext + "added: line\n")
    }

    @Test("edit: an editor that fails, or changes nothing, leaves the vault file as it was and no temporary file")
    func editFailsOrNoChange() throws {
        let dir = try Scratch()
        let sealed = try sealedFile(dir)
        try FileManager.default.createDirectory(atPath: dir.path + "/tmp", withIntermediateDirectories: true)
        let log = dir.path + "/editor.log"
        let failing = try dir.script("failing.sh", "echo \"$1\" > '\(log)'\necho 'half: done' >> \"$1\"\nexit 3\n")
        let run = try QuorumBinary.run(
            ["vault", "edit", "vars.yml"], in: dir.path,
            environment: Self.env.merging(["EDITOR": failing, "TMPDIR": dir.path + "/tmp"]) { $1 })
        #expect(run.status == 1)
        #expect(run.stderr.contains("exited with status 3"))
        #expect(dir.read("vars.yml") == sealed)
        let path = try #require(dir.read("editor.log")).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!path.isEmpty && !FileManager.default.fileExists(atPath: path))
        #expect(FileManager.default.subpaths(atPath: dir.path + "/tmp") == [])

        let unchanged = try QuorumBinary.run(
            ["vault", "edit", "vars.yml"], in: dir.path,
            environment: Self.env.merging(["EDITOR": "true", "TMPDIR": dir.path + "/tmp"]) { $1 })
        #expect(unchanged.status == 0 && unchanged.stderr.contains("unchanged"))
        #expect(dir.read("vars.yml") == sealed)
        #expect(FileManager.default.subpaths(atPath: dir.path + "/tmp") == [])
    }

    @Test("no passphrase and no terminal to ask on: a clear error")
    func noPassphrase() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") else { return }
        let dir = try Scratch()
        _ = try sealedFile(dir)
        let run = try QuorumBinary.run(["vault", "view", "vars.yml"], in: dir.path, setsid: true)
        #expect(run.status == 1)
        #expect(run.stderr.contains("no terminal to ask for the vault passphrase"))
        let file = try QuorumBinary.run(["vault", "view", "vars.yml", "--vault-password-file", "missing"], in: dir.path)
        #expect(file.status == 1 && file.stderr.contains("cannot read the vault password file missing"))
    }
}

/// `inventory`, `validate` and `apply` with vault files in `group_vars/` and `vars_files`.
@Suite("Vault files through apply, validate and inventory")
struct VaultRunTests {
    static let env = ["QUORUM_VAULT_PASSWORD": "Run-Passphrase-7"]

    /// An inventory whose one host listens nowhere (127.0.0.1:1), a vault `group_vars/all.yml` holding values
    /// under names that are not secret by themselves, and a playbook with a vault `vars_files`.
    func project() throws -> Scratch {
        let dir = try Scratch()
        try dir.write("hosts.yml", "all:\n  hosts:\n    ctl1: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root}\n")
        try dir.write("group_vars/all.yml", "admin_login: \"Zebra-Quokka-93/x+y\"\nrabbit_url: \"amqp://u:Host-Secret-88!@mq:5672/\"\nregion: RegionOne\n")
        try dir.write("secrets.yml", "greeting: \"Vars-File-Secret-9?\"\n")
        try dir.write(
            "site.yml",
            """
            - hosts: all
              vars_files: [secrets.yml]
              steps:
                - name: "show {{ admin_login }}"
                  command: "echo {{ admin_login }} {{ greeting }} {{ rabbit_url }}"
            """)
        for file in ["group_vars/all.yml", "secrets.yml"] {
            let run = try QuorumBinary.run(["vault", "encrypt", file], in: dir.path, environment: Self.env)
            #expect(run.status == 0, "\(run.stderr)")
        }
        return dir
    }

    @Test("quorum inventory decrypts group_vars and masks every value from the vault")
    func inventory() throws {
        let dir = try project()
        let run = try QuorumBinary.run(["inventory", "-i", "hosts.yml"], in: dir.path, environment: Self.env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("admin_login: ********"))
        #expect(run.stdout.contains("rabbit_url: ********"))
        #expect(run.stdout.contains("region: ********"))
        #expect(run.stdout.contains("ansible_host: 127.0.0.1"))

        let wrong = try QuorumBinary.run(["inventory", "-i", "hosts.yml"], in: dir.path, environment: ["QUORUM_VAULT_PASSWORD": "nope"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("group_vars/all.yml:1:1: error: cannot decrypt group_vars/all.yml: wrong passphrase or the file was modified"))
        let none = try QuorumBinary.run(["inventory", "-i", "hosts.yml"], in: dir.path)
        #expect(none.status == 1)
        #expect(none.stderr.contains("group_vars/all.yml is a vault file and no vault passphrase was given"))
    }

    @Test("validate and apply: the right passphrase loads, a wrong one stops before any host (exit 1)")
    func validateAndApply() throws {
        let dir = try project()
        try dir.write("pw", "Run-Passphrase-7\n")
        let validate = try QuorumBinary.run(["validate", "site.yml", "-i", "hosts.yml", "--vault-password-file", "pw"], in: dir.path)
        #expect(validate.status == 0, "\(validate.stderr)")

        for arguments in [["validate", "site.yml", "-i", "hosts.yml"], ["apply", "site.yml", "-i", "hosts.yml", "--json", "report.json"]] {
            let wrong = try QuorumBinary.run(arguments, in: dir.path, environment: ["QUORUM_VAULT_PASSWORD": "nope"])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("cannot decrypt group_vars/all.yml: wrong passphrase or the file was modified"))
            #expect(wrong.stderr.contains("no host was contacted"))
            #expect(wrong.stdout.isEmpty)
            #expect(dir.read("report.json") == nil)
        }

        let apply = try QuorumBinary.run(
            [
                "apply", "site.yml", "-i", "hosts.yml", "--json", "report.json", "--diff", "-v",
                "--connect-timeout", "2"
            ], in: dir.path, environment: Self.env)
        #expect(apply.status == 3, "\(apply.stdout)\(apply.stderr)")
        let report = try #require(dir.read("report.json"))
        Leaks.expectNone(in: report)
        #expect(report.contains("ctl1"))
    }
}

extension VaultRunTests {
    @Test("quorum inventory --playbook masks the variables its plays list under secrets:; a bad list is an error")
    func inventoryWithDeclaredSecrets() throws {
        let dir = try Scratch()
        try dir.write("hosts.yml", "all:\n  vars: {rabbit_user: Declared-User-41, region: RegionOne}\n  hosts: {ctl1: {}}\n")
        try dir.write("site.yml", "- hosts: all\n  secrets: [rabbit_user]\n  steps: []\n")
        let plain = try QuorumBinary.run(["inventory", "-i", "hosts.yml"], in: dir.path)
        #expect(plain.stdout.contains("rabbit_user: Declared-User-41"), "\(plain.stdout)")
        let masked = try QuorumBinary.run(["inventory", "-i", "hosts.yml", "--playbook", "site.yml"], in: dir.path)
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(masked.stdout.contains("rabbit_user: ********") && masked.stdout.contains("region: RegionOne"), "\(masked.stdout)")
        for form in Leaks.forms(of: "Declared-User-41") { #expect(!(masked.stdout + masked.stderr).contains(form)) }

        try dir.write("bad.yml", "- hosts: all\n  secrets: {rabbit_user: x}\n  steps: []\n")
        let bad = try QuorumBinary.run(["inventory", "-i", "hosts.yml", "--playbook", "bad.yml"], in: dir.path)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.yml:2:12: error: `secrets` must be a list of variable names"), "\(bad.stderr)")
        #expect(bad.stdout.isEmpty)
    }
}

extension VaultRunTests {
    @Test("command-line errors exit 1 with argument-parser's message and usage; --help exits 0")
    func commandLineErrorsExitOne() throws {
        let dir = try Scratch()
        for arguments in [["apply", "--no-such-option"], ["audit"], ["audit", "site.yml", "--format", "xml"], ["no-such-command"]] {
            let run = try QuorumBinary.run(arguments, in: dir.path)
            #expect(run.status == 1, "quorum \(arguments): exit \(run.status)\n\(run.stderr)")
            #expect(run.stderr.contains("Error: ") && run.stderr.contains("Usage: "), "quorum \(arguments):\n\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        let help = try QuorumBinary.run(["audit", "--help"], in: dir.path)
        #expect(help.status == 0 && help.stdout.contains("USAGE: quorum audit"), "\(help.stdout)\n\(help.stderr)")
    }
}
