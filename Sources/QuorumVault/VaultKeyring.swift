import Crypto
import Foundation
import Synchronization

/// The passphrase of a run (or none), and the keys derived from it so far. A run reads the same vault
/// file more than once (static checks, then each play's `vars_files`); the keyring derives each file's
/// key once: scrypt is slow on purpose.
public final class VaultKeyring: Sendable {
    private let passphrase: VaultPassphrase?
    private let keys = Mutex<[CacheKey: [UInt8]]>([:])

    private struct CacheKey: Hashable {
        var salt: [UInt8]
        var parameters: ScryptParameters
    }

    /// `passphrase` nil means none was given: reading a vault file then fails with `.noPassphrase`.
    public init(passphrase: VaultPassphrase?) {
        self.passphrase = passphrase
    }

    public var hasPassphrase: Bool { passphrase.map { !$0.isEmpty } ?? false }

    /// The plaintext of a vault file's text.
    public func decrypt(_ text: String) throws(VaultError) -> [UInt8] {
        guard let passphrase, !passphrase.isEmpty else {
            // Still tell a file that is not a vault at all from one we cannot open.
            _ = try VaultFormat.parse(text)
            throw .noPassphrase
        }
        let parsed = try VaultFormat.parse(text)
        let cacheKey = CacheKey(salt: parsed.salt, parameters: parsed.parameters)
        let key: SymmetricKey
        if let known = keys.withLock({ $0[cacheKey] }) {
            key = SymmetricKey(data: known)
        } else {
            key = try VaultFormat.deriveKey(passphrase, salt: parsed.salt, parsed.parameters)
            let bytes = key.withUnsafeBytes { [UInt8]($0) }
            keys.withLock { $0[cacheKey] = bytes }
        }
        return try VaultFormat.open(parsed, key: key)
    }

    /// `plaintext` encrypted under the keyring's passphrase (fresh salt and nonce).
    public func encrypt(_ plaintext: some DataProtocol, parameters: ScryptParameters = .standard) throws(VaultError) -> String {
        guard let passphrase else { throw .noPassphrase }
        return try VaultFormat.encrypt(plaintext, passphrase: passphrase, parameters: parameters)
    }
}
