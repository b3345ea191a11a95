import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway RabbitMQ broker (Debian's rabbitmq-server, with the management plugin) for one test: every
/// listener on 127.0.0.1 (AMQP, management, Erlang distribution, its own epmd, the CLI's distribution port),
/// all state in a temporary directory, stopped by PID. Its admin login is a throwaway made for this broker.
final class LoopbackRabbitMQ: @unchecked Sendable {
    static let sbin = "/usr/lib/rabbitmq/bin"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: sbin + "/rabbitmq-server") }

    let directory: URL
    let node: String
    let managementPort: Int
    let adminUser = "quorumadmin"
    let adminPassword = "adm-" + UUID().uuidString
    private let environment: [String: String]
    private var epmd: Process?
    private var server: Process?
    private var serverLog: URL { directory.appending(path: "server.out") }

    var url: String { "http://127.0.0.1:\(managementPort)" }

    /// Starts epmd and the broker; `ready()` waits until it answers.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "quorum-rabbitmq-\(UUID().uuidString)")
        node = "quorumtest\(getpid())@localhost"
        let base = try Self.freePortBlock()
        let amqp = base
        let epmdPort = base + 2
        let dist = base + 3
        managementPort = base + 1
        let home = directory.appending(path: "home")
        for sub in ["home", "mnesia", "log"] {
            try FileManager.default.createDirectory(at: directory.appending(path: sub), withIntermediateDirectories: true)
        }
        let config = """
            listeners.tcp.1 = 127.0.0.1:\(amqp)
            management.tcp.ip = 127.0.0.1
            management.tcp.port = \(managementPort)
            default_user = \(adminUser)
            default_pass = \(adminPassword)
            default_user_tags.administrator = true
            default_permissions.configure = .*
            default_permissions.write = .*
            default_permissions.read = .*

            """
        let configFile = directory.appending(path: "rabbitmq.conf")
        try Data(config.utf8).write(to: configFile)
        chmod(configFile.path, 0o600)
        try Data("[rabbitmq_management].\n".utf8).write(to: directory.appending(path: "enabled_plugins"))
        try Data().write(to: directory.appending(path: "rabbitmq-env.conf"))
        let loopback = "-kernel inet_dist_use_interface {127,0,0,1}"
        environment = [
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "RABBITMQ_CONF_ENV_FILE": directory.appending(path: "rabbitmq-env.conf").path,
            "RABBITMQ_NODENAME": node, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": String(amqp),
            "RABBITMQ_DIST_PORT": String(dist), "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": String(epmdPort),
            "RABBITMQ_CTL_DIST_PORT_MIN": String(base + 10), "RABBITMQ_CTL_DIST_PORT_MAX": String(base + 19),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback, "RABBITMQ_CTL_ERL_ARGS": loopback,
            "RABBITMQ_MNESIA_BASE": directory.appending(path: "mnesia").path, "RABBITMQ_LOG_BASE": directory.appending(path: "log").path,
            "RABBITMQ_LOGS": "-", "RABBITMQ_CONFIG_FILE": configFile.path,
            "RABBITMQ_ADVANCED_CONFIG_FILE": directory.appending(path: "advanced.config").path,
            "RABBITMQ_ENABLED_PLUGINS_FILE": directory.appending(path: "enabled_plugins").path,
            "RABBITMQ_PID_FILE": directory.appending(path: "broker.pid").path
        ]

        // Our own epmd, in the foreground (a child we can stop), before the broker would start a daemon one.
        epmd = try launch("/usr/bin/epmd", ["-port", String(epmdPort), "-address", "127.0.0.1"], log: directory.appending(path: "epmd.out"))
        server = try launch(Self.sbin + "/rabbitmq-server", [], log: serverLog)
    }

    /// Waits (at most `timeout` seconds) until the management API answers. The waits here and in `ctl` sleep
    /// the task instead of the thread: a thread of the tests' shared pool held for the minute an Erlang VM may
    /// take to boot stalls every other test of the process on this 2-core machine, and fails the timed ones.
    func ready(timeout: Duration = .seconds(180)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !managementAnswers() {
            guard ContinuousClock.now < deadline, server?.isRunning == true else {
                let log = (try? String(contentsOf: serverLog, encoding: .utf8)) ?? ""
                stop()
                throw BrokerError("the test broker did not start within \(timeout):\n" + log.suffix(3000))
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    deinit { stop() }

    private func launch(_ path: String, _ arguments: [String], log: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// True once the management listener answers (401 without a login).
    private func managementAnswers() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = Self.loopback(managementPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0
    }

    /// `rabbitmqctl -q ARGS` against this broker: exit status and stdout (stderr appended), bounded in time.
    func ctl(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.sbin + "/rabbitmqctl")
        process.arguments = ["-n", node, "-q"] + arguments
        process.environment = environment
        let out = directory.appending(path: "ctl-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw BrokerError("rabbitmqctl \(arguments.joined(separator: " ")) took more than \(timeout)")
        }
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// Stops the broker (its Erlang VM, by the PID it wrote), then epmd, each within a bounded wait; removes the directory.
    func stop() {
        if let pidText = try? String(contentsOf: directory.appending(path: "broker.pid"), encoding: .utf8),
            let pid = pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            Self.terminate(pid, within: 20)
        }
        if let server, server.isRunning { Self.terminate(server.processIdentifier, within: 5) }
        if let epmd, epmd.isRunning { Self.terminate(epmd.processIdentifier, within: 5) }
        server = nil
        epmd = nil
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGTERM, then SIGKILL when `pid` is still there after `seconds`.
    private static func terminate(_ pid: pid_t, within seconds: TimeInterval) {
        guard kill(pid, SIGTERM) == 0 else { return }
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid || kill(pid, 0) != 0 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        kill(pid, SIGKILL)
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A block of 20 ports on 127.0.0.1, all free now, below 60000 (the CLI's ports are within it).
    private static func freePortBlock() throws -> Int {
        for _ in 0..<50 {
            let base = Int.random(in: 200...2900) * 20
            if (base..<(base + 20)).allSatisfy(isFree) { return base }
        }
        throw BrokerError("no free block of ports on 127.0.0.1")
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

struct BrokerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
