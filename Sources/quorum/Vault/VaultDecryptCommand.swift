import ArgumentParser

/// `quorum vault decrypt FILE`: replace a vault file by its plaintext.
struct VaultDecryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt", abstract: "Decrypt a vault file in place (atomically, keeping its mode).")

    @Argument(help: "The vault file to decrypt.")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let text = try VaultCLI.readVault(file)
        let plaintext = try VaultCLI.decrypt(text, path: file, passphrase: try vault.requiredPassphrase(confirm: false))
        try VaultCLI.writeAtomically(plaintext, to: file)
        VaultCLI.say("decrypted \(file)")
    }
}
