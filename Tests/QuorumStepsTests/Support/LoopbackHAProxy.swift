import Foundation
import QuorumCore
import QuorumHTTP
import QuorumTesting
import Synchronization

/// HAProxy (Debian's, from the lab's packages) on loopback in front of one Python HTTP server, with an admin
/// stats socket in a temporary folder: started per test, killed by PID. `masterWorker` runs it as the lab does
/// (`-W -db`, pidfile `haproxy.pid`, the stats socket exposing the listeners); else as one process (`-db`).
/// The backend answers `GET /` at once and `GET /slow` once the file `release` exists in the folder. Timeouts
/// are long and a server is DOWN after three failed checks: a machine busy with other tests must not make
/// HAProxy drop a request (the reload's tests count them).
final class LoopbackHAProxy {
    let folder: String
    let socket: String
    let config: String
    let pidfile: String
    let backendPort: Int
    /// The port of the `test_api` listen section.
    let frontendPort: Int
    /// A free port for a section a test adds.
    let sparePort: Int
    let haproxy: Process
    var processes: [Process] = []

    init(masterWorker: Bool = false) throws {
        folder = NSTemporaryDirectory() + "quorum-haproxy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        socket = folder + "/admin.sock"
        config = folder + "/haproxy.cfg"
        pidfile = folder + "/haproxy.pid"
        let backend = Process()
        backend.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        backend.arguments = [
            "-c",
            """
            import http.server, os, socket, sys, time
            release = sys.argv[1]
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path == "/slow":
                        while not os.path.exists(release): time.sleep(0.05)
                    self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"OK")
                def log_message(self, *a): pass
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
            free = [socket.socket() for _ in range(2)]
            for f in free: f.bind(("127.0.0.1", 0))
            print(s.server_address[1], *[f.getsockname()[1] for f in free], flush=True)
            for f in free: f.close()
            s.serve_forever()
            """, folder + "/release"
        ]
        let pipe = Pipe()
        backend.standardOutput = pipe
        backend.standardError = FileHandle.nullDevice  // a leaked child must not hold the test runner's output open
        try backend.run()
        processes.append(backend)
        var line = ""
        while !line.hasSuffix("\n") {  // the three ports, on one line that may arrive in pieces
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let ports = line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard ports.count == 3 else {
            backend.terminate()
            backend.waitUntilExit()
            throw StepFailure("no backend port: \(line)")
        }
        (backendPort, frontendPort, sparePort) = (ports[0], ports[1], ports[2])
        let text = """
            global
                stats socket \(socket) mode 600 level admin\(masterWorker ? " expose-fd listeners" : "")
            defaults
                mode http
                timeout connect 2s
                timeout client 300s
                timeout server 300s
                timeout check 10s
            listen test_api
                bind 127.0.0.1:\(frontendPort)
                option httpchk GET /
                server s1 127.0.0.1:\(backendPort) check inter 300 rise 1 fall 3
            """
        try (text + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = (masterWorker ? ["-W", "-db", "-p", pidfile] : ["-db"]) + ["-f", config]
        _ = FileManager.default.createFile(atPath: folder + "/haproxy.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/haproxy.log"))
        haproxy.standardOutput = log
        haproxy.standardError = log
        try haproxy.run()
        processes.append(haproxy)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
        guard FileManager.default.fileExists(atPath: socket) else {
            let log = self.log
            stop()
            throw StepFailure("HAProxy did not start", detail: log)
        }
        // A single process writes no pidfile: the test's own, for steps that take one.
        if !masterWorker { try "\(haproxy.processIdentifier)\n".write(toFile: pidfile, atomically: true, encoding: .utf8) }
    }

    var log: String { (try? String(contentsOfFile: folder + "/haproxy.log", encoding: .utf8)) ?? "" }

    /// Adds lines to the configuration (a new section, or a broken one).
    func append(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: config))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + text + "\n").utf8))
    }

    /// The master's haproxy children (its workers, old ones included), from /proc.
    func workers() -> [Int32] {
        let master = haproxy.processIdentifier
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        return pids.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.range(of: ")", options: .backwards)
            else { return false }
            let fields = stat[close.upperBound...].split(separator: " ")
            return stat.contains("(haproxy)") && fields.count > 1 && fields[0] != "Z" && Int32(fields[1]) == master
        }.sorted()
    }

    func stop() {
        // The master's workers first (a killed master leaves them to init), then what this fixture started.
        for worker in workers() { kill(worker, SIGKILL) }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
