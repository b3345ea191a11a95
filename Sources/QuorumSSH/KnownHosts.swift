import CLibSSH2
import Foundation
import Logging

/// A key type as libssh2 names it in three places: the negotiated host key type, the known_hosts type bits
/// and the host key algorithm name.
struct HostKeyType: Sendable {
    var hostkeyType: Int32
    var knownhostBits: Int32
    var algorithm: String
    var display: String

    static let all: [HostKeyType] = [
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ED25519, knownhostBits: LIBSSH2_KNOWNHOST_KEY_ED25519,
                    algorithm: "ssh-ed25519", display: "ED25519"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_256, knownhostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
                    algorithm: "ecdsa-sha2-nistp256", display: "ECDSA"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_384, knownhostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
                    algorithm: "ecdsa-sha2-nistp384", display: "ECDSA-384"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_521, knownhostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
                    algorithm: "ecdsa-sha2-nistp521", display: "ECDSA-521"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_RSA, knownhostBits: LIBSSH2_KNOWNHOST_KEY_SSHRSA,
                    algorithm: "ssh-rsa", display: "RSA"),
    ]

    static func forHostkeyType(_ type: Int32) -> HostKeyType? { all.first { $0.hostkeyType == type } }
    static func forKnownhostBits(_ bits: Int32) -> HostKeyType? { all.first { $0.knownhostBits == bits & LIBSSH2_KNOWNHOST_KEY_MASK } }
}

/// known_hosts files parsed into one libssh2 collection. Lines libssh2 cannot parse (and `@cert-authority` /
/// `@revoked` lines, which it does not understand) are skipped instead of ending the read.
final class KnownHosts {
    let collection: OpaquePointer

    init(session: OpaquePointer, files: [String], logger: Logger) throws {
        guard let collection = libssh2_knownhost_init(session) else {
            throw SSHError(.protocolError, "Cannot allocate a known_hosts collection")
        }
        self.collection = collection
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                let trimmed = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                guard let first = trimmed.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "@"),
                      first != UInt8(ascii: "\r") else { continue }
                let bytes = [UInt8](trimmed)
                let rc = bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        libssh2_knownhost_readline(collection, $0.baseAddress, $0.count, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                    }
                }
                if rc != 0 { logger.debug("skipping unreadable known_hosts line \(file):\(lineNumber)") }
            }
        }
    }

    func free() { libssh2_knownhost_free(collection) }

    enum Result {
        case match
        /// `recordedKey` is the base64 key on record for this host (of the same type).
        case mismatch(recordedKey: String?)
        case notFound
    }

    func check(host: String, port: Int, key: [UInt8], typeBits: Int32) -> Result {
        var found: UnsafeMutablePointer<libssh2_knownhost>?
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typeBits
        let rc = key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                libssh2_knownhost_checkp(collection, host, Int32(port), $0.baseAddress, $0.count, typemask, &found)
            }
        }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            let recorded = found?.pointee.key.map { String(cString: $0) }
            return .mismatch(recordedKey: recorded)
        default: return .notFound
        }
    }

    /// Key types on record for host:port, found by checking a dummy key of each type: a mismatch means a key of
    /// that type is recorded (this also works for hashed entries, which cannot be matched by name here).
    func recordedTypes(host: String, port: Int) -> [(HostKeyType, String?)] {
        HostKeyType.all.compactMap { type in
            if case .mismatch(let key) = check(host: host, port: port, key: [0], typeBits: type.knownhostBits) {
                return (type, key)
            }
            return nil
        }
    }
}

extension SessionCore {
    /// Ask for the key types already on record for this host first, so an ed25519-only record is not reported
    /// as unknown when the server would otherwise offer ECDSA first.
    func preferRecordedHostKeyTypes(_ knownHosts: KnownHosts) {
        guard let session else { return }
        let recorded = knownHosts.recordedTypes(host: endpoint.host, port: endpoint.port).map { $0.0.algorithm }
        var supported: Set<String> = []
        var algs: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs)
        if count > 0, let algs {
            for i in 0 ..< Int(count) { if let name = algs[i] { supported.insert(String(cString: name)) } }
            libssh2_free(session, algs)
        }
        var order = recorded + HostKeyType.all.map(\.algorithm).filter { !recorded.contains($0) }
        if !supported.isEmpty { order = order.filter { supported.contains($0) } }
        guard !order.isEmpty else { return }
        let rc = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
        if rc != 0 { logger.debug("host key preference not applied: \(lastErrorMessage)") }
    }

    func checkHostKey(_ knownHosts: KnownHosts, policy: HostKeyPolicy) throws {
        guard let session else { return }
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw SSHError(.protocolError, "\(label) presented no host key: \(lastErrorMessage)")
        }
        let key = [UInt8](UnsafeRawBufferPointer(start: raw, count: length))
        let presented = sha256Fingerprint(keyBlob: key)
        let keyType = HostKeyType.forHostkeyType(type)
        let typeName = keyType?.display ?? keyTypeName(ofBlob: key) ?? "unknown"
        guard let keyType else {
            throw SSHError(.protocolError, "\(label) presented a host key of a type this client cannot check (\(typeName) \(presented))")
        }

        switch knownHosts.check(host: endpoint.host, port: endpoint.port, key: key, typeBits: keyType.knownhostBits) {
        case .match:
            return
        case .mismatch(let recordedKey):
            let recorded = recordedKey.flatMap { sha256Fingerprint(base64Key: $0) } ?? "unreadable"
            throw SSHError(.hostKeyChanged, """
                HOST KEY CHANGED for \(label): known_hosts records \(typeName) key \(recorded), \
                but the server presented \(typeName) key \(presented). This may be an attack, or the host was \
                reinstalled; verify the new key and remove the old entry (ssh-keygen -R) before connecting again.
                """)
        case .notFound:
            // Another key type on record means the server no longer offers the recorded key: treat it as a change.
            if let (otherType, otherKey) = knownHosts.recordedTypes(host: endpoint.host, port: endpoint.port).first {
                let recorded = otherKey.flatMap { sha256Fingerprint(base64Key: $0) } ?? "unreadable"
                throw SSHError(.hostKeyChanged, """
                    HOST KEY CHANGED for \(label): known_hosts records \(otherType.display) key \(recorded), \
                    but the server presented \(typeName) key \(presented) and does not offer the recorded type.
                    """)
            }
            guard policy.acceptNew else {
                throw SSHError(.hostKeyUnknown, """
                    Host key for \(label) is not known (\(typeName) key \(presented)). Verify the fingerprint, then \
                    run again with --accept-new-host-keys to record it in \(policy.recordFile).
                    """)
            }
            try appendKnownHost(key: key, file: policy.recordFile)
            logger.notice("recorded new host key for \(label) (\(typeName) \(presented)) in \(policy.recordFile)")
        }
    }

    /// Appends one OpenSSH line: `host type base64` on port 22, `[host]:port type base64` otherwise.
    private func appendKnownHost(key: [UInt8], file: String) throws {
        guard !file.isEmpty, let type = keyTypeName(ofBlob: key) else {
            throw SSHError(.hostKeyUnknown, "Cannot record the host key of \(label): no known_hosts file to write to")
        }
        let name = endpoint.port == 22 ? endpoint.host : "[\(endpoint.host)]:\(endpoint.port)"
        var line = "\(name) \(type) \(Data(key).base64EncodedString())\n"
        let directory = (file as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        let out = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard out >= 0 else {
            throw SSHError(.hostKeyUnknown, "Cannot record the host key of \(label) in \(file): \(String(cString: strerror(quorum_errno())))")
        }
        defer { close(out) }
        // Do not glue the new entry onto a last line that has no newline.
        var end = stat()
        if fstat(out, &end) == 0, end.st_size > 0, let existing = FileHandle(forReadingAtPath: file) {
            try? existing.seek(toOffset: UInt64(end.st_size - 1))
            if let last = try? existing.read(upToCount: 1), last != Data([UInt8(ascii: "\n")]) { line = "\n" + line }
            try? existing.close()
        }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw SSHError(.hostKeyUnknown, "Cannot record the host key of \(label) in \(file): short write")
        }
    }
}
