import ArgumentParser
import Foundation
import QuorumCore
import QuorumVault

/// `quorum vault view FILE`: print a vault file's plaintext on stdout.
struct VaultViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view", abstract: "Print a vault file's plaintext on stdout (Quorum's format, or an Ansible Vault file).")

    @Argument(help: "The vault file to show.")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        if let bytes = FileSystem.read(file), AnsibleVaultFormat.isVault(bytes: bytes) {
            FileHandle.standardOutput.write(Data(try VaultCLI.decryptAnsible(file, vault: vault)))
            return
        }
        let text = try VaultCLI.readVault(file)
        let plaintext = try VaultCLI.decrypt(text, path: file, passphrase: try vault.requiredPassphrase(confirm: false))
        FileHandle.standardOutput.write(Data(plaintext))
    }
}
