import Foundation
import QuorumTesting
import Testing

/// Ansible Vault files, `--vault-id`, password scripts and `rekey --from-ansible` through the built binary.
@Suite("Ansible Vault through the binary")
struct AnsibleVaultCommandTests {
    /// An inventory with inline `!vault` values (default id and `prod`), an Ansible 1.1 `group_vars/all.yml`,
    /// an Ansible 1.2 (`prod`) `host_vars/ctl1.yml`, the two password files and a playbook using them.
    func project() throws -> Scratch {
        let dir = try Scratch()
        try dir.write("hosts.yml", try AnsibleFixtures.text("inline-inventory.yml"))
        try dir.write("group_vars/all.yml", try AnsibleFixtures.text("vault-1.1.yml"))
        try dir.write("host_vars/ctl1.yml", try AnsibleFixtures.text("vault-1.2.yml"))
        try dir.write("pw-default", try AnsibleFixtures.text("password-default.txt"))
        try dir.write("pw-prod", try AnsibleFixtures.text("password-prod.txt"))
        try dir.write("extra.yml", try AnsibleFixtures.text("vault-1.2.yml"))
        try dir.write(
            "site.yml",
            """
            - hosts: all
              vars_files: [extra.yml]
              steps:
                - name: "uses {{ amqp_credential }}"
                  command: "echo {{ amqp_credential }} {{ db_credential }} {{ keystone_admin_credential }} {{ magnum_database_credential }}"
            """)
        return dir
    }

    static let ids = ["--vault-id", "default@pw-default", "--vault-id", "prod@pw-prod"]

    @Test("quorum inventory reads every Ansible vault form with two vault ids and masks every value from them")
    func inventory() throws {
        let dir = try project()
        let run = try QuorumBinary.run(["inventory", "-i", "hosts.yml"] + Self.ids, in: dir.path)
        #expect(run.status == 0, "\(run.stderr)")
        for name in ["amqp_credential", "db_credential", "keystone_admin_credential", "magnum_database_credential"] {
            #expect(run.stdout.contains("\(name): ********"), "\(name) not masked:\n\(run.stdout)")
        }
        #expect(run.stdout.contains("nested: {\"rabbit_login\": [\"********\", \"********\"]}"), "\(run.stdout)")
        #expect(run.stdout.contains("region: RegionOne"))
        AnsibleFixtures.expectNoSecret(in: run.stdout + run.stderr)

        // --vault-password-file counts as the default id; the prod password comes from --vault-id.
        let mixed = try QuorumBinary.run(
            ["inventory", "-i", "hosts.yml", "--vault-password-file", "pw-default", "--vault-id", "prod@pw-prod"],
            in: dir.path)
        #expect(mixed.status == 0, "\(mixed.stderr)")
        #expect(mixed.stdout == run.stdout)
    }

    @Test("a wrong password names the file (line:column for an inline value), exit 1, no host contacted")
    func wrongPassword() throws {
        let dir = try project()
        try dir.write("pw-wrong", "Not-The-Password\n")
        let inventory = try QuorumBinary.run(
            ["inventory", "-i", "hosts.yml", "--vault-id", "default@pw-default", "--vault-id", "prod@pw-wrong"],
            in: dir.path)
        #expect(inventory.status == 1)
        #expect(inventory.stdout.isEmpty)
        #expect(
            inventory.stderr.contains(
                "hosts.yml:11:20: error: cannot decrypt the inline `!vault` value in hosts.yml: wrong vault password or the file was modified (the HMAC does not match; tried vault ids prod, default)"
            ),
            "\(inventory.stderr)")
        // The inventory did not parse, so no host_vars were read; the group_vars file opened.
        #expect(!inventory.stderr.contains("group_vars/all.yml"))
        AnsibleFixtures.expectNoSecret(in: inventory.stderr)

        for command in ["validate", "apply"] {
            let run = try QuorumBinary.run(
                [command, "site.yml", "-i", "hosts.yml", "--vault-id", "default@pw-wrong", "--vault-id", "prod@pw-prod"],
                in: dir.path)
            #expect(run.status == 1, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("group_vars/all.yml:1:1: error: cannot decrypt group_vars/all.yml: wrong vault password"), "\(run.stderr)")
            #expect(run.stderr.contains("no host was contacted"))
            #expect(!run.stderr.contains("unreachable") && !run.stdout.contains("ctl1"), "\(command) went on:\n\(run.stdout)")
            AnsibleFixtures.expectNoSecret(in: run.stdout + run.stderr)
        }
    }

    @Test("an executable password file is run and the first line of its output used; a -client script gets its vault id")
    func passwordScripts() throws {
        let dir = try project()
        let script = try dir.script("default-pass.sh", "touch \"$(dirname \"$0\")/script-ran\"\nprintf 'Fixture-Default-Password-11\\nsecond line\\n'\n")
        let client = try dir.script("vault-client.sh", "[ \"$1 $2\" = '--vault-id prod' ] || exit 7\necho Fixture-Prod-Password-12\n")
        let run = try QuorumBinary.run(
            ["inventory", "-i", "hosts.yml", "--vault-password-file", script, "--vault-id", "prod@" + client],
            in: dir.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(dir.read("script-ran") != nil)
        #expect(run.stdout.contains("db_credential: ********"))
        AnsibleFixtures.expectNoSecret(in: run.stdout + run.stderr)

        let failing = try dir.script("failing.sh", "exit 3\n")
        let failed = try QuorumBinary.run(["inventory", "-i", "hosts.yml", "--vault-id", "default@" + failing], in: dir.path)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("the vault password script \(failing) failed (status 3)"), "\(failed.stderr)")
    }

    @Test("vault view reads an Ansible file; rekey --from-ansible converts it (0600) and the Quorum file round-trips")
    func rekeyFromAnsible() throws {
        let dir = try project()
        try dir.write("group_vars/all.yml", try AnsibleFixtures.text("vault-1.1.yml"), mode: 0o644)
        try dir.write("new-pw", "New-Quorum-Passphrase-5\n")
        let plain = try AnsibleFixtures.text("plain-1.1.yml")
        let view = try QuorumBinary.run(
            ["vault", "view", "group_vars/all.yml", "--vault-password-file", "pw-default"], in: dir.path,
            plaintextStdout: true)
        #expect(view.status == 0 && view.stdout == plain, "\(view.stderr)")

        let plainRekey = try QuorumBinary.run(
            [
                "vault", "rekey", "group_vars/all.yml", "--vault-password-file", "pw-default",
                "--new-vault-password-file", "new-pw"
            ], in: dir.path)
        #expect(plainRekey.status == 1 && plainRekey.stderr.contains("rekey --from-ansible"), "\(plainRekey.stderr)")

        let wrong = try QuorumBinary.run(
            [
                "vault", "rekey", "--from-ansible", "group_vars/all.yml", "--vault-id", "prod@pw-prod",
                "--new-vault-password-file", "new-pw"
            ], in: dir.path)
        #expect(wrong.status == 1)
        #expect(
            wrong.stderr
                == "error: cannot decrypt group_vars/all.yml: wrong vault password or the file was modified (the HMAC does not match; tried vault id prod)\n")
        #expect(dir.read("group_vars/all.yml") == (try AnsibleFixtures.text("vault-1.1.yml")))

        let convert = try QuorumBinary.run(
            [
                "vault", "rekey", "--from-ansible", "group_vars/all.yml", "--vault-id", "default@pw-default",
                "--new-vault-password-file", "new-pw"
            ], in: dir.path)
        #expect(convert.status == 0, "\(convert.stderr)")
        let converted = try #require(dir.read("group_vars/all.yml"))
        #expect(converted.hasPrefix("$QUORUM_VAULT;1;AES256-GCM;scrypt;"))
        #expect(dir.mode("group_vars/all.yml") == 0o600)
        AnsibleFixtures.expectNoSecret(in: converted)
        let back = try QuorumBinary.run(
            ["vault", "view", "group_vars/all.yml", "--vault-password-file", "new-pw"], in: dir.path,
            plaintextStdout: true)
        #expect(back.status == 0 && back.stdout == plain, "\(back.stderr)")
        // The project still loads, the converted file now with Quorum's passphrase.
        let inventory = try QuorumBinary.run(["inventory", "-i", "hosts.yml", "--vault-password-file", "new-pw"] + Self.ids, in: dir.path)
        #expect(inventory.status == 0, "\(inventory.stderr)")
        #expect(inventory.stdout.contains("keystone_admin_credential: ********"))
        #expect(!dir.listing().contains { $0.contains(".quorum-") })
    }

    @Test("validate passes and apply (to a host that is not there) prints and writes none of the values")
    func applyMasks() throws {
        let dir = try project()
        let validate = try QuorumBinary.run(["validate", "site.yml", "-i", "hosts.yml"] + Self.ids, in: dir.path)
        #expect(validate.status == 0, "\(validate.stderr)")
        let apply = try QuorumBinary.run(
            [
                "apply", "site.yml", "-i", "hosts.yml", "--json", "report.json", "--diff", "-v",
                "--connect-timeout", "2"
            ] + Self.ids, in: dir.path)
        #expect(apply.status == 3, "\(apply.stdout)\(apply.stderr)")
        let report = try #require(dir.read("report.json"))
        #expect(report.contains("ctl1"))
        AnsibleFixtures.expectNoSecret(in: apply.stdout + apply.stderr + report)
    }
}
