import Crypto
import Foundation
import _CryptoExtras

/// Ansible Vault's format, read only (Quorum writes its own format, `VaultFormat`):
///
///     $ANSIBLE_VAULT;1.1;AES256            or   $ANSIBLE_VAULT;1.2;AES256;<vault id>
///     <hex of: hex(salt) "\n" hex(hmac) "\n" hex(ciphertext)>, in lines of 80 characters
///
/// PBKDF2-HMAC-SHA256 (10 000 rounds) turns password and salt into 80 bytes: the AES-256 key, the
/// HMAC-SHA256 key and the 16-byte initial counter block of AES-256-CTR. The HMAC covers the ciphertext and
/// is checked (in constant time) before anything is decrypted; the plaintext carries PKCS#7 padding.
/// An inline `!vault |` value in YAML holds the same text.
public enum AnsibleVaultFormat {
    public static let magic = "$ANSIBLE_VAULT;"
    static let rounds = 10_000
    static let keySize = 32
    static let counterSize = 16

    /// The header of an Ansible vault text: format version and, for 1.2, the vault id it was written for.
    public struct Header: Sendable, Equatable {
        public var version: String
        public var label: String?

        public init(version: String, label: String?) {
            self.version = version
            self.label = label
        }
    }

    struct Parsed {
        var header: Header
        var salt: [UInt8]
        var hmac: [UInt8]
        var ciphertext: [UInt8]
    }

    /// True when `text` (or the start of a file) is an Ansible vault.
    public static func isVault(_ text: some StringProtocol) -> Bool {
        text.drop { $0 == " " || $0 == "\t" || $0.isNewline }.hasPrefix(magic)
    }
    public static func isVault(bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: Array(magic.utf8)) }

    /// The header of `text`, without decrypting anything.
    public static func header(of text: String) throws(VaultError) -> Header { try parse(text).header }

    static func parse(_ text: String) throws(VaultError) -> Parsed {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first, first.hasPrefix(magic) else { throw .notAVault }
        let fields = first.dropFirst(magic.count).split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let header: Header
        switch (fields.first ?? "", fields.count) {
        case ("1.1", 2): header = Header(version: "1.1", label: nil)
        case ("1.2", 3) where !fields[2].isEmpty: header = Header(version: "1.2", label: fields[2])
        case ("1.1", _), ("1.2", _): throw .unsupported("Ansible Vault header `\(first)`")
        default: throw .unsupported("Ansible Vault version \(fields.first ?? "") (Quorum reads 1.1 and 1.2)")
        }
        guard fields[1] == "AES256" else { throw .unsupported("Ansible Vault cipher `\(fields[1])` (Quorum reads AES256)") }
        guard let envelope = hexDecode(lines.dropFirst().joined()) else { throw .malformed("the body is not hexadecimal") }
        let parts = envelope.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard parts.count == 3, let salt = hexDecode(parts[0]), let hmac = hexDecode(parts[1]), let ciphertext = hexDecode(parts[2]),
            !salt.isEmpty, hmac.count == SHA256.byteCount, !ciphertext.isEmpty, ciphertext.count % 16 == 0
        else {
            throw .malformed("the body is not salt, HMAC and ciphertext")
        }
        return Parsed(header: header, salt: salt, hmac: hmac, ciphertext: ciphertext)
    }

    /// Decrypts an Ansible vault text (a whole file, or the content of an inline `!vault` value).
    public static func decrypt(_ text: String, password: VaultPassphrase) throws(VaultError) -> [UInt8] {
        guard !password.isEmpty else { throw .noPassphrase }
        let parsed = try parse(text)
        guard let plaintext = try open(parsed, keys: deriveKeys(password, salt: parsed.salt)) else { throw .wrongPassphraseOrModified }
        return plaintext
    }

    /// The 80 bytes PBKDF2 derives: AES key ‖ HMAC key ‖ initial counter block.
    static func deriveKeys(_ password: VaultPassphrase, salt: [UInt8]) throws(VaultError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password.bytes, salt: salt, using: .sha256,
                outputByteCount: 2 * keySize + counterSize, unsafeUncheckedRounds: rounds)
            return key.withUnsafeBytes { [UInt8]($0) }
        } catch {
            throw .unsupported("PBKDF2 failed (\(error))")
        }
    }

    /// The plaintext, or nil when the HMAC does not match (wrong password, or a changed byte).
    static func open(_ parsed: Parsed, keys: [UInt8]) throws(VaultError) -> [UInt8]? {
        let aesKey = SymmetricKey(data: keys[0..<keySize])
        let hmacKey = SymmetricKey(data: keys[keySize..<(2 * keySize)])
        // `isValidAuthenticationCode` compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(parsed.hmac, authenticating: parsed.ciphertext, using: hmacKey) else { return nil }
        let padded: [UInt8]
        do {
            let counter = try AES._CTR.Nonce(nonceBytes: keys[(2 * keySize)...])
            padded = [UInt8](try AES._CTR.decrypt(parsed.ciphertext, using: aesKey, nonce: counter))
        } catch {
            throw .malformed("decryption failed (\(error))")
        }
        guard let pad = padded.last, (1...16).contains(pad), padded.count >= Int(pad),
            padded.suffix(Int(pad)).allSatisfy({ $0 == pad })
        else {
            throw .malformed("bad padding")
        }
        return Array(padded.dropLast(Int(pad)))
    }

    static func hexDecode(_ text: some StringProtocol) -> [UInt8]? { hexDecode(Array(text.utf8)) }

    static func hexDecode(_ digits: some Collection<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for c in digits {
            guard let n = nibble(c) else { return nil }
            if let h = high {
                bytes.append(h << 4 | n)
                high = nil
            } else {
                high = n
            }
        }
        return bytes
    }
}
