import ArgumentParser
import QuorumVault

/// `quorum vault rekey FILE`: encrypt a vault file under a new passphrase.
struct VaultRekeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey", abstract: "Change a vault file's passphrase (new salt and nonce).")

    @Argument(help: "The vault file to rekey.")
    var file: String

    @OptionGroup var vault: VaultOptions

    @Option(name: .customLong("new-vault-password-file"),
            help: "Read the new passphrase from this file (else it is asked twice on the terminal).")
    var newVaultPasswordFile: String?

    func run() async throws {
        let text = try VaultCLI.readVault(file)
        let plaintext = try VaultCLI.decrypt(text, path: file, passphrase: try vault.requiredPassphrase(confirm: false))
        let newPassphrase = try newVaultPasswordFile.map(VaultOptions.passphrase(fromFile:))
            ?? Passphrase.prompt("New vault passphrase: ", confirm: true)
        try VaultCLI.writeAtomically(try VaultCLI.encrypt(plaintext, passphrase: newPassphrase), to: file)
        VaultCLI.say("rekeyed \(file)")
    }
}
