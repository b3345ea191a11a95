import OrderedCollections
import QuorumVault

/// Variable files that may be vault files (the inventory, `group_vars/`, `host_vars/`, a play's `vars_files`):
/// Quorum's or Ansible's, recognised by their header, decrypted with the run's keyring. Every value read from
/// a vault file is a secret; so is every inline `!vault` value (see `YAMLFile`).
public enum VaultFiles {
    /// What the command line tells an operator who gave no passphrase.
    public static let passphraseHint = "give --vault-password-file FILE, --vault-id LABEL@FILE, --ask-vault-password, or set QUORUM_VAULT_PASSWORD"

    /// The text of a variables file and whether it came out of a vault.
    public struct Contents: Sendable {
        public var text: String
        public var encrypted: Bool
    }

    /// The text of `path`, decrypted when it is a vault file. Errors name the file; none carries plaintext.
    public static func readText(_ path: String, vault: VaultKeyring?) throws(ConfigurationError) -> Contents {
        let start = SourceLocation(file: path, line: 1, column: 1)
        guard let bytes = FileSystem.read(path) else { throw ConfigurationError([.error("cannot read \(path)", at: start)]) }
        let ansible = AnsibleVaultFormat.isVault(bytes: bytes)
        guard ansible || VaultFormat.isVault(bytes: bytes) else { return Contents(text: String(decoding: bytes, as: UTF8.self), encrypted: false) }
        do {
            let keyring = vault ?? VaultKeyring(passphrase: nil)
            let plaintext = try keyring.decrypt(String(decoding: bytes, as: UTF8.self))
            return Contents(text: String(decoding: plaintext, as: UTF8.self), encrypted: true)
        } catch .noPassphrase {
            let kind = ansible ? "an Ansible Vault file" : "a vault file"
            throw ConfigurationError([.error("\(path) is \(kind) and no vault passphrase was given", at: start, hint: passphraseHint)])
        } catch {
            throw ConfigurationError([.error("cannot decrypt \(path): \(error)", at: start)])
        }
    }

    /// `path` parsed as YAML (line numbers are those of the decrypted text for a vault file); inline `!vault`
    /// values are decrypted with `vault` too.
    public static func load(_ path: String, vault: VaultKeyring?) throws(ConfigurationError) -> (root: SourceNode?, encrypted: Bool) {
        let contents = try readText(path, vault: vault)
        do {
            return (try YAMLFile.parse(contents.text, path: path, vault: vault), contents.encrypted)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError([.error("cannot parse \(path)", at: SourceLocation(file: path, line: 1, column: 1))])
        }
    }

    /// The text of every scalar in `value` (strings and numbers, through lists and maps): what a vault
    /// file's variable holds, to be registered with the redactor.
    public static func secretTexts(in value: Value) -> [String] {
        switch value {
        case .string(let s): [s]
        case .int(let i): [String(i)]
        case .double(let d): [String(d)]
        case .list(let items): items.flatMap(secretTexts(in:))
        case .map(let map): map.values.flatMap(secretTexts(in:))
        default: []
        }
    }
}
