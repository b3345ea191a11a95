import Crypto
import Foundation
import _CryptoExtras

/// A vault passphrase, as bytes (UTF-8 of what the operator typed, without the final newline).
public struct VaultPassphrase: Sendable {
    let bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var isEmpty: Bool { bytes.isEmpty }
}

/// Why a vault file could not be read. The messages never contain any plaintext.
public enum VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not start with the `$QUORUM_VAULT;` header.
    case notAVault
    /// A header this version does not know (another format version, cipher or KDF, or parameters out of bounds).
    case unsupported(String)
    /// The body is not base64, or too short to hold salt, nonce and tag.
    case malformed(String)
    /// Authentication failed: the passphrase is wrong, or the header or body was changed.
    case wrongPassphraseOrModified
    /// No passphrase was given, or the one given is empty.
    case noPassphrase
    /// An Ansible vault whose HMAC matches under none of the passwords given (their vault ids, in the
    /// order tried): a wrong password, or a changed byte.
    case noMatchingPassword(tried: [String])

    public var description: String {
        switch self {
        case .notAVault: "not a Quorum vault file (no `\(VaultFormat.magic)` header)"
        case .unsupported(let what): "unsupported vault format: \(what)"
        case .malformed(let what): "the file was modified or is damaged (\(what))"
        case .wrongPassphraseOrModified: "wrong passphrase or the file was modified"
        case .noPassphrase: "no vault passphrase was given"
        case .noMatchingPassword(let tried):
            "wrong vault password or the file was modified (the HMAC does not match; tried vault id\(tried.count == 1 ? "" : "s") \(tried.joined(separator: ", ")))"
        }
    }
}

/// The parameters of scrypt as written in a vault header.
public struct ScryptParameters: Sendable, Hashable {
    /// log2 of scrypt's N (cost).
    public var logN: Int
    public var r: Int
    public var p: Int

    /// What `encrypt` uses: N = 2^15 (32 MiB), r = 8, p = 1: about 0.15 s in a release build.
    public static let standard = ScryptParameters(logN: 15, r: 8, p: 1)
    /// What `decrypt` accepts: enough room for stronger settings, not enough for a header to ask for
    /// gigabytes of memory or minutes of work.
    public static let acceptedLogN = 15...20

    public init(logN: Int, r: Int, p: Int) {
        self.logN = logN
        self.r = r
        self.p = p
    }
}

/// The text format of a vault file:
///
///     $QUORUM_VAULT;1;AES256-GCM;scrypt;logN=15;r=8;p=1
///     <base64 of salt (16 bytes) ‖ nonce (12) ‖ ciphertext ‖ tag (16)>, in lines of 64 characters
///
/// The key is scrypt(passphrase, salt) → 32 bytes; the cipher is AES-256-GCM with the header line
/// (without its newline) as additional authenticated data, so changing any header field, the salt, the
/// nonce or a byte of the ciphertext makes decryption fail. Salt and nonce are random for every encryption.
public enum VaultFormat {
    public static let magic = "$QUORUM_VAULT;"
    public static let version = 1
    public static let cipherName = "AES256-GCM"
    public static let kdfName = "scrypt"
    static let saltSize = 16
    static let nonceSize = 12
    static let tagSize = 16
    static let keySize = 32
    static let lineLength = 64

    /// True when `text` (or the start of a file) is a Quorum vault file.
    public static func isVault(_ text: some StringProtocol) -> Bool { text.hasPrefix(magic) }
    public static func isVault(bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: Array(magic.utf8)) }

    public static func header(_ parameters: ScryptParameters) -> String {
        "\(magic)\(version);\(cipherName);\(kdfName);logN=\(parameters.logN);r=\(parameters.r);p=\(parameters.p)"
    }

    /// Encrypts `plaintext` under `passphrase` with a fresh salt and nonce.
    public static func encrypt(
        _ plaintext: some DataProtocol, passphrase: VaultPassphrase,
        parameters: ScryptParameters = .standard
    ) throws(VaultError) -> String {
        guard !passphrase.isEmpty else { throw .noPassphrase }
        var salt = [UInt8](repeating: 0, count: saltSize)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: .min ... .max, using: &generator) }
        let key = try deriveKey(passphrase, salt: salt, parameters)
        return try seal(plaintext, key: key, salt: salt, parameters: parameters)
    }

    /// Decrypts a vault file's text.
    public static func decrypt(_ text: String, passphrase: VaultPassphrase) throws(VaultError) -> [UInt8] {
        guard !passphrase.isEmpty else { throw .noPassphrase }
        let parsed = try parse(text)
        let key = try deriveKey(passphrase, salt: parsed.salt, parsed.parameters)
        return try open(parsed, key: key)
    }

    // MARK: - Parts, shared with `VaultKeyring` (which caches derived keys)

    struct Parsed {
        var header: String
        var parameters: ScryptParameters
        var salt: [UInt8]
        var nonce: [UInt8]
        var ciphertext: [UInt8]
        var tag: [UInt8]
    }

    static func parse(_ text: String) throws(VaultError) -> Parsed {
        guard isVault(text) else { throw .notAVault }
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        guard let headerLine = lines.first else { throw .notAVault }
        let header = String(headerLine)
        let fields = header.dropFirst(magic.count).split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard fields.first == String(version) else { throw .unsupported("version \(fields.first ?? "?") (this Quorum reads version \(version))") }
        guard fields.count == 6 else { throw .unsupported("header has \(fields.count + 1) fields, expected 7") }
        guard fields[1] == cipherName else { throw .unsupported("cipher `\(fields[1])`") }
        guard fields[2] == kdfName else { throw .unsupported("key derivation `\(fields[2])`") }
        func number(_ field: String, _ name: String) throws(VaultError) -> Int {
            guard field.hasPrefix(name + "="), let value = Int(field.dropFirst(name.count + 1)) else {
                throw .unsupported("scrypt parameter `\(field)`, expected \(name)=NUMBER")
            }
            return value
        }
        let parameters = ScryptParameters(logN: try number(fields[3], "logN"), r: try number(fields[4], "r"), p: try number(fields[5], "p"))
        guard ScryptParameters.acceptedLogN.contains(parameters.logN), (1...32).contains(parameters.r), (1...4).contains(parameters.p) else {
            throw .unsupported("scrypt parameters logN=\(parameters.logN) r=\(parameters.r) p=\(parameters.p) out of bounds")
        }
        let body = lines.dropFirst().joined()
        guard let data = Data(base64Encoded: body) else { throw .malformed("the body is not base64") }
        let bytes = [UInt8](data)
        guard bytes.count >= saltSize + nonceSize + tagSize else { throw .malformed("the body is too short") }
        return Parsed(
            header: header, parameters: parameters,
            salt: Array(bytes[0..<saltSize]),
            nonce: Array(bytes[saltSize..<(saltSize + nonceSize)]),
            ciphertext: Array(bytes[(saltSize + nonceSize)..<(bytes.count - tagSize)]),
            tag: Array(bytes[(bytes.count - tagSize)...]))
    }

    static func deriveKey(_ passphrase: VaultPassphrase, salt: [UInt8], _ parameters: ScryptParameters) throws(VaultError) -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: passphrase.bytes, salt: salt, outputByteCount: keySize,
                rounds: 1 << parameters.logN, blockSize: parameters.r, parallelism: parameters.p)
        } catch {
            throw .unsupported("scrypt refused the parameters (\(error))")
        }
    }

    static func seal(_ plaintext: some DataProtocol, key: SymmetricKey, salt: [UInt8], parameters: ScryptParameters) throws(VaultError) -> String {
        let header = header(parameters)
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: Data(header.utf8))
        } catch {
            throw .malformed("encryption failed (\(error))")
        }
        var body = Data(salt)
        body.append(contentsOf: box.nonce)
        body.append(box.ciphertext)
        body.append(box.tag)
        let encoded = body.base64EncodedString()
        var text = header + "\n"
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: lineLength, limitedBy: encoded.endIndex) ?? encoded.endIndex
            text += encoded[index..<end] + "\n"
            index = end
        }
        return text
    }

    static func open(_ parsed: Parsed, key: SymmetricKey) throws(VaultError) -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: parsed.nonce), ciphertext: parsed.ciphertext, tag: parsed.tag)
            return [UInt8](try AES.GCM.open(box, using: key, authenticating: Data(parsed.header.utf8)))
        } catch {
            throw .wrongPassphraseOrModified
        }
    }
}
