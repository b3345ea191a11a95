import ArgumentParser
import Foundation

/// `quorum vault view FILE`: print a vault file's plaintext on stdout.
struct VaultViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view", abstract: "Print a vault file's plaintext on stdout.")

    @Argument(help: "The vault file to show.")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let text = try VaultCLI.readVault(file)
        let plaintext = try VaultCLI.decrypt(text, path: file, passphrase: try vault.requiredPassphrase(confirm: false))
        FileHandle.standardOutput.write(Data(plaintext))
    }
}
