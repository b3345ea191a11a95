import Foundation
import OrderedCollections
import QuorumCore

/// `haproxy_reload`: a hitless reload of the HAProxy running on this host in master-worker mode (`-W`, `-Ws` or
/// `master-worker`), wherever it runs from — a Pacemaker clone, systemd, by hand. A handler: it always acts when
/// it runs.
/// 1. `haproxy -c` on the whole configuration (`config`: the `-f` files and directories): invalid, the step fails
///    with HAProxy's message and nothing else happens.
/// 2. The master: the process named by `pidfile`, else the oldest `haproxy` whose parent is not `haproxy`. None
///    running: skipped (HAProxy reads the new configuration when it starts). A master that is not master-worker
///    fails (a reload would not be hitless: use the toggle), and so does one loading other `-f` files than the
///    ones validated.
/// 3. SIGUSR2 to the master: it loads the configuration again and forks a new worker, which takes over the
///    listening sockets; the old workers stop accepting and finish their sessions, then exit.
/// 4. A bounded wait (`timeout`) until a new worker runs — a child of the master started after the signal — and,
///    through the stats socket or master CLI (`socket`, default: the configuration's `stats socket`), serves every
///    frontend and listen section of the configuration (`frontends` to name them instead).
/// Check mode reads the process table only: it predicts the reload, validates nothing, sends no signal.
public struct HAProxyReloadStep: StepKind {
    public static let name = "haproxy_reload"
    public static let summary =
        "Hitless reload of a running master-worker HAProxy (validate, SIGUSR2 to the master, wait until a new worker serves), as a handler"
    public static let defaultConfig = ["/etc/haproxy/haproxy.cfg", "/etc/haproxy/conf.d"]
    public static let schema = ArgSchema([
        ArgField(
            "config", .list(.absolutePath),
            "the -f files and directories HAProxy loads, validated with `haproxy -c` before anything else (default /etc/haproxy/haproxy.cfg and /etc/haproxy/conf.d)"
        ),
        ArgField(
            "socket", .absolutePath,
            "HAProxy's stats socket or master CLI (unix path) through which the new worker is asked what it serves (default: the configuration's `stats socket`; none: only the new worker is waited for)"
        ),
        ArgField("pidfile", .absolutePath, "the master's pidfile (default: the oldest haproxy process whose parent is not haproxy)"),
        ArgField("frontends", .list(.string), "frontend or listen sections the new worker must serve (default: every one in the configuration)"),
        ArgField("timeout", .intRange(1...3600), default: .int(60), "seconds to wait until a new worker serves")
    ])

    public let config: [String]
    public let socket: String?
    public let pidfile: String?
    public let frontends: [String]?
    public let timeout: Int

    public init(checked arguments: Arguments) throws {
        config = try arguments.stringList("config") ?? Self.defaultConfig
        socket = try arguments.string("socket")
        pidfile = try arguments.string("pidfile")
        frontends = try arguments.stringList("frontends")
        timeout = try arguments.value(arguments.int, "timeout")
        guard !config.isEmpty else { throw StepFailure("argument `config` must name at least one file or directory") }
        let paths = config.map { ("config", $0) } + [("socket", socket), ("pidfile", pidfile)].compactMap { name, path in path.map { (name, $0) } }
        for (name, path) in paths where path.contains("\n") {
            throw StepFailure("argument `\(name)` must be an absolute path on one line, got `\(path)`")
        }
        for name in frontends ?? [] where !HAProxyDrain.isName(name) {
            throw StepFailure("invalid HAProxy section name `\(name)` in `frontends` (letters, digits, `-_.:`)")
        }
    }

    // MARK: what runs on the host

    /// One haproxy process as the host's process table shows it.
    struct RunningProcess: Codable, Equatable {
        var pid: Int
        var ppid: Int
        /// Start time in clock ticks since boot (`/proc/PID/stat`, field 22).
        var start: Int
        /// The parent's process name.
        var parent: String
        var cmdline: [String]
    }

    /// What `inspect` found: haproxy processes, and what the configuration declares.
    struct Inspection: Codable, Equatable {
        var processes: [RunningProcess]
        /// `frontend` and `listen` section names, in load order.
        var proxies: [String]
        /// The first `stats socket` of the configuration, when it is a unix socket.
        var socket: String?
        /// A `master-worker` line in the configuration.
        var masterWorker: Bool
        /// The pid the pidfile names (nil without a pidfile, or when it is missing or unreadable).
        var pidfilePid: Int?

        enum CodingKeys: String, CodingKey {
            case processes, proxies, socket
            case masterWorker = "master_worker"
            case pidfilePid = "pidfile_pid"
        }
    }

    /// What `reload` saw: the new worker, the proxies it did not serve (yet), old workers still finishing.
    struct Reload: Codable, Equatable {
        var new: Int?
        var missing: [String]
        var oldRunning: [Int]
        var last: String

        enum CodingKeys: String, CodingKey {
            case new, missing, last
            case oldRunning = "old_running"
        }
    }

    /// Run by python3 on the host (present wherever OpenStack runs):
    /// `inspect PIDFILE CONFIG…` prints an `Inspection`;
    /// `reload MASTER START TIMEOUT SOCKET OLD FRONTEND…` (OLD: comma-separated pids, SOCKET may be empty) checks
    /// that MASTER is still the haproxy started at START, sends it SIGUSR2 and prints a `Reload` (exit 0: a new
    /// worker serves every FRONTEND).
    static let script = #"""
        import json, os, signal, socket, sys, time

        def stat(pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    head, _, tail = f.read().rpartition(")")
                rest = tail.split()
                return {"pid": pid, "comm": head.partition("(")[2], "state": rest[0], "ppid": int(rest[1]), "start": int(rest[19])}
            except (OSError, ValueError, IndexError):
                return None

        def table():
            procs = (stat(int(n)) for n in os.listdir("/proc") if n.isdigit())
            return {p["pid"]: p for p in procs if p and p["state"] != "Z"}

        def cmdline(pid):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    return f.read().decode(errors="replace").split("\0")[:-1]
            except OSError:
                return []

        def inspect(pidfile, paths):
            procs = table()
            found = [{"pid": p["pid"], "ppid": p["ppid"], "start": p["start"], "cmdline": cmdline(p["pid"]),
                      "parent": procs[p["ppid"]]["comm"] if p["ppid"] in procs else ""}
                     for p in procs.values() if p["comm"] == "haproxy"]
            files = []
            for path in paths:   # HAProxy loads a directory's *.cfg files in lexical order
                if os.path.isdir(path):
                    files += [os.path.join(path, n) for n in sorted(os.listdir(path))
                              if n.endswith(".cfg") and os.path.isfile(os.path.join(path, n))]
                else:
                    files.append(path)
            proxies, sock, mw = [], None, False
            for path in files:
                try:
                    with open(path, errors="replace") as f:
                        lines = f.read().splitlines()
                except OSError:
                    continue
                for line in lines:
                    words = line.split("#", 1)[0].split()
                    if len(words) > 1 and words[0] in ("frontend", "listen"):
                        proxies += [words[1]] if words[1] not in proxies else []
                    elif len(words) > 2 and words[:2] == ["stats", "socket"] and sock is None:
                        where = words[2][5:] if words[2].startswith("unix@") else words[2]
                        sock = where if where.startswith("/") else ""
                    elif words[:1] == ["master-worker"]:
                        mw = True
            pid = None
            if pidfile:
                try:
                    with open(pidfile) as f:
                        pid = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pid = None
            print(json.dumps({"processes": found, "proxies": proxies, "socket": sock or None, "master_worker": mw,
                              "pidfile_pid": pid}))

        def ask(path, command):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(path)
                s.sendall((command + "\n").encode())
                s.shutdown(socket.SHUT_WR)
                out = b""
                while True:
                    data = s.recv(65536)
                    if not data:
                        return out.decode(errors="replace")
                    out += data
            finally:
                s.close()

        def served(path, worker, master_cli):
            # The master CLI reaches a worker by pid; a stats socket answers for whichever worker accepted.
            if master_cli:
                by, prefix = worker, "@!%d " % worker
            else:
                by, prefix = None, ""
                for line in ask(path, "show info").splitlines():
                    if line.startswith("Pid:"):
                        by = int(line.split(":", 1)[1])
            rows = ask(path, prefix + "show stat").splitlines()
            return by, {row.split(",", 1)[0] for row in rows if row and not row.startswith("#")}

        def reload(master, start, timeout, path, old, proxies):
            p = stat(master)
            if not p or p["comm"] != "haproxy" or p["start"] != start:
                print(json.dumps({"new": None, "missing": proxies, "old_running": [], "last": "master %d is gone" % master}))
                sys.exit(1)
            with open("/proc/uptime") as f:
                signalled = float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK")
            os.kill(master, signal.SIGUSR2)
            deadline = time.time() + timeout
            new, missing, last, master_cli = None, proxies, "no new worker", None
            while True:
                procs = table()
                if master not in procs:
                    last = "the master exited"
                    break
                fresh = [q for q in procs.values() if q["ppid"] == master and q["comm"] == "haproxy"
                         and q["pid"] not in old and q["start"] >= signalled - 1]
                if fresh:
                    new = max(fresh, key=lambda q: (q["start"], q["pid"]))["pid"]
                    if not path or not proxies:
                        missing = []
                        break
                    try:
                        if master_cli is None:
                            master_cli = ask(path, "show proc").startswith("#")
                        by, names = served(path, new, master_cli)
                        if by == new:
                            missing = [x for x in proxies if x not in names]
                            if not missing:
                                break
                            last = "worker %d does not serve %s" % (new, ", ".join(missing))
                        else:
                            last = "%s still answers for worker %s" % (path, by)
                    except OSError as e:
                        last = "%s: %s" % (path, e)
                if time.time() >= deadline:
                    break
                time.sleep(0.2)
            procs = table()
            running = [pid for pid in old if pid in procs and procs[pid]["ppid"] == master]
            print(json.dumps({"new": new, "missing": missing, "old_running": running, "last": last}))
            sys.exit(0 if new and not missing else 1)

        if sys.argv[1] == "inspect":
            inspect(sys.argv[2], sys.argv[3:])
        else:
            old = [int(x) for x in sys.argv[6].split(",") if x]
            reload(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], old, sys.argv[7:])
        """#

    static let path = "PATH=\"$PATH:/usr/sbin:/sbin\"; export PATH"

    func command(_ words: [String]) -> String {
        "python3 -c " + Shell.quote(Self.script) + " " + Shell.join(words)
    }

    // MARK: decisions (pure, on what `inspect` found)

    /// The master: the pidfile's process when given (nil when it names no running haproxy), else the oldest
    /// haproxy whose parent is not haproxy.
    static func master(of inspection: Inspection, pidfile: Bool) -> RunningProcess? {
        if pidfile { return inspection.processes.first { $0.pid == inspection.pidfilePid } }
        return inspection.processes.filter { $0.parent != "haproxy" }.min { ($0.start, $0.pid) < ($1.start, $1.pid) }
    }

    static func workers(of master: RunningProcess, in inspection: Inspection) -> [Int] {
        inspection.processes.filter { $0.ppid == master.pid }.map(\.pid).sorted()
    }

    /// The `-f` arguments of a command line (`-f X` or `-fX`).
    static func configFiles(_ cmdline: [String]) -> [String] {
        var files: [String] = []
        var index = cmdline.startIndex + 1
        while index < cmdline.endIndex {
            let word = cmdline[index]
            if word == "-f", index + 1 < cmdline.endIndex {
                files.append(cmdline[index + 1])
                index += 1
            } else if word.hasPrefix("-f"), word.count > 2 {
                files.append(String(word.dropFirst(2)))
            }
            index += 1
        }
        return files
    }

    static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// Why a reload of `master` would not be the hitless reload of the validated configuration, nil when it would.
    func refusal(_ master: RunningProcess, _ inspection: Inspection) -> String? {
        let line = master.cmdline.joined(separator: " ")
        guard master.cmdline.contains("-W") || master.cmdline.contains("-Ws") || inspection.masterWorker else {
            return "HAProxy (pid \(master.pid), `\(line)`) is not in master-worker mode (no -W, no `master-worker`): "
                + "it has no master to start a new worker on SIGUSR2, so a reload would not be hitless; "
                + "restart it by toggling its Pacemaker resource (haproxy_restart: toggle), or run HAProxy with -W"
        }
        let loaded = Self.configFiles(master.cmdline)
        if !loaded.isEmpty, loaded.allSatisfy({ $0.hasPrefix("/") }), loaded.map(Self.normalized) != config.map(Self.normalized) {
            return "HAProxy (pid \(master.pid)) loads \(loaded.joined(separator: " ")), but `config` validates "
                + "\(config.joined(separator: " ")): set `config` to the files HAProxy loads"
        }
        return nil
    }

    // MARK: run

    /// The running master and its workers, nil when no HAProxy runs; throws when a reload would not be hitless.
    func target(_ context: StepContext) async throws -> (master: RunningProcess, workers: [Int], inspection: Inspection)? {
        let result = try await context.remote.probe(command(["inspect", pidfile ?? ""] + config), stdin: [], timeout: .seconds(60))
        guard result.succeeded,
            let inspection = try? JSONDecoder().decode(Inspection.self, from: Data(result.stdout))
        else {
            throw StepFailure(
                "cannot read the host's haproxy processes (exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
        guard let master = Self.master(of: inspection, pidfile: pidfile != nil) else { return nil }
        if let refusal = refusal(master, inspection) { throw StepFailure(refusal) }
        return (master, Self.workers(of: master, in: inspection), inspection)
    }

    func validate(_ context: StepContext) async throws {
        let words = ["haproxy", "-c"] + config.flatMap { ["-f", $0] }
        let result = try await context.remote.probe(Self.path + "\n" + Shell.join(words) + " 2>&1", stdin: [], timeout: .seconds(120))
        guard result.succeeded else {
            throw StepFailure(
                "HAProxy's configuration is invalid (`\(words.joined(separator: " "))`, exit \(result.status)): nothing reloaded",
                detail: (result.stdoutText + result.stderrText).trimmingTrailingWhitespace())
        }
    }

    static func pids(_ pids: [Int]) -> String {
        (pids.count == 1 ? "worker " : "workers ") + pids.map(String.init).joined(separator: ", ")
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        if !context.check { try await validate(context) }
        guard let (master, workers, inspection) = try await target(context) else {
            let what = pidfile.map { "no haproxy runs as the pid in \($0)" } ?? "no haproxy runs here"
            return .skipped("\(what): nothing to reload (HAProxy reads the configuration when it starts)")
        }
        let subject = "haproxy (master \(master.pid))"
        let before = workers.isEmpty ? "no worker" : Self.pids(workers)
        if context.check {
            return StepOutcome(
                changed: true, diffs: [Diff(subject: subject, before: before, after: "reloaded (a new worker)")],
                message: "would validate the configuration and reload HAProxy (master \(master.pid), \(before)) with SIGUSR2")
        }
        let socket = self.socket ?? inspection.socket ?? ""
        let proxies = socket.isEmpty ? [] : frontends ?? inspection.proxies
        let words =
            [
                "reload", String(master.pid), String(master.start), String(timeout), socket,
                workers.map(String.init).joined(separator: ",")
            ] + proxies
        let result = try await context.remote.change(command(words), stdin: [], timeout: .seconds(timeout + 60))
        guard let reload = try? JSONDecoder().decode(Reload.self, from: Data(result.stdout)) else {
            throw StepFailure(
                "the reload of HAProxy (master \(master.pid)) failed (exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
        guard result.succeeded, let new = reload.new else {
            let what = reload.new.map { "worker \($0) did not serve \(reload.missing.joined(separator: ", "))" } ?? "no new worker started"
            throw StepFailure(
                "HAProxy (master \(master.pid)) got SIGUSR2 but \(what) within \(timeout)s: \(reload.last)"
                    + (reload.new == nil ? " (the master keeps the old workers when it cannot load the configuration: see its log)" : ""))
        }
        let finishing = reload.oldRunning.count == 1 ? "finishing its sessions" : "finishing their sessions"
        let old =
            workers.isEmpty
            ? ""
            : "; old " + Self.pids(workers)
                + (reload.oldRunning.isEmpty
                    ? " gone"
                    : reload.oldRunning == workers ? " " + finishing : " (\(reload.oldRunning.map(String.init).joined(separator: ", ")) \(finishing))")
        let serves =
            proxies.isEmpty
            ? (socket.isEmpty ? " (no stats socket: what it serves was not asked)" : "")
            : " serving " + proxies.joined(separator: ", ")
        return StepOutcome(
            changed: true, diffs: [Diff(subject: subject, before: before, after: "worker \(new)")],
            message: "reloaded HAProxy (master \(master.pid)): new worker \(new)\(serves)\(old)",
            result: ["master": .int(master.pid), "old_workers": .list(workers.map { .int($0) }), "new_worker": .int(new)])
    }
}
