import ArgumentParser
import QuorumVault

/// `quorum vault encrypt FILE`: encrypt a plaintext file in place.
struct VaultEncryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt", abstract: "Encrypt a file in place (atomically).")

    @Argument(help: "The plaintext file to encrypt.")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let plaintext = try VaultCLI.readBytes(file)
        guard !VaultFormat.isVault(bytes: plaintext) else { throw VaultCLI.failure("\(file) is already a vault file") }
        if AnsibleVaultFormat.isVault(bytes: plaintext) {
            throw VaultCLI.failure("\(file) is an Ansible Vault file: convert it with `quorum vault rekey --from-ansible \(file)`")
        }
        let passphrase = try vault.requiredPassphrase(confirm: true)
        try VaultCLI.writeAtomically(try VaultCLI.encrypt(plaintext, passphrase: passphrase), to: file)
        VaultCLI.say("encrypted \(file)")
    }
}
