import Foundation
import Testing

@testable import QuorumVault

/// The format and its crypto, through the library. Tests use scrypt's lowest accepted cost (logN 15)
/// to stay quick in debug builds, where BoringSSL is not optimised.
@Suite("Vault format")
struct VaultFormatTests {
    static let quick = ScryptParameters(logN: 15, r: 8, p: 1)
    static let plaintext = "db_password: Zebra-Quokka-93/x+y\nport: 3306\n"
    let passphrase = VaultPassphrase("correct horse battery staple")

    func sealed() throws -> String {
        try VaultFormat.encrypt(Array(Self.plaintext.utf8), passphrase: passphrase, parameters: Self.quick)
    }

    /// The body's bytes (salt ‖ nonce ‖ ciphertext ‖ tag) and the header line.
    static func split(_ text: String) -> (header: String, body: [UInt8]) {
        let lines = text.split(separator: "\n")
        return (String(lines[0]), [UInt8](Data(base64Encoded: lines.dropFirst().joined())!))
    }

    static func join(_ header: String, _ body: [UInt8]) -> String {
        header + "\n" + Data(body).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n"
    }

    @Test("a round trip gives the plaintext back; the text is armoured under a recognisable header")
    func roundTrip() throws {
        let text = try sealed()
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "$QUORUM_VAULT;1;AES256-GCM;scrypt;logN=15;r=8;p=1")
        #expect(lines.dropFirst().allSatisfy { $0.count <= 64 && $0.allSatisfy { $0.isASCII } })
        #expect(VaultFormat.isVault(text))
        #expect(!text.contains("Zebra"))
        let opened = try VaultFormat.decrypt(text, passphrase: passphrase)
        #expect(String(decoding: opened, as: UTF8.self) == Self.plaintext)
        // 16 bytes of salt, 12 of nonce, the ciphertext (as long as the plaintext), 16 of tag.
        #expect(Self.split(text).body.count == 16 + 12 + Self.plaintext.utf8.count + 16)
    }

    @Test("salt and nonce are fresh for every encryption")
    func freshSaltAndNonce() throws {
        let a = Self.split(try sealed()).body
        let b = Self.split(try sealed()).body
        #expect(a.prefix(16) != b.prefix(16))
        #expect(a.dropFirst(16).prefix(12) != b.dropFirst(16).prefix(12))
        #expect(a != b)
    }

    @Test("a wrong passphrase fails as such")
    func wrongPassphrase() throws {
        #expect(throws: VaultError.wrongPassphraseOrModified) {
            try VaultFormat.decrypt(try sealed(), passphrase: VaultPassphrase("correct horse battery stapler"))
        }
        #expect(throws: VaultError.noPassphrase) { try VaultFormat.decrypt(try sealed(), passphrase: VaultPassphrase("")) }
    }

    @Test("a changed byte anywhere in salt, nonce, ciphertext or tag fails authentication")
    func tamperedBody() throws {
        let text = try sealed()
        let (header, body) = Self.split(text)
        let keyring = VaultKeyring(passphrase: passphrase)
        #expect(try keyring.decrypt(text) == Array(Self.plaintext.utf8))
        for index in [0, 15, 16, 27, 28, 28 + 10, body.count - 16, body.count - 1] {
            var changed = body
            changed[index] ^= 0x01
            #expect(throws: VaultError.wrongPassphraseOrModified, "byte \(index)") {
                try keyring.decrypt(Self.join(header, changed))
            }
        }
    }

    @Test("a changed header fails: authenticated parameters, or an unknown version or cipher")
    func tamperedHeader() throws {
        let text = try sealed()
        let keyring = VaultKeyring(passphrase: passphrase)
        // logN=15 → logN=16: the header is authenticated (and the key differs).
        #expect(throws: VaultError.wrongPassphraseOrModified) {
            try keyring.decrypt(text.replacingOccurrences(of: "logN=15", with: "logN=16"))
        }
        #expect(throws: VaultError.unsupported("version 2 (this Quorum reads version 1)")) {
            try keyring.decrypt(text.replacingOccurrences(of: "VAULT;1;", with: "VAULT;2;"))
        }
        #expect(throws: VaultError.unsupported("cipher `AES128-GCM`")) {
            try keyring.decrypt(text.replacingOccurrences(of: "AES256-GCM", with: "AES128-GCM"))
        }
        #expect(throws: VaultError.unsupported("scrypt parameters logN=30 r=8 p=1 out of bounds")) {
            try keyring.decrypt(text.replacingOccurrences(of: "logN=15", with: "logN=30"))
        }
        #expect(throws: VaultError.notAVault) { try keyring.decrypt(text.replacingOccurrences(of: "$QUORUM_VAULT", with: "$QUORUM_VAULX")) }
    }

    @Test("a truncated file fails cleanly")
    func truncated() throws {
        let text = try sealed()
        let (header, body) = Self.split(text)
        let keyring = VaultKeyring(passphrase: passphrase)
        #expect(throws: VaultError.wrongPassphraseOrModified) { try keyring.decrypt(Self.join(header, Array(body.dropLast(1)))) }
        #expect(throws: VaultError.malformed("the body is too short")) { try keyring.decrypt(Self.join(header, Array(body.prefix(30)))) }
        #expect(throws: VaultError.malformed("the body is too short")) { try keyring.decrypt(header + "\n") }
        #expect(throws: VaultError.malformed("the body is not base64")) { try keyring.decrypt(String(text.dropLast(3))) }
    }

    @Test("a keyring without a passphrase says so; one with a passphrase encrypts and decrypts")
    func keyring() throws {
        #expect(throws: VaultError.noPassphrase) { try VaultKeyring(passphrase: nil).decrypt(try sealed()) }
        #expect(throws: VaultError.notAVault) { try VaultKeyring(passphrase: nil).decrypt("a: b\n") }
        let keyring = VaultKeyring(passphrase: passphrase)
        let text = try keyring.encrypt(Array("x: 1\n".utf8), parameters: Self.quick)
        #expect(try keyring.decrypt(text) == Array("x: 1\n".utf8))
        #expect(try keyring.decrypt(text) == Array("x: 1\n".utf8))
    }

    @Test("the standard scrypt cost (logN 15, r 8, p 1): measured")
    func scryptCost() throws {
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            _ = try VaultFormat.deriveKey(passphrase, salt: [UInt8](repeating: 7, count: 16), .standard)
        }
        print("scrypt logN=\(ScryptParameters.standard.logN) r=8 p=1 took \(elapsed) (BoringSSL unoptimised in debug builds)")
        #expect(ScryptParameters.standard.logN >= 15 && ScryptParameters.standard.r == 8 && ScryptParameters.standard.p == 1)
    }
}
