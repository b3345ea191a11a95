import ArgumentParser
import QuorumVault

/// `quorum vault rekey FILE`: encrypt a vault file under a new passphrase; with `--from-ansible`, convert an
/// Ansible Vault file into Quorum's format.
struct VaultRekeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey", abstract: "Change a vault file's passphrase (new salt and nonce), or convert an Ansible Vault file (--from-ansible).",
        discussion: """
            With --from-ansible, FILE is an Ansible Vault file (1.1, or 1.2 with a vault id), opened with the passwords \
            of --vault-id, --vault-password-file, --ask-vault-password or QUORUM_VAULT_PASSWORD; it is replaced, \
            atomically and with mode 0600, by a Quorum vault file under the new passphrase.
            """)

    @Argument(help: "The vault file to rekey.")
    var file: String

    @OptionGroup var vault: VaultOptions

    @Option(
        name: .customLong("new-vault-password-file"),
        help: "Read the new passphrase from this file (else it is asked twice on the terminal).")
    var newVaultPasswordFile: String?

    @Flag(name: .customLong("from-ansible"), help: "FILE is an Ansible Vault file: convert it into Quorum's format.")
    var fromAnsible = false

    func run() async throws {
        let plaintext: [UInt8]
        if fromAnsible {
            plaintext = try VaultCLI.decryptAnsible(file, vault: vault)
        } else {
            let text = try VaultCLI.readVault(file)
            plaintext = try VaultCLI.decrypt(text, path: file, passphrase: try vault.requiredPassphrase(confirm: false))
        }
        let newPassphrase =
            try newVaultPasswordFile.map { try VaultOptions.passphrase(fromFile: $0) }
            ?? Passphrase.prompt("New vault passphrase: ", confirm: true)
        try VaultCLI.writeAtomically(
            try VaultCLI.encrypt(plaintext, passphrase: newPassphrase), to: file,
            mode: fromAnsible ? 0o600 : nil)
        VaultCLI.say(fromAnsible ? "converted \(file) from Ansible Vault to a Quorum vault file" : "rekeyed \(file)")
    }
}
