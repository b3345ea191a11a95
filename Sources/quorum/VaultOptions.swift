import ArgumentParser
import Foundation
import QuorumCore
import QuorumVault

/// Where the vault passphrase comes from, shared by `apply`, `validate`, `inventory` and `quorum vault …`:
/// `--vault-password-file F`, else `--ask-vault-password` (a prompt on the terminal, no echo), else the
/// environment variable `QUORUM_VAULT_PASSWORD`.
struct VaultOptions: ParsableArguments {
    static let environmentVariable = "QUORUM_VAULT_PASSWORD"

    @Option(name: .customLong("vault-password-file"),
            help: "Read the vault passphrase from this file (trailing newlines are ignored).")
    var vaultPasswordFile: String?

    @Flag(name: .customLong("ask-vault-password"), help: "Prompt for the vault passphrase on the terminal.")
    var askVaultPassword = false

    /// The passphrase from the file, the prompt or the environment; nil when none of them gives one.
    func givenPassphrase(confirm: Bool = false) throws -> VaultPassphrase? {
        if let vaultPasswordFile { return try Self.passphrase(fromFile: vaultPasswordFile) }
        if askVaultPassword { return try Passphrase.prompt("Vault passphrase: ", confirm: confirm) }
        if let value = ProcessInfo.processInfo.environment[Self.environmentVariable], !value.isEmpty {
            return VaultPassphrase(value)
        }
        return nil
    }

    /// For `apply`, `validate` and `inventory`: a keyring, with no passphrase when none was given (a vault
    /// file then gives a diagnostic naming it).
    func keyring() throws -> VaultKeyring {
        VaultKeyring(passphrase: try givenPassphrase())
    }

    /// For `quorum vault …`: a passphrase is needed, so when none was given, ask on the terminal.
    func requiredPassphrase(confirm: Bool) throws -> VaultPassphrase {
        if let given = try givenPassphrase(confirm: confirm) { return given }
        return try Passphrase.prompt("Vault passphrase: ", confirm: confirm)
    }

    static func passphrase(fromFile path: String) throws -> VaultPassphrase {
        guard !FileSystem.isDirectory(path), var bytes = FileSystem.read(path) else {
            throw VaultCLI.failure("cannot read the vault password file \(path)")
        }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw VaultCLI.failure("the vault password file \(path) is empty") }
        return VaultPassphrase(bytes: bytes)
    }
}
