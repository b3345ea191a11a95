import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumSteps

private func context(_ remote: any Remote, check: Bool = false, planned: PlannedObjects = PlannedObjects()) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil,
        planned: planned)
}

private let conf = "/etc/magnum/magnum.conf"
private let defaults = "/etc/default/magnum-api"

/// `service: {name: magnum-api, state: started, restart_if_older_than: FILES, …}` with `extra` arguments.
private func magnumAPI(_ files: [String], _ extra: [(String, Value)] = [("pidfile", .string("/run/magnum/magnum-api.pid"))]) throws -> ServiceStep {
    let values: [(String, Value)] =
        [
            ("name", .string("magnum-api")), ("state", .string("started")),
            ("restart_if_older_than", .list(files.map(Value.string)))
        ] + extra
    return try ServiceStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

/// A controller running magnum-api (SysV with its pid file, or systemd): the main process started at `started`
/// (seconds since the epoch), the files last changed at `mtimes`. Answers the service step's probe as /proc,
/// getconf, date and stat would there (booted at `boot`, 100 ticks a second, the time now `now`), its change
/// scripts (a start or restart starts the process 5 s later) and HAProxy's runtime API (drain: `0 UP`).
private final class StaleHost: Sendable {
    struct State {
        var running = true
        var started = 1_796_223_601.0  // 2026-12-02T15:00:01Z
        var now = 1_796_224_000.0
        var mtimes: [String: Double] = [:]
        var pidfile: String? = "/run/magnum/magnum-api.pid"
        var comm = "magnum-api"
        var actions: [String] = []
    }
    static let boot = 1_796_000_000.0
    let state = Mutex(State())
    let systemd: Bool

    init(systemd: Bool = false) { self.systemd = systemd }

    func handle(_ script: String) -> CommandResult {
        if script.hasPrefix("python3 -c") {
            let action = script.split(separator: " ").last.map(String.init) ?? ""
            if action == "state" { return CommandResult(stdout: Array("0 UP\n".utf8)) }
            state.withLock { $0.actions.append(action) }
            return CommandResult()
        }
        if script.hasPrefix("if [ -d /run/systemd/system ]") { return CommandResult(stdout: Array(probe(script).utf8)) }
        for action in ["start", "restart"]
        where script.contains("systemctl \(action) magnum-api") || script.contains("service magnum-api \(action) ") {
            state.withLock {
                $0.actions.append(action)
                $0.running = true
                $0.now += 5
                $0.started = $0.now
            }
        }
        return CommandResult()
    }

    private func probe(_ script: String) -> String {
        let s = state.withLock { $0 }
        var out =
            systemd
            ? "manager=systemd\nload=loaded\nactive=\(s.running ? "active" : "inactive")\nenabled=enabled\n"
            : "manager=sysv\nload=loaded\nstatus=\(s.running ? 0 : 3)\nenabled=yes\n"
        guard script.contains("pid=") else { return out + (systemd ? "" : "--output--\n") }
        var pid = ""
        if systemd {
            pid = s.running ? "4242" : ""  // MainPID=0 reads as none
        } else if let pidfile = s.pidfile, let index = Self.pidfiles(script).firstIndex(of: pidfile) {
            out += "pidfile=\(index + 1)\n"
            pid = "4242"
        }
        out += "pid=\(pid)\n"
        if !pid.isEmpty, s.running {
            let fields = ["S", "1", pid, pid, "0", "-1", "4194560", "100", "0", "0", "0", "5", "3", "0", "0", "20", "0", "1", "0"]
            let ticks = Int(((s.started - Self.boot) * 100).rounded())
            out += "stat=\(pid) (\(s.comm)) \(fields.joined(separator: " ")) \(ticks) 1234567 2048 18446744073709551615 \n"
            out += "ticks=100\nuptime=\(String(format: "%.2f", s.now - Self.boot))\nnow=\(String(format: "%.9f", s.now))\n"
        }
        for (index, path) in Self.files(script).enumerated() {
            if let mtime = s.mtimes[path] { out += "mtime\(index + 1)=\(String(format: "%.9f", mtime))\n" }
        }
        return out + (systemd ? "" : "--output--\n * magnum-api is \(s.running ? "" : "not ")running\n")
    }

    /// The pid files the probe tries, in order (`for f in A B C; do`).
    static func pidfiles(_ script: String) -> [String] {
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix("pid=; i=0; for f in ") }),
            let start = line.range(of: "for f in "), let end = line.range(of: "; do")
        else { return [] }
        return line[start.upperBound..<end.lowerBound].split(separator: " ").map(String.init)
    }

    /// The files the probe reads, in order (`if [ -e PATH ]; then printf 'mtimeN=…`).
    static func files(_ script: String) -> [String] {
        script.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("if [ -e "), line.contains("printf 'mtime"), let end = line.range(of: " ]; then") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 8)..<end.lowerBound])
        }
    }
}

@Suite struct ServiceFreshnessTests {
    private func host(_ configure: (inout StaleHost.State) -> Void = { _ in }, systemd: Bool = false) -> (StaleHost, FakeRemote) {
        let host = StaleHost(systemd: systemd)
        var state = StaleHost.State()
        configure(&state)
        host.state.withLock { [state] in $0 = state }
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in host.handle(script) }
        return (host, fake)
    }

    @Test func aProcessOlderThanItsConfigurationIsRestarted() async throws {
        let (host, fake) = host { $0.mtimes = [conf: 1_796_223_792.25, defaults: 1_796_000_100] }
        let step = try magnumAPI([conf, defaults])
        let outcome = try await step.run(context(fake))
        #expect(outcome.changed)
        #expect(outcome.message == "magnum-api started 2026-12-02T15:00:01Z, before /etc/magnum/magnum.conf changed (2026-12-02T15:03:12Z): restarted")
        #expect(
            outcome.diffs == [
                Diff(
                    subject: "service magnum-api", before: "running since 2026-12-02T15:00:01Z",
                    after: "restarted: /etc/magnum/magnum.conf changed 2026-12-02T15:03:12Z")
            ])
        #expect(fake.writes.count == 1 && fake.writes[0].contains("service magnum-api restart 2>&1"))
        #expect(host.state.withLock { $0.actions } == ["restart"])
        // Restarted: now newer than its files, nothing more to do.
        let again = try await step.run(context(fake))
        #expect(!again.changed && fake.writes.count == 1)
    }

    @Test func aProcessNewerThanEveryFileIsLeftAlone() async throws {
        // magnum.conf written 0.03 s before the process started and /etc/default/magnum-api 0.04 s after it: within
        // the tolerance, not newer; a file that does not exist is ignored.
        let (host, fake) = host { $0.mtimes = [conf: 1_796_223_600.97, defaults: 1_796_223_601.04] }
        let outcome = try await magnumAPI([conf, defaults, "/etc/magnum/absent.conf"]).run(context(fake))
        #expect(!outcome.changed)
        #expect(fake.writes.isEmpty && fake.commands.count == 1)
        #expect(host.state.withLock { $0.actions }.isEmpty)
    }

    @Test func aMissingFileIsIgnored() async throws {
        let (_, fake) = host { $0.mtimes = [:] }
        let outcome = try await magnumAPI([conf, defaults]).run(context(fake))
        #expect(!outcome.changed && fake.writes.isEmpty)
    }

    @Test func aStoppedServiceIsStartedAsWithoutTheFiles() async throws {
        let (host, fake) = host {
            $0.running = false
            $0.mtimes = [conf: 1_796_223_792]
        }
        let outcome = try await magnumAPI([conf]).run(context(fake))
        #expect(outcome.changed && outcome.message == "started")
        #expect(outcome.diffs == [Diff(subject: "service magnum-api", before: "stopped", after: "running")])
        #expect(host.state.withLock { $0.actions } == ["start"])
    }

    @Test func checkModePredictsTheRestartAndChangesNothing() async throws {
        let (host, fake) = host { $0.mtimes = [conf: 1_796_223_792.25] }
        let outcome = try await magnumAPI([conf]).run(context(fake, check: true))
        #expect(outcome.changed)
        #expect(outcome.message == "magnum-api started 2026-12-02T15:00:01Z, before /etc/magnum/magnum.conf changed (2026-12-02T15:03:12Z): would restart")
        #expect(fake.writes.isEmpty && host.state.withLock { $0.actions }.isEmpty)
    }

    @Test func checkModePredictsTheRestartAfterAFileAnEarlierStepWouldRewrite() async throws {
        let (_, fake) = host { $0.mtimes = [conf: 1_796_000_100] }
        fake.put(conf, "[DEFAULT]\ndebug = true\n")
        let planned = PlannedObjects()
        let settings: Value = .map([("DEFAULT", .map([("debug", .bool(false))]))])
        let ini = try IniStep(arguments: Arguments(["path": .string(conf), "settings": settings]))
        let fresh = try await magnumAPI([conf]).run(context(fake, check: true, planned: planned))
        #expect(!fresh.changed)
        #expect(try await ini.run(context(fake, check: true, planned: planned)).changed)
        let predicted = try await magnumAPI([conf]).run(context(fake, check: true, planned: planned))
        #expect(predicted.changed)
        #expect(predicted.message == "magnum-api started 2026-12-02T15:00:01Z, and an earlier step would change /etc/magnum/magnum.conf: would restart")
        #expect(predicted.diffs.map(\.after) == ["restarted: /etc/magnum/magnum.conf would change"])
        #expect(fake.writes.isEmpty)
    }

    @Test func theRestartOfAStaleServiceIsDrained() async throws {
        let (host, fake) = host { $0.mtimes = [conf: 1_796_223_792.25] }
        let drain: Value = .map([("backend", .string("magnum_api")), ("peers", .list([.string("fake1")]))])
        let step = try magnumAPI([conf], [("pidfile", .string("/run/magnum/magnum-api.pid")), ("drain", drain)])
        let outcome = try await step.run(context(fake))
        #expect(host.state.withLock { $0.actions } == ["drain", "restart", "ready"])
        #expect(outcome.message?.hasSuffix("restarted, drained in magnum_api") == true, "\(outcome.message ?? "")")
    }

    @Test func onSystemdTheMainPIDIsTheProcess() async throws {
        let (host, fake) = host({ $0.mtimes = [conf: 1_796_223_792.25] }, systemd: true)
        let outcome = try await magnumAPI([conf], []).run(context(fake))
        #expect(outcome.changed)
        #expect(fake.commands[0].contains("systemctl show -p MainPID magnum-api"))
        #expect(fake.writes.count == 1 && fake.writes[0].contains("systemctl restart magnum-api"))
        #expect(host.state.withLock { $0.actions } == ["restart"])
    }

    @Test func aRunningServiceWithoutItsPidFileFailsNamingThePathsTried() async throws {
        let (_, fake) = host {
            $0.pidfile = "/run/magnum/magnum-api.pid"
            $0.mtimes = [conf: 1_796_223_792]
        }
        do {
            _ = try await magnumAPI([conf], []).run(context(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(
                failure.message == "service magnum-api runs but none of its pid files exists (tried /run/magnum-api.pid, "
                    + "/run/magnum-api/magnum-api.pid, /var/run/magnum-api/magnum-api.pid): cannot tell when it started, "
                    + "for `restart_if_older_than` (give `pidfile`)")
        }
        #expect(fake.writes.isEmpty)
        // The default paths serve where the init script uses one of them.
        let (_, found) = host {
            $0.pidfile = "/run/magnum-api/magnum-api.pid"
            $0.mtimes = [conf: 1_796_223_792]
        }
        #expect(try await magnumAPI([conf], []).run(context(found, check: true)).changed)
    }

    @Test func aCommandNameWithSpacesAndParenthesesIsReadAfterTheLastParenthesis() async throws {
        let (_, fake) = host {
            $0.comm = "uwsgi) (x 1 2 3 4 5"
            $0.mtimes = [conf: 1_796_223_792.25]
        }
        let outcome = try await magnumAPI([conf]).run(context(fake, check: true))
        #expect(outcome.message?.hasPrefix("magnum-api started 2026-12-02T15:00:01Z, before") == true, "\(outcome.message ?? "")")
        let stat = "4242 (a) b (c d)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 9876 20 21"
        #expect(ServiceFreshness.startTicks(stat) == 9876)
        #expect(ServiceFreshness.startTicks("4242 (x) S 1 2") == nil)
        #expect(ServiceFreshness.startTicks("garbage") == nil)
    }

    @Test func argumentsAreChecked() throws {
        let single = try ServiceStep(
            arguments: Arguments([
                "name": .string("magnum-conductor"), "state": .string("started"),
                "restart_if_older_than": .string(conf)
            ]))
        #expect(single.freshness?.files == [conf])
        #expect(single.freshness?.pidfiles.first == "/run/magnum-conductor.pid")
        // Ignored with `restarted`, which restarts anyway: the probe reads no process.
        let restarted = try ServiceStep(
            arguments: Arguments([
                "name": .string("magnum-api"), "state": .string("restarted"),
                "restart_if_older_than": .list([.string(conf)])
            ]))
        #expect(restarted.freshness == nil && !restarted.probeScript.contains("pid="))
        for bad: [String: Value] in [
            ["state": .string("stopped"), "restart_if_older_than": .string(conf)],
            ["enabled": .bool(true), "restart_if_older_than": .string(conf)],
            ["state": .string("started"), "restart_if_older_than": .string("magnum.conf")],
            ["state": .string("started"), "pidfile": .string("/run/x.pid")],
            ["state": .string("started"), "restart_if_older_than": .string(conf), "pidfile": .string("x.pid")]
        ] {
            #expect(throws: StepFailure.self, "\(bad)") {
                try ServiceStep(arguments: Arguments(.init(uniqueKeysWithValues: [("name", .string("magnum-api"))] + bad.map { ($0.key, $0.value) })))
            }
        }
        #expect(ServiceStep.schema.field("restart_if_older_than") != nil && ServiceStep.schema.field("pidfile") != nil)
    }

    @Test func probeScriptsAreValidShellAndQuoteThePaths() throws {
        let step = try magnumAPI(["/etc/magnum/it's $(reboot).conf", conf], [("pidfile", .string("/run/a b.pid"))])
        #expect(try shellAccepts(step.probeScript))
        #expect(step.probeScript.contains(Shell.quote("/etc/magnum/it's $(reboot).conf")))
        #expect(step.probeScript.contains("'/run/a b.pid'"))
    }

    /// The probe's process and file lines run by /bin/sh on this machine, against a real process and files.
    @Test func theProbeReadsARealProcessAndRealFiles() async throws {
        let folder = NSTemporaryDirectory() + "quorum-freshness-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let old = folder + "/old.conf"
        let new = folder + "/new (1).conf"
        let pidfile = folder + "/sleep.pid"
        _ = FileManager.default.createFile(atPath: old, contents: Data("old\n".utf8))
        try await Task.sleep(for: .milliseconds(500))
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        // SIGKILL: a SIGTERM the test process ignores, the child ignores too.
        defer {
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
        }
        try "\(sleeper.processIdentifier)\n".write(toFile: pidfile, atomically: true, encoding: .utf8)
        let step = try magnumAPI([old, new, folder + "/absent"], [("pidfile", .string(pidfile))])

        func read() throws -> ServiceFreshness.Reading? {
            let fragment = try #require(step.freshness).probe(.sysv, service: "magnum-api")
            let result = try runShell(fragment)
            let probe = "manager=sysv\nload=loaded\nstatus=0\nenabled=no\n" + result.stdoutText + "--output--\n"
            return try step.parseProbe(CommandResult(stdout: Array(probe.utf8))).freshness
        }
        let fresh = try #require(try read())
        #expect(!fresh.isStale)
        #expect(abs(fresh.started - Date().timeIntervalSince1970) < 10)
        try await Task.sleep(for: .milliseconds(500))
        _ = FileManager.default.createFile(atPath: new, contents: Data("new\n".utf8))
        let stale = try #require(try read())
        #expect(stale.changedFile == new)
        #expect(abs(stale.started - fresh.started) < 0.05)
    }
}

/// Runs `script` with /bin/sh on this machine.
private func runShell(_ script: String) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(stdout: Array(stdout), status: process.terminationStatus)
}
