import ArgumentParser
import Foundation

/// `quorum vault edit FILE`: decrypt into a private temporary file, run `$EDITOR`, re-encrypt when changed.
struct VaultEditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit a vault file in $EDITOR (default vi) through a 0600 temporary file that is always removed.")

    @Argument(help: "The vault file to edit.")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let text = try VaultCLI.readVault(file)
        let passphrase = try vault.requiredPassphrase(confirm: false)
        let plaintext = try VaultCLI.decrypt(text, path: file, passphrase: passphrase)
        let edited = try EditorSession.edit(plaintext, fileName: (file as NSString).lastPathComponent)
        guard edited != plaintext else {
            VaultCLI.say("\(file) unchanged")
            return
        }
        try VaultCLI.writeAtomically(try VaultCLI.encrypt(edited, passphrase: passphrase), to: file)
        VaultCLI.say("saved \(file)")
    }
}
