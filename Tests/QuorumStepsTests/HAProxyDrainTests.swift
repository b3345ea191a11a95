import Foundation
import QuorumCore
import Synchronization
import Testing
@testable import QuorumSteps

/// A Remote that runs scripts on this machine with /bin/sh: the drain's runtime-API client against a real
/// HAProxy on loopback.
private final class LocalRemote: Remote, Sendable {
    let host = "local"
    let isReadOnly = false
    let scripts = Mutex<[String]>([])

    func run(_ script: String) throws -> CommandResult {
        scripts.withLock { $0.append(script) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(stdout: Array(stdout), stderr: Array(stderr), status: process.terminationStatus)
    }

    func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult { try run(script) }
    func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult { try run(script) }
    func stat(_ path: String) async throws -> FileInfo? { nil }
    func readFile(_ path: String) async throws -> RemoteFile? { nil }
    func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        throw StepFailure("LocalRemote writes no files")
    }
    func tunnel(to host: String, port: Int) async throws -> Int { throw StepFailure("LocalRemote has no tunnels") }
}

/// HAProxy (Debian's, from the lab's packages) on loopback in front of one Python HTTP server, with an admin
/// stats socket in a temporary folder: started per test, killed by PID.
private final class LoopbackHAProxy {
    let folder: String
    let socket: String
    let backendPort: Int
    var processes: [Process] = []

    init() throws {
        folder = NSTemporaryDirectory() + "quorum-drain-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        socket = folder + "/admin.sock"
        let backend = Process()
        backend.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        backend.arguments = ["-c", """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"OK")
                def log_message(self, *a): pass
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
            import socket
            free = socket.socket(); free.bind(("127.0.0.1", 0)); frontend = free.getsockname()[1]; free.close()
            print(s.server_address[1], frontend, flush=True)
            s.serve_forever()
            """]
        let pipe = Pipe()
        backend.standardOutput = pipe
        backend.standardError = FileHandle.nullDevice   // a leaked child must not hold the test runner's output open
        try backend.run()
        processes.append(backend)
        var line = ""
        while !line.hasSuffix("\n") {   // the two ports, on one line that may arrive in pieces
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let ports = line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard ports.count == 2 else {
            backend.terminate()
            backend.waitUntilExit()
            throw StepFailure("no backend port: \(line)")
        }
        let port = ports[0]
        backendPort = port
        let config = """
            global
                stats socket \(socket) mode 600 level admin
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            listen test_api
                bind 127.0.0.1:\(ports[1])
                option httpchk GET /
                server s1 127.0.0.1:\(port) check inter 300 rise 1 fall 1
            """
        try (config + "\n").write(toFile: folder + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-db", "-f", folder + "/haproxy.cfg"]
        FileManager.default.createFile(atPath: folder + "/haproxy.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/haproxy.log"))
        haproxy.standardOutput = log
        haproxy.standardError = log
        try haproxy.run()
        processes.append(haproxy)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
        guard FileManager.default.fileExists(atPath: socket) else {
            let log = (try? String(contentsOfFile: folder + "/haproxy.log", encoding: .utf8)) ?? ""
            stop()
            throw StepFailure("HAProxy did not start", detail: log)
        }
    }

    func stop() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite(.serialized) struct HAProxyDrainTests {
    static let haveHAProxy = FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")

    private func context(_ remote: LocalRemote) -> StepContext {
        StepContext(remote: remote, host: "local", check: false, wantsDiff: false, variables: [:], templates: TemplateRenderer(),
                    files: FileResolver(searchPath: []), location: nil, playHosts: ["local"])
    }

    private func drain(_ haproxy: LoopbackHAProxy, health: Bool = true) -> HAProxyDrain {
        HAProxyDrain(backend: "test_api", server: "s1", socket: haproxy.socket,
                     healthURL: health ? "http://127.0.0.1:\(haproxy.backendPort)/" : nil, timeout: 10)
    }

    @Test(.enabled(if: haveHAProxy)) func drainsDuringTheBodyAndPutsTheServerBack() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalRemote()
        let drain = drain(haproxy)
        // UP before (HAProxy's first check passes within a second).
        for _ in 0..<40 {
            if try await drain.state(on: remote, host: "local")?.status.hasPrefix("UP") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let before = try #require(try await drain.state(on: remote, host: "local"), "HAProxy is not running")
        #expect(before.status == "UP")
        let during = try await drain.around(context(remote)) { try await drain.state(on: remote, host: "local") }
        #expect(during?.status == "DRAIN", "\(String(describing: during))")
        let after = try await drain.state(on: remote, host: "local")
        #expect(after?.status == "UP")
        #expect(remote.scripts.withLock { $0 }.contains { $0.contains("urllib.request") }, "the health URL was not asked")
    }

    @Test(.enabled(if: haveHAProxy)) func aFailureAfterTheDrainPutsTheServerBack() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalRemote()
        let drain = drain(haproxy, health: false)
        await #expect(throws: StepFailure.self) {
            try await drain.around(context(remote)) {
                let during = try await drain.state(on: remote, host: "local")
                #expect(during?.status == "DRAIN", "\(String(describing: during))")
                throw StepFailure("the restart failed")
            }
        }
        let after = try #require(try await drain.state(on: remote, host: "local"), "HAProxy is not running")
        #expect(after.status != "DRAIN" && after.status != "MAINT", "\(after)")
    }

    @Test(.enabled(if: haveHAProxy)) func unknownServerIsNamed() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalRemote()
        let wrong = HAProxyDrain(backend: "test_api", server: "nope", socket: haproxy.socket, timeout: 2)
        let error = await #expect(throws: StepFailure.self) { try await wrong.around(context(remote)) { 0 } }
        #expect(error?.description.contains("nope") == true, "\(String(describing: error))")
    }

    @Test func argumentsAreChecked() throws {
        #expect(throws: StepFailure.self) { try HAProxyDrain(["server": .string("s1")], host: "h", location: nil) }
        #expect(throws: StepFailure.self) { try HAProxyDrain(["backend": .string("a b")], host: "h", location: nil) }
        #expect(throws: StepFailure.self) { try HAProxyDrain(["backend": .string("b"), "bogus": .int(1)], host: "h", location: nil) }
        let parsed = try HAProxyDrain(["backend": .string("magnum_api")], host: "ctl2", location: nil)
        #expect(parsed.server == "ctl2" && parsed.socket == "/run/haproxy/admin.sock" && parsed.timeout == 60)
    }
}
