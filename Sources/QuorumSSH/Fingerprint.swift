import Crypto
import Foundation

/// The OpenSSH-style fingerprint of a public key blob (the bytes inside a known_hosts or `.pub` base64
/// field): `"SHA256:"` followed by unpadded base64 of the SHA-256 digest.
public func sha256Fingerprint(keyBlob: [UInt8]) -> String {
    var text = Data(SHA256.hash(data: keyBlob)).base64EncodedString()
    while text.hasSuffix("=") { text.removeLast() }
    return "SHA256:" + text
}

/// The fingerprint of a base64 key as written in known_hosts or a `.pub` file; nil when it is not base64.
public func sha256Fingerprint(base64Key: String) -> String? {
    guard let data = Data(base64Encoded: base64Key) else { return nil }
    return sha256Fingerprint(keyBlob: [UInt8](data))
}

/// The SSH key type name stored at the start of a public key blob (e.g. "ssh-ed25519").
func keyTypeName(ofBlob blob: [UInt8]) -> String? {
    guard blob.count >= 4 else { return nil }
    let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
    guard length > 0, length <= blob.count - 4 else { return nil }
    return String(decoding: blob[4..<4 + length], as: UTF8.self)
}
