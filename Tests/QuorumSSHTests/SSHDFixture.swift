import Foundation
import QuorumSSH

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// Starts a program with stdin/stdout/stderr redirected to files (posix_spawn: no Foundation `Process`, whose
/// reaper blocks on long-running children). Returns its PID.
func spawn(_ path: String, _ arguments: [String], stdin: String = "/dev/null", stdout: String, stderr: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    // Children must not inherit this process's blocked signals (Swift's threads block SIGTERM) or ignored SIGPIPE.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard rc == 0 else { throw FixtureError(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
    return pid
}

/// Waits for a child and returns its exit status (or 128 + signal).
@discardableResult
func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// Runs a program to completion and returns its stdout (throws on a non-zero exit).
@discardableResult
func sh(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
    allowFailure: Bool = false
) throws -> String {
    let base = NSTemporaryDirectory() + "quorum-sh-" + UUID().uuidString
    defer { for suffix in [".in", ".out", ".err"] { unlink(base + suffix) } }
    try (input ?? "").write(toFile: base + ".in", atomically: false, encoding: .utf8)
    var program = path
    var args = arguments
    if let environment {
        program = "/usr/bin/env"
        args = environment.map { "\($0.key)=\($0.value)" } + [path] + arguments
    }
    let pid = try spawn(program, args, stdin: base + ".in", stdout: base + ".out", stderr: base + ".err")
    let status = reap(pid)
    let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    if status != 0, !allowFailure {
        let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        throw FixtureError(description: "\(path) \(arguments.joined(separator: " ")) failed (\(status)): \(errors)")
    }
    return output
}

/// A free TCP port on 127.0.0.1 (bound, read back, released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError(description: "socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
        }
    }
    guard ok else { throw FixtureError(description: "bind() failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// A throwaway OpenSSH server on 127.0.0.1 with its own host keys, authorized keys and config, started for one
/// test and stopped (by PID) afterwards.
final class SSHD: @unchecked Sendable {
    static let labUser = "labop"
    static let labPassword = "labop-Pa55"

    let dir: String
    let port: Int
    let clientKey: String
    let hostKeyPubs: [String]
    private var pid: pid_t = 0

    var endpointRoot: SSHEndpoint { SSHEndpoint(host: "127.0.0.1", port: port, user: "root") }
    var endpointLab: SSHEndpoint { SSHEndpoint(host: "127.0.0.1", port: port, user: Self.labUser) }
    var knownHostsPath: String { dir + "/known_hosts" }
    var authorizedKeys: String { dir + "/authorized_keys" }

    /// - Parameters:
    ///   - hostKeyTypes: `ssh-keygen -t` values, in the order sshd lists them.
    ///   - extraConfig: more sshd_config lines (e.g. "AllowTcpForwarding no").
    init(hostKeyTypes: [String] = ["ed25519"], extraConfig: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        dir = NSTemporaryDirectory() + "quorum-sshd-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = try freePort()
        clientKey = dir + "/client_ed25519"
        try sh("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "quorum-test-client", "-f", clientKey])
        let authorizedKeys = dir + "/authorized_keys"
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: authorizedKeys)

        var hostKeyLines: [String] = []
        var pubs: [String] = []
        for type in hostKeyTypes {
            let path = dir + "/host_\(type)"
            try sh("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "quorum-test-host", "-f", path])
            hostKeyLines.append("HostKey \(path)")
            pubs.append(path + ".pub")
        }
        hostKeyPubs = pubs

        try Self.ensureLabUser()
        let config =
            [
                "Port \(port)",
                "ListenAddress 127.0.0.1",
                "PidFile \(dir)/sshd.pid",
                "AuthorizedKeysFile \(authorizedKeys)",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                "StrictModes no",
                "LogLevel VERBOSE"
            ] + hostKeyLines + extraConfig
        try (config.joined(separator: "\n") + "\n").write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)

        pid = try spawn(
            "/usr/sbin/sshd", ["-D", "-e", "-f", dir + "/sshd_config"], stdout: dir + "/sshd.log",
            stderr: dir + "/sshd.log")
        for _ in 0..<100 {
            if canConnect(port: port) { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pid = 0
                break
            }
            usleep(50_000)
        }
        throw FixtureError(description: "sshd did not start: " + ((try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? ""))
    }

    static func ensureLabUser() throws {
        if (try? sh("/usr/bin/id", [labUser])) == nil {
            try sh("/usr/sbin/useradd", ["-m", "-s", "/bin/bash", labUser])
        }
        try sh("/usr/sbin/chpasswd", [], input: "\(labUser):\(labPassword)\n")
    }

    /// PIDs of the per-connection sshd processes this server forked (and their children).
    func sessionPIDs() -> [Int32] {
        var result: [Int32] = []
        guard pid > 0 else { return [] }
        var frontier = [pid]
        while let pid = frontier.popLast() {
            let children = ((try? sh("/usr/bin/pgrep", ["-P", String(pid)], allowFailure: true)) ?? "")
                .split(separator: "\n").compactMap { Int32($0) }
            result += children
            frontier += children
        }
        return result
    }

    /// One known_hosts line for this server's first host key.
    func knownHostsLine(keyIndex: Int = 0) throws -> String {
        let pub = try String(contentsOfFile: hostKeyPubs[keyIndex], encoding: .utf8).split(separator: " ")
        return "[127.0.0.1]:\(port) \(pub[0]) \(pub[1])"
    }

    /// `SHA256:...` of a host key, as `ssh-keygen -l` prints it.
    func hostKeyFingerprint(keyIndex: Int = 0) throws -> String {
        let line = try sh("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", hostKeyPubs[keyIndex]])
        return String(line.split(separator: " ")[1])
    }

    func policy(acceptNew: Bool = false) -> HostKeyPolicy {
        HostKeyPolicy(knownHostsFiles: [knownHostsPath], acceptNew: acceptNew, recordFile: knownHostsPath)
    }

    /// Writes known_hosts with this server's key so strict checking passes.
    func trust(keyIndex: Int = 0) throws {
        try (knownHostsLine(keyIndex: keyIndex) + "\n").write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
    }

    func connectRoot(options: SSHOptions = SSHOptions()) async throws -> SSHConnection {
        try trust()
        return try await SSHConnection.connect(
            endpointRoot, auth: [.keyFile(path: clientKey, passphrase: nil)],
            hostKeys: policy(), options: options)
    }

    func log() -> String { (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? "" }

    func stop() {
        let children = sessionPIDs()
        if pid > 0 {
            kill(pid, SIGTERM)
            reap(pid)
            pid = 0
        }
        for pid in children {
            kill(pid, SIGCONT)
            kill(pid, SIGTERM)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    deinit { stop() }
}
