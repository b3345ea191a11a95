import Crypto
import Foundation
import Synchronization

/// A vault password with the label it was given under (`--vault-id LABEL@SOURCE`; `default` otherwise).
public struct VaultIdentity: Sendable {
    public var label: String
    public var passphrase: VaultPassphrase

    public static let defaultLabel = "default"

    public init(label: String, passphrase: VaultPassphrase) {
        self.label = label
        self.passphrase = passphrase
    }
}

/// The passwords of a run (or none), and the keys derived from them so far. A run may read the same vault
/// file more than once (a `vars_files` entry of several plays); the keyring derives each file's key once:
/// scrypt is slow on purpose.
///
/// Quorum's own vault files are opened with the passphrase, then with each vault id's password. Ansible
/// vaults (whole files and inline `!vault` values) are opened with the vault id a 1.2 header names first,
/// then every other password given. The keyring remembers the plaintext of every inline value it opened
/// (`revealedSecrets`): they are secrets, to be masked wherever they show.
public final class VaultKeyring: Sendable {
    private let passphrase: VaultPassphrase?
    private let identities: [VaultIdentity]
    private let keys = Mutex<[CacheKey: [UInt8]]>([:])
    private let revealed = Mutex<Set<String>>([])

    private struct CacheKey: Hashable {
        var salt: [UInt8]
        var parameters: ScryptParameters?
        /// Which password: -1 for the passphrase, else an index into `identities`.
        var candidate: Int
    }

    /// `passphrase` nil means none was given: reading a vault file then fails with `.noPassphrase`.
    public convenience init(passphrase: VaultPassphrase?) {
        self.init(passphrase: passphrase, identities: [])
    }

    /// `passphrase` (from `--vault-password-file`, the prompt or the environment) counts as the vault id
    /// `default` for Ansible vaults; `identities` come from `--vault-id`.
    public init(passphrase: VaultPassphrase?, identities: [VaultIdentity]) {
        self.passphrase = passphrase.flatMap { $0.isEmpty ? nil : $0 }
        self.identities = identities.filter { !$0.passphrase.isEmpty }
    }

    public var hasPassphrase: Bool { passphrase != nil || !identities.isEmpty }

    /// A password to try: its index for the key cache (-1 for the passphrase), its label, the password.
    private struct Candidate {
        var index: Int
        var label: String
        var passphrase: VaultPassphrase
    }

    /// The passwords to try, the passphrase (as `default`) first.
    private var candidates: [Candidate] {
        (passphrase.map { [Candidate(index: -1, label: VaultIdentity.defaultLabel, passphrase: $0)] } ?? [])
            + identities.enumerated().map { Candidate(index: $0.offset, label: $0.element.label, passphrase: $0.element.passphrase) }
    }

    /// The plaintext of a vault file's text: Quorum's format, or Ansible's.
    public func decrypt(_ text: String) throws(VaultError) -> [UInt8] {
        if AnsibleVaultFormat.isVault(text) { return try decryptAnsible(text) }
        let parsed = try VaultFormat.parse(text)
        guard hasPassphrase else { throw .noPassphrase }
        for candidate in candidates {
            let cacheKey = CacheKey(salt: parsed.salt, parameters: parsed.parameters, candidate: candidate.index)
            let key: SymmetricKey
            if let known = keys.withLock({ $0[cacheKey] }) {
                key = SymmetricKey(data: known)
            } else {
                key = try VaultFormat.deriveKey(candidate.passphrase, salt: parsed.salt, parsed.parameters)
            }
            guard let plaintext = try? VaultFormat.open(parsed, key: key) else { continue }
            keys.withLock { $0[cacheKey] = key.withUnsafeBytes { [UInt8]($0) } }
            return plaintext
        }
        throw .wrongPassphraseOrModified
    }

    /// The plaintext of an Ansible vault text (`$ANSIBLE_VAULT;1.1;AES256` or `1.2` with a vault id).
    public func decryptAnsible(_ text: String) throws(VaultError) -> [UInt8] {
        let parsed = try AnsibleVaultFormat.parse(text)
        guard hasPassphrase else { throw .noPassphrase }
        let all = candidates
        let ordered = all.filter { $0.label == parsed.header.label } + all.filter { $0.label != parsed.header.label }
        for candidate in ordered {
            let cacheKey = CacheKey(salt: parsed.salt, parameters: nil, candidate: candidate.index)
            let keyBytes: [UInt8]
            if let known = keys.withLock({ $0[cacheKey] }) {
                keyBytes = known
            } else {
                keyBytes = try AnsibleVaultFormat.deriveKeys(candidate.passphrase, salt: parsed.salt)
                keys.withLock { $0[cacheKey] = keyBytes }
            }
            if let plaintext = try AnsibleVaultFormat.open(parsed, keys: keyBytes) { return plaintext }
        }
        throw .noMatchingPassword(tried: ordered.map(\.label))
    }

    /// The plaintext of an inline `!vault` value, as text; remembered as a secret.
    public func revealInline(_ text: String) throws(VaultError) -> String {
        let plaintext = String(decoding: try decryptAnsible(text), as: UTF8.self)
        revealed.withLock { _ = $0.insert(plaintext) }
        return plaintext
    }

    /// Every inline value this keyring has decrypted so far.
    public var revealedSecrets: [String] { revealed.withLock { $0.sorted() } }

    /// `plaintext` encrypted under the keyring's passphrase (fresh salt and nonce).
    public func encrypt(_ plaintext: some DataProtocol, parameters: ScryptParameters = .standard) throws(VaultError) -> String {
        guard let passphrase else { throw .noPassphrase }
        return try VaultFormat.encrypt(plaintext, passphrase: passphrase, parameters: parameters)
    }
}
