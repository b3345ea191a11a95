import Foundation
import OrderedCollections
import QuorumCore

/// A restart without failed requests (`service: {…, drain: {…}}`): before the service on this host stops, its
/// server is put in `drain` in a backend of every HAProxy of the play (the runtime API on each controller's
/// stats socket: no reload), Quorum waits until that server's sessions reach zero everywhere (bounded), the
/// service restarts, Quorum waits until it answers its health URL from this host, puts the server back to
/// `ready` everywhere, and waits until every HAProxy's own health check sees it `UP` before the next
/// controller may start. A failure after the drain, or the step being cancelled, puts the server back too.
public struct HAProxyDrain: Sendable, Equatable {
    public var backend: String
    public var server: String
    public var socket: String
    /// Hosts whose HAProxy is drained (default: every host of the play).
    public var peers: [String]?
    public var healthURL: String?
    public var timeout: Int

    public static let schema = ArgSchema([
        ArgField("backend", .string, required: true, "HAProxy backend (or listen section) serving this service, e.g. magnum_api"),
        ArgField("server", .string, "this host's server name in that backend (default: the inventory name)"),
        ArgField("socket", .string, "HAProxy's stats socket, level admin (default /run/haproxy/admin.sock)"),
        ArgField("peers", .list(.string), "hosts whose HAProxy serves the backend (default: every host of the play)"),
        ArgField("health_url", .string, "http URL, as this host sees it, that must answer 2xx before the server is put back"),
        ArgField("timeout", .intRange(1...Int.max), default: .int(60), "seconds for each wait: sessions draining, health, HAProxy seeing the server up")
    ])

    public static let field = ArgField(
        "drain", .object(schema),
        "drain this host's server in HAProxy around a restart or stop (every HAProxy of the play, runtime API)")

    public init(
        backend: String, server: String, socket: String = "/run/haproxy/admin.sock", peers: [String]? = nil,
        healthURL: String? = nil, timeout: Int = 60
    ) {
        self.backend = backend
        self.server = server
        self.socket = socket
        self.peers = peers
        self.healthURL = healthURL
        self.timeout = timeout
    }

    /// From the step's `drain:` map; `host` names the server by default.
    public init(_ map: OrderedDictionary<String, Value>, host: String, location: SourceLocation?) throws {
        let arguments = try Self.schema.arguments(rendered: .map(map), kind: "drain", location: location)
        guard let backend = try arguments.string("backend"), !backend.isEmpty else { throw StepFailure("argument `drain.backend` is required") }
        self.backend = backend
        server = try arguments.string("server") ?? host
        socket = try arguments.string("socket") ?? "/run/haproxy/admin.sock"
        peers = try arguments.stringList("peers")
        healthURL = try arguments.string("health_url")
        timeout = try arguments.value(arguments.int, "timeout")
        for name in [backend, server] where !Self.isName(name) {
            throw StepFailure("invalid HAProxy name `\(name)` in `drain` (letters, digits, `-_.:`)")
        }
        if let healthURL, !(healthURL.hasPrefix("http://") || healthURL.hasPrefix("https://")) {
            throw StepFailure("`drain.health_url` must be an http(s) URL, got `\(healthURL)`")
        }
    }

    /// HAProxy proxy and server names: no spaces or slashes, which the runtime API would misread.
    static func isName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0)
            }
    }

    /// Runs `body` (the restart) with this host's server drained on every HAProxy of the play.
    public func around<T: Sendable>(_ context: StepContext, _ body: () async throws -> T) async throws -> T {
        let hosts = peers ?? (context.playHosts.isEmpty ? [context.host] : context.playHosts)
        var remotes: [(String, any Remote)] = []
        for host in hosts { remotes.append((host, host == context.host ? context.remote : try await context.peer(host))) }
        try await setState("drain", on: remotes)
        do {
            try await waitUntil(remotes, "its sessions on every HAProxy reach zero") { $0.sessions == 0 }
            let value = try await body()
            if let healthURL { try await waitForHealth(healthURL, on: context.remote) }
            try await setState("ready", on: remotes)
            try await waitUntil(remotes, "every HAProxy sees it UP") { $0.status.hasPrefix("UP") || $0.status == "no check" }
            return value
        } catch {
            // Whatever failed (or cancelled the step), the server must not stay drained.
            try? await setState("ready", on: remotes)
            throw error
        }
    }

    /// One server's line of `show stat` on one HAProxy; nil when that HAProxy is not running there.
    struct ServerState: Equatable {
        var sessions: Int
        var status: String
    }

    /// The runtime API client, run on the controller by python3 (present wherever OpenStack runs): ACTION is
    /// `state` (prints "SESSIONS STATUS" of the server, or `absent`) or a state to set (drain, ready, maint).
    static let runtimeScript = #"""
        import socket, sys
        path, backend, server, action = sys.argv[1:5]
        def ask(command):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(path)
            except (FileNotFoundError, ConnectionRefusedError):
                print("no-haproxy"); sys.exit(0)
            s.sendall((command + "\n").encode())
            out = b""
            while True:
                data = s.recv(65536)
                if not data: break
                out += data
            return out.decode()
        if action == "state":
            for line in ask("show stat").splitlines():
                f = line.split(",")
                if len(f) > 17 and f[0] == backend and f[1] == server:
                    print(f[4], f[17]); sys.exit(0)
            print("absent"); sys.exit(0)
        answer = ask("set server %s/%s state %s" % (backend, server, action)).strip()
        if answer and answer != "no-haproxy":
            print(answer); sys.exit(1)
        """#

    func command(_ action: String) -> String {
        "python3 -c " + Shell.quote(Self.runtimeScript) + " " + [socket, backend, server, action].map(Shell.quote).joined(separator: " ")
    }

    func state(on remote: any Remote, host: String) async throws -> ServerState? {
        let result = try await remote.probe(command("state"))
        let text = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded else {
            throw StepFailure("cannot read HAProxy's state of \(backend)/\(server) on \(host)", detail: result.stderrText)
        }
        if text == "no-haproxy" { return nil }
        let fields = text.split(separator: " ", maxSplits: 1).map(String.init)
        guard fields.count == 2, let sessions = Int(fields[0]) else {
            throw StepFailure("HAProxy on \(host) has no server \(server) in backend \(backend)")
        }
        return ServerState(sessions: sessions, status: fields[1])
    }

    func setState(_ state: String, on remotes: [(String, any Remote)]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (host, remote) in remotes {
                group.addTask {
                    let result = try await remote.change(self.command(state))
                    guard result.succeeded else {
                        throw StepFailure(
                            "HAProxy on \(host) refused `set server \(self.backend)/\(self.server) state \(state)`",
                            detail: (result.stdoutText + result.stderrText).trimmingCharacters(in: .whitespacesAndNewlines))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Polls every HAProxy (a stopped one counts as satisfied: it serves nothing) until `satisfied`, bounded.
    func waitUntil(
        _ remotes: [(String, any Remote)], _ what: String,
        _ satisfied: @escaping @Sendable (ServerState) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            var waiting: [String] = []
            for (host, remote) in remotes {
                if let state = try await state(on: remote, host: host), !satisfied(state) {
                    waiting.append("\(host) (\(state.sessions) sessions, \(state.status))")
                }
            }
            if waiting.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw StepFailure("\(backend)/\(server): timed out after \(timeout)s waiting until \(what): still \(waiting.joined(separator: ", "))")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Waits until `url` answers 2xx from the host itself (python3's urllib, bounded).
    func waitForHealth(_ url: String, on remote: any Remote) async throws {
        let script = """
            python3 -c 'import sys, time, urllib.request
            end = time.time() + int(sys.argv[2]); last = ""
            while time.time() < end:
                try:
                    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
                        if 200 <= r.status < 300: sys.exit(0)
                        last = "HTTP %d" % r.status
                except Exception as e:
                    last = str(e)
                time.sleep(0.5)
            print(last); sys.exit(1)' \(Shell.quote(url)) \(timeout)
            """
        let result = try await remote.probe(script)
        guard result.succeeded else {
            throw StepFailure(
                "\(url) did not answer within \(timeout)s after the restart",
                detail: result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
