import CLibSSH2
import Foundation

/// A key type as libssh2 names it: the negotiated host key type and the host key algorithm name (which is
/// also the type name inside the key blob and in known_hosts).
struct HostKeyType: Sendable {
    var hostkeyType: Int32
    var algorithm: String
    var display: String

    static let all: [HostKeyType] = [
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ED25519, algorithm: "ssh-ed25519", display: "ED25519"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_256, algorithm: "ecdsa-sha2-nistp256", display: "ECDSA"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_384, algorithm: "ecdsa-sha2-nistp384", display: "ECDSA-384"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_ECDSA_521, algorithm: "ecdsa-sha2-nistp521", display: "ECDSA-521"),
        HostKeyType(hostkeyType: LIBSSH2_HOSTKEY_TYPE_RSA, algorithm: "ssh-rsa", display: "RSA")
    ]

    static func forHostkeyType(_ type: Int32) -> HostKeyType? { all.first { $0.hostkeyType == type } }
    static func display(ofAlgorithm name: String) -> String { all.first { $0.algorithm == name }?.display ?? name }
}

extension SessionCore {
    /// Ask for the key types already on record for this host first, so an ed25519-only record is not reported
    /// as unknown when the server would otherwise offer ECDSA first.
    func preferRecordedHostKeyTypes(_ knownHosts: KnownHosts, alias: String?) {
        guard let session else { return }
        let recorded = knownHosts.recordedKeyTypes(name: knownHostsName(alias))
        var supported: Set<String> = []
        var algs: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs)
        if count > 0, let algs {
            for i in 0..<Int(count) { if let name = algs[i] { supported.insert(String(cString: name)) } }
            libssh2_free(session, algs)
        }
        var order = recorded + HostKeyType.all.map(\.algorithm).filter { !recorded.contains($0) }
        if !supported.isEmpty { order = order.filter { supported.contains($0) } }
        guard !order.isEmpty else { return }
        let rc = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
        if rc != 0 { note("host key preference not applied: \(lastErrorMessage)") }
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
        guard keyType != nil else {
            throw SSHError(.protocolError, "\(label) presented a host key of a type this client cannot check (\(typeName) \(presented))")
        }
        for location in knownHosts.unreadable { note("skipped unreadable known_hosts line \(location)") }

        switch knownHosts.verify(name: knownHostsName(policy.hostKeyAlias), key: key) {
        case .match:
            return
        case .revoked(let entry):
            throw SSHError(
                .hostKeyRevoked,
                """
                HOST KEY REVOKED for \(label): the server presented \(typeName) key \(presented), which \
                \(entry.location) marks @revoked. Refusing to connect.
                """)
        case .changed(let recorded, let sameType):
            let first = recorded[0]
            let recordedPrint = sha256Fingerprint(keyBlob: first.key)
            let recordedType = HostKeyType.display(ofAlgorithm: first.keyType)
            if sameType {
                throw SSHError(
                    .hostKeyChanged,
                    """
                    HOST KEY CHANGED for \(label): known_hosts records \(recordedType) key \(recordedPrint) \
                    (\(first.location)), but the server presented \(typeName) key \(presented). This may be an attack, \
                    or the host was reinstalled; verify the new key and remove the old entry (ssh-keygen -R) before \
                    connecting again.
                    """)
            }
            // Another key type on record means the server no longer offers the recorded key: treat it as a change.
            throw SSHError(
                .hostKeyChanged,
                """
                HOST KEY CHANGED for \(label): known_hosts records \(recordedType) key \(recordedPrint) \
                (\(first.location)), but the server presented \(typeName) key \(presented) and does not offer the \
                recorded type.
                """)
        case .unknown(let certAuthorities):
            let caNote =
                certAuthorities.isEmpty
                ? ""
                : """
                 \(certAuthorities.map(\.location).joined(separator: ", ")) trusts a @cert-authority for this host, \
                but Quorum (libssh2) cannot verify host certificates: list the host's own key in known_hosts.
                """
            guard policy.acceptNew else {
                throw SSHError(
                    .hostKeyUnknown,
                    """
                    Host key for \(label) is not known (\(typeName) key \(presented)). Verify the fingerprint, then \
                    run again with --accept-new-host-keys to record it in \(policy.recordFile).\(caNote)
                    """)
            }
            try appendKnownHost(key: key, file: policy.recordFile, policy: policy)
            note("recorded new host key for \(label) (\(typeName) \(presented)) in \(policy.recordFile)", kind: .hostKeyRecorded)
        }
    }

    /// The name known_hosts lists this host under: `HostKeyAlias` as given, else `host` or `[host]:port`.
    func knownHostsName(_ alias: String?) -> String {
        alias ?? KnownHosts.lookupName(host: endpoint.host, port: endpoint.port)
    }

    /// Appends one OpenSSH line: `host type base64` on port 22, `[host]:port type base64` otherwise.
    private func appendKnownHost(key: [UInt8], file recordFile: String, policy: HostKeyPolicy) throws {
        let file = expandTilde(recordFile)
        guard !file.isEmpty, let type = keyTypeName(ofBlob: key) else {
            throw SSHError(.hostKeyUnknown, "Cannot record the host key of \(label): no known_hosts file to write to")
        }
        let name = knownHostsName(policy.hostKeyAlias)
        var line = "\(name) \(type) \(Data(key).base64EncodedString())\n"
        let directory = (file as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
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
