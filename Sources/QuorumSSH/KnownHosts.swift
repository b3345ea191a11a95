// `struct stat`: Swift attributes it to the first module whose headers include <sys/stat.h>, libssh2.h here.
import CLibSSH2
import Crypto
import Foundation
import Glibc
import Synchronization

/// One key line of an OpenSSH known_hosts file.
struct KnownHostsEntry: Sendable, Equatable {
    enum Marker: Sendable, Equatable { case none, revoked, certAuthority }

    var marker: Marker
    /// The host field: comma-separated patterns, or one hashed name `|1|salt|hmac`.
    var hosts: String
    /// The key type as written (e.g. `ssh-ed25519`).
    var keyType: String
    var key: [UInt8]
    /// `file:line`, for messages.
    var location: String

    /// Whether this line is about `name` (`host`, or `[host]:port` when the port is not 22).
    func matches(_ name: String) -> Bool {
        if hosts.hasPrefix("|1|") { return Self.hashedMatch(hosts, name) }
        return HostPatterns.matchList(name, hosts.split(separator: ",").map(String.init))
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes.
    private static func hashedMatch(_ field: String, _ name: String) -> Bool {
        let parts = field.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, let salt = Data(base64Encoded: String(parts[2])),
            let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.lowercased().utf8), using: SymmetricKey(data: salt))
        return Data(mac) == expected
    }
}

/// Every known_hosts file a connection consults (the user's and the global ones), read the way OpenSSH reads
/// them: plain, wildcard, negated, `[host]:port` and hashed host fields; `@revoked` keys refused wherever else
/// they are listed; `@cert-authority` lines kept so an unknown host can be told they are not supported.
struct KnownHosts: Sendable {
    private(set) var entries: [KnownHostsEntry] = []
    /// `file:line` of lines that could not be read (logged, then ignored, as OpenSSH does).
    private(set) var unreadable: [String] = []

    init(files: [String]) {
        for file in files {
            guard let parsed = Self.parsed(file) else { continue }
            entries += parsed.entries
            unreadable += parsed.unreadable
        }
    }

    /// Parsed files, each kept while it is unchanged (same inode, size and modification time). Every connection
    /// of a run consults them: reading and decoding the whole file again for each of K hosts, whose keys it
    /// lists, made the run's cost grow with K². A key recorded by `--accept-new-host-keys` changes the file, so
    /// the next connection reads it again.
    private static let parsedFiles = Mutex<[String: (stamp: FileStamp, parsed: KnownHosts)]>([:])

    /// What tells that a file changed. From stat(2) itself: FileManager's attributes also look the owner and
    /// group up in the user database (reading /etc/passwd and /etc/group), for every host's connection.
    struct FileStamp: Equatable {
        var device: UInt
        var inode: UInt
        var size: Int
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int

        init?(_ path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt(status.st_dev)
            inode = UInt(status.st_ino)
            size = Int(status.st_size)
            modifiedSeconds = Int(status.st_mtim.tv_sec)
            modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        }
    }

    /// `file` parsed, from the cache while it is unchanged; nil when it cannot be read.
    static func parsed(_ file: String) -> KnownHosts? {
        let path = expandTilde(file)
        guard let stamp = FileStamp(path) else { return nil }
        if let cached = parsedFiles.withLock({ $0[file] }), cached.stamp == stamp { return cached.parsed }
        // Changed after the stat: the next stat differs from the stamp kept here, and reads it again.
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let parsed = KnownHosts(text: String(decoding: data, as: UTF8.self), path: file)
        parsedFiles.withLock { $0[file] = (stamp, parsed) }
        return parsed
    }

    init(text: String, path: String) { parse(text, path: path) }

    private mutating func parse(_ text: String, path: String) {
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var marker = KnownHostsEntry.Marker.none
            if first.hasPrefix("@") {
                switch first {
                case "@revoked": marker = .revoked
                case "@cert-authority": marker = .certAuthority
                default:
                    unreadable.append("\(path):\(lineNumber)")
                    continue
                }
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]), !key.isEmpty else {
                unreadable.append("\(path):\(lineNumber)")
                continue
            }
            entries.append(
                KnownHostsEntry(
                    marker: marker, hosts: fields[0], keyType: fields[1], key: [UInt8](key),
                    location: "\(path):\(lineNumber)"))
        }
    }

    /// The name known_hosts records for a host: `host` on port 22, `[host]:port` otherwise.
    static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host.lowercased() : "[\(host.lowercased())]:\(port)"
    }

    enum Verdict: Equatable {
        case match(KnownHostsEntry)
        /// The presented key is listed `@revoked` for this host (even if also listed normally).
        case revoked(KnownHostsEntry)
        /// Keys are on record for this host, none equal to the presented one; those of the presented type
        /// first when there are any.
        case changed(recorded: [KnownHostsEntry], sameType: Bool)
        /// Nothing on record; `certAuthorities` are the `@cert-authority` lines for this host (unsupported).
        case unknown(certAuthorities: [KnownHostsEntry])
    }

    func verify(host: String, port: Int, key: [UInt8]) -> Verdict {
        verify(name: Self.lookupName(host: host, port: port), key: key)
    }

    /// `name` as `lookupName` builds it (or a `HostKeyAlias`).
    func verify(name: String, key: [UInt8]) -> Verdict {
        let relevant = entries.filter { $0.matches(name) }
        if let revoked = relevant.first(where: { $0.marker == .revoked && $0.key == key }) { return .revoked(revoked) }
        let plain = relevant.filter { $0.marker == .none }
        if let match = plain.first(where: { $0.key == key }) { return .match(match) }
        if !plain.isEmpty {
            let type = keyTypeName(ofBlob: key)
            let sameType = plain.filter { $0.keyType == type }
            return sameType.isEmpty ? .changed(recorded: plain, sameType: false) : .changed(recorded: sameType, sameType: true)
        }
        return .unknown(certAuthorities: relevant.filter { $0.marker == .certAuthority })
    }

    /// Key types recorded (not revoked, not CA) for this host, in file order, without repeats.
    func recordedKeyTypes(host: String, port: Int) -> [String] {
        recordedKeyTypes(name: Self.lookupName(host: host, port: port))
    }

    func recordedKeyTypes(name: String) -> [String] {
        var seen: [String] = []
        for entry in entries where entry.marker == .none && entry.matches(name) && !seen.contains(entry.keyType) {
            seen.append(entry.keyType)
        }
        return seen
    }
}

/// `~/x` -> the user's home directory + `/x` (paths in inventories are usually written that way).
/// Foundation looks the home up in the user database at each call (it reads /etc/passwd), and every host's
/// connection asks for the same few paths: each answer is kept for the run.
func expandTilde(_ path: String) -> String {
    guard path.hasPrefix("~") else { return path }
    if let known = expandedTildes.withLock({ $0[path] }) { return known }
    let expanded = (path as NSString).expandingTildeInPath
    expandedTildes.withLock { $0[path] = expanded }
    return expanded
}

private let expandedTildes = Mutex<[String: String]>([:])
