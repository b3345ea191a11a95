import Foundation
import Testing

@testable import QuorumSSH

/// A syntactically valid public key blob of `type` with `fill` as its key bytes.
func fakeKeyBlob(_ type: String, fill: UInt8) -> [UInt8] {
    let name = Array(type.utf8)
    return [0, 0, 0, UInt8(name.count)] + name + [0, 0, 0, 32] + [UInt8](repeating: fill, count: 32)
}

func knownHostsLine(_ hosts: String, _ type: String, _ blob: [UInt8], marker: String? = nil) -> String {
    (marker.map { $0 + " " } ?? "") + "\(hosts) \(type) \(Data(blob).base64EncodedString())"
}

/// A known_hosts file is parsed once while it is unchanged, and read again as soon as it changes.
@Suite struct KnownHostsFileCacheTests {
    @Test("an unchanged file is parsed once; an appended key, or the file replaced, is seen by the next reader")
    func changedFilesAreReadAgain() throws {
        let directory = NSTemporaryDirectory() + "quorum-kh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/known_hosts"
        let keyA = fakeKeyBlob("ssh-ed25519", fill: 0xA1)
        let keyB = fakeKeyBlob("ssh-ed25519", fill: 0xB2)
        try (knownHostsLine("ctl1", "ssh-ed25519", keyA) + "\n").write(toFile: file, atomically: false, encoding: .utf8)
        #expect(KnownHosts(files: [file]).entries.map(\.hosts) == ["ctl1"])
        #expect(KnownHosts(files: [file, file]).entries.map(\.hosts) == ["ctl1", "ctl1"])

        // Appended, as --accept-new-host-keys records a key.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((knownHostsLine("ctl2", "ssh-ed25519", keyB) + "\n").utf8))
        try handle.close()
        #expect(KnownHosts(files: [file]).entries.map(\.hosts) == ["ctl1", "ctl2"])

        // Replaced by another file of the same size: a new inode.
        let replacement = directory + "/new"
        try (knownHostsLine("ctl3", "ssh-ed25519", keyB) + "\n" + knownHostsLine("ctl4", "ssh-ed25519", keyA) + "\n")
            .write(toFile: replacement, atomically: false, encoding: .utf8)
        #expect(rename(replacement, file) == 0)
        let replaced = KnownHosts(files: [file])
        #expect(replaced.entries.map(\.hosts) == ["ctl3", "ctl4"])
        #expect(replaced.verify(host: "ctl3", port: 22, key: keyB) == .match(replaced.entries[0]))

        // Gone: nothing, as for a file that never existed.
        try FileManager.default.removeItem(atPath: file)
        #expect(KnownHosts(files: [file]).entries.isEmpty)
    }
}

@Suite struct KnownHostsParsingTests {
    let keyA = fakeKeyBlob("ssh-ed25519", fill: 0xA1)
    let keyB = fakeKeyBlob("ssh-ed25519", fill: 0xB2)
    let ecdsa = fakeKeyBlob("ecdsa-sha2-nistp256", fill: 0xC3)

    @Test func plainWildcardNegationAndPortForms() {
        let text = [
            "# comment",
            knownHostsLine("ctl1,10.0.0.11", "ssh-ed25519", keyA),
            knownHostsLine("*.example.net,!bad.example.net", "ssh-ed25519", keyA),
            knownHostsLine("[ctl2]:2222", "ssh-ed25519", keyA),
            "garbage"
        ].joined(separator: "\n")
        let db = KnownHosts(text: text, path: "kh")
        #expect(db.unreadable == ["kh:5"])
        #expect(db.verify(host: "ctl1", port: 22, key: keyA) == .match(db.entries[0]))
        #expect(db.verify(host: "CTL1", port: 22, key: keyA) == .match(db.entries[0]))
        #expect(db.verify(host: "10.0.0.11", port: 22, key: keyA) == .match(db.entries[0]))
        #expect(db.verify(host: "a.example.net", port: 22, key: keyA) == .match(db.entries[1]))
        #expect(db.verify(host: "bad.example.net", port: 22, key: keyA) == .unknown(certAuthorities: []))
        // `[host]:port` only for that port; a bare name only for port 22.
        #expect(db.verify(host: "ctl2", port: 2222, key: keyA) == .match(db.entries[2]))
        #expect(db.verify(host: "ctl2", port: 22, key: keyA) == .unknown(certAuthorities: []))
        #expect(db.verify(host: "ctl1", port: 2222, key: keyA) == .unknown(certAuthorities: []))
    }

    @Test func changedKeySameTypeAndOtherType() {
        let db = KnownHosts(
            text: knownHostsLine("ctl1", "ssh-ed25519", keyA) + "\n" + knownHostsLine("ctl1", "ecdsa-sha2-nistp256", ecdsa),
            path: "kh")
        #expect(db.verify(host: "ctl1", port: 22, key: keyB) == .changed(recorded: [db.entries[0]], sameType: true))
        let otherType = fakeKeyBlob("ecdsa-sha2-nistp384", fill: 1)
        #expect(db.verify(host: "ctl1", port: 22, key: otherType) == .changed(recorded: db.entries, sameType: false))
        #expect(db.recordedKeyTypes(host: "ctl1", port: 22) == ["ssh-ed25519", "ecdsa-sha2-nistp256"])
    }

    @Test func revokedKeyIsRefusedEvenWhenAlsoListedNormally() {
        let text = [
            knownHostsLine("ctl1", "ssh-ed25519", keyA),
            knownHostsLine("*", "ssh-ed25519", keyA, marker: "@revoked"),
            knownHostsLine("ctl1", "ssh-ed25519", keyB)
        ].joined(separator: "\n")
        let db = KnownHosts(text: text, path: "kh")
        #expect(db.verify(host: "ctl1", port: 22, key: keyA) == .revoked(db.entries[1]))
        #expect(db.entries[1].location == "kh:2")
        // The other listed key is still fine, and a revoked key is not a "recorded" type or key.
        #expect(db.verify(host: "ctl1", port: 22, key: keyB) == .match(db.entries[2]))
        let onlyRevoked = KnownHosts(text: knownHostsLine("ctl9", "ssh-ed25519", keyA, marker: "@revoked"), path: "kh")
        #expect(onlyRevoked.verify(host: "ctl9", port: 22, key: keyB) == .unknown(certAuthorities: []))
        #expect(onlyRevoked.recordedKeyTypes(host: "ctl9", port: 22).isEmpty)
    }

    @Test func certAuthorityLinesAreKeptForTheMessage() {
        let db = KnownHosts(text: knownHostsLine("*.lab", "ssh-ed25519", keyA, marker: "@cert-authority"), path: "kh")
        #expect(db.verify(host: "ctl1.lab", port: 22, key: keyB) == .unknown(certAuthorities: db.entries))
        #expect(db.verify(host: "ctl1.other", port: 22, key: keyB) == .unknown(certAuthorities: []))
        // A CA key presented as a host key is not a match either.
        #expect(db.verify(host: "ctl1.lab", port: 22, key: keyA) == .unknown(certAuthorities: db.entries))
    }

    @Test func hashedNamesFromSSHKeygen() throws {
        let dir = NSTemporaryDirectory() + "quorum-kh-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/known_hosts"
        try (knownHostsLine("ctl1", "ssh-ed25519", keyA) + "\n" + knownHostsLine("[ctl2]:2222", "ssh-ed25519", keyB) + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        try sh("/usr/bin/ssh-keygen", ["-H", "-f", file])
        let hashed = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!hashed.contains("ctl"))
        let db = KnownHosts(files: [file])
        #expect(db.entries.count == 2)
        #expect(db.entries.allSatisfy { $0.hosts.hasPrefix("|1|") })
        #expect(db.verify(host: "ctl1", port: 22, key: keyA) == .match(db.entries[0]))
        #expect(db.verify(host: "ctl2", port: 2222, key: keyB) == .match(db.entries[1]))
        #expect(db.verify(host: "ctl3", port: 22, key: keyA) == .unknown(certAuthorities: []))
    }

    @Test func everyFileIsConsultedAndMissingOnesAreSkipped() throws {
        let dir = NSTemporaryDirectory() + "quorum-kh-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (knownHostsLine("ctl1", "ssh-ed25519", keyA) + "\n").write(toFile: dir + "/user", atomically: true, encoding: .utf8)
        try (knownHostsLine("ctl2", "ssh-ed25519", keyB) + "\n").write(toFile: dir + "/global", atomically: true, encoding: .utf8)
        let db = KnownHosts(files: [dir + "/user", dir + "/missing", dir + "/global"])
        #expect(db.verify(host: "ctl2", port: 22, key: keyB) == .match(db.entries[1]))
        #expect(db.entries[1].location == dir + "/global:1")
    }

    @Test func fingerprintOfKnownVector() {
        // SHA-256("abc"), base64 without padding.
        #expect(sha256Fingerprint(keyBlob: Array("abc".utf8)) == "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0")
        #expect(sha256Fingerprint(base64Key: "not base64!") == nil)
    }

    @Test func hostPatterns() {
        #expect(HostPatterns.glob("ctl1.lab", "ctl?.lab"))
        #expect(!HostPatterns.glob("ctl10.lab", "ctl?.lab"))
        #expect(HostPatterns.glob("anything", "*"))
        #expect(HostPatterns.glob("a.b.c", "*.c"))
        #expect(HostPatterns.glob("abcabd", "*abd"))
        #expect(!HostPatterns.glob("abc", "*abd"))
        #expect(HostPatterns.matchList("ctl1", ["ctl*", "!ctl2"]))
        #expect(!HostPatterns.matchList("ctl2", ["ctl*", "!ctl2"]))
        #expect(!HostPatterns.matchList("ctl2", ["!ctl2"]))
    }
}
