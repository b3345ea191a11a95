import ArgumentParser
import Foundation
import QuorumCore

/// `quorum vault create FILE`: write a new vault file from what the operator types in `$EDITOR`.
struct VaultCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a new vault file, editing its content in $EDITOR.")

    @Argument(help: "The vault file to create (it must not exist).")
    var file: String

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        guard !FileSystem.exists(file) else { throw VaultCLI.failure("\(file) exists; use `quorum vault edit` to change it") }
        let passphrase = try vault.requiredPassphrase(confirm: true)
        let content = try EditorSession.edit([], fileName: (file as NSString).lastPathComponent)
        guard content.contains(where: { !$0.isASCIIWhitespace }) else { throw VaultCLI.failure("\(file) would be empty; nothing written") }
        let encrypted = try VaultCLI.encrypt(content, passphrase: passphrase)
        guard !FileSystem.exists(file) else { throw VaultCLI.failure("\(file) appeared while editing; nothing written") }
        try VaultCLI.writeAtomically(encrypted, to: file)
        VaultCLI.say("created \(file)")
    }
}

extension UInt8 {
    var isASCIIWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
