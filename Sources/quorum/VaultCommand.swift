import ArgumentParser

/// `quorum vault …`: variable files encrypted at rest (scrypt + AES-256-GCM; see `VaultFormat`).
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Create, encrypt, decrypt, view, edit and rekey vault files (YAML variables encrypted at rest).",
        discussion: """
        The passphrase comes from --vault-password-file FILE, else --ask-vault-password, else the environment \
        variable QUORUM_VAULT_PASSWORD, else a prompt on the terminal (no echo; twice for a new passphrase).
        """,
        subcommands: [VaultCreateCommand.self, VaultEncryptCommand.self, VaultDecryptCommand.self,
                      VaultViewCommand.self, VaultEditCommand.self, VaultRekeyCommand.self]
    )
}
