import Crypto
import Foundation

/// RabbitMQ's stored password hashes, as its management API returns them (`password_hash`,
/// `hashing_algorithm`): base64 of a 4-byte salt followed by H(salt + the password's UTF-8 bytes). Quorum
/// compares a wanted password with the stored hash here, locally, so that checking a password never sends it
/// anywhere.
enum RabbitMQPasswordHash {
    /// What comparing a password with a stored hash found.
    enum Verdict: Equatable {
        case matches
        case differs
        /// A hashing module Quorum does not know (from a plugin): the password cannot be checked.
        case unknownAlgorithm(String)
    }

    /// The hash functions of RabbitMQ's built-in hashing modules.
    enum Algorithm: String, CaseIterable {
        case sha256 = "rabbit_password_hashing_sha256"
        case sha512 = "rabbit_password_hashing_sha512"
        case md5 = "rabbit_password_hashing_md5"

        /// A user without `hashing_algorithm` predates RabbitMQ 3.6, whose only hash was MD5.
        init?(module: String?) {
            guard let module, !module.isEmpty else {
                self = .md5
                return
            }
            self.init(rawValue: module)
        }

        func digest(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: return Array(SHA256.hash(data: bytes))
            case .sha512: return Array(SHA512.hash(data: bytes))
            case .md5: return Array(Insecure.MD5.hash(data: bytes))
            }
        }
    }

    static let saltLength = 4

    /// Whether `password` is the one `storedHash` was made from. An empty or malformed hash (a user without
    /// a password) differs from every password.
    static func verify(_ password: String, storedHash: String, algorithm module: String?) -> Verdict {
        guard let algorithm = Algorithm(module: module) else { return .unknownAlgorithm(module ?? "") }
        guard let stored = Data(base64Encoded: storedHash).map(Array.init), stored.count > saltLength else { return .differs }
        let salt = Array(stored.prefix(saltLength))
        let expected = hash(password, salt: salt, algorithm: algorithm)
        return constantTimeEqual(expected, stored) ? .matches : .differs
    }

    /// The stored form of `password` with `salt` (4 bytes), as RabbitMQ computes it.
    static func hash(_ password: String, salt: [UInt8], algorithm: Algorithm) -> [UInt8] {
        salt + algorithm.digest(salt + Array(password.utf8))
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
