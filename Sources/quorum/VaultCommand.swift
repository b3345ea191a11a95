import ArgumentParser

/// `quorum vault …`: variable files encrypted at rest (scrypt + AES-256-GCM; see `VaultFormat`); Ansible Vault
/// files are read (`view`) and converted (`rekey --from-ansible`), never written.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Create, encrypt, decrypt, view, edit and rekey vault files (YAML variables encrypted at rest); fill secrets files.",
        discussion: """
            The passphrase comes from --vault-password-file FILE, else --ask-vault-password, else the environment \
            variable QUORUM_VAULT_PASSWORD, else the first --vault-id, else a prompt on the terminal (no echo; twice \
            for a new passphrase). A password file that is executable is run and the first line of its output used. \
            Ansible Vault files are read by `view` and converted by `rekey --from-ansible`, with every password given.
            """,
        subcommands: [
            VaultCreateCommand.self, VaultEncryptCommand.self, VaultDecryptCommand.self,
            VaultViewCommand.self, VaultEditCommand.self, VaultRekeyCommand.self, VaultGenpwdCommand.self
        ]
    )
}
