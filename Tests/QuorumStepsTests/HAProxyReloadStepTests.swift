import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

private func reloadStep(_ values: [(String, Value)]) throws -> HAProxyReloadStep {
    try HAProxyReloadStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

/// A request loop against a loopback port (a Python process, new connection each request, every 10 ms): it runs
/// until `stop` exists and it made at least `minimum` requests, then prints "FAILED TOTAL" and what failed. A
/// request fails when it is refused, reset or answered other than 200; it may be slow (30 s) on a busy machine.
private final class RequestLoop {
    let process = Process()
    let output = Pipe()
    let stop: String

    init(port: Int, folder: String, minimum: Int = 200) throws {
        stop = folder + "/stop-loop"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c",
            """
            import http.client, os, sys, time
            port, stop, minimum = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
            failed = total = 0
            errors = {}
            while total < minimum or not os.path.exists(stop):
                total += 1
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    c.request("GET", "/")
                    status = c.getresponse().status
                    c.close()
                    error = None if status == 200 else "HTTP %d" % status
                except Exception as e:
                    error = type(e).__name__
                if error:
                    failed += 1
                    errors[error] = errors.get(error, 0) + 1
                if total == 20: print("started", flush=True)
                time.sleep(0.01)
            print(failed, total, " ".join("%s:%d" % e for e in errors.items()), flush=True)
            """, String(port), stop, String(minimum)
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = readLine()  // "started": twenty requests made
    }

    func readLine() -> String {
        var line = ""
        while !line.hasSuffix("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        return line.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the loop; returns (failed, total, what failed).
    func finish() -> (Int, Int, String) {
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let words = readLine().split(separator: " ", maxSplits: 2).map(String.init)
        process.waitUntilExit()
        guard words.count >= 2, let failed = Int(words[0]), let total = Int(words[1]) else { return (-1, -1, words.joined(separator: " ")) }
        return (failed, total, words.count > 2 ? words[2] : "")
    }

    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

@Suite(.serialized) struct HAProxyReloadStepTests {
    static let haveHAProxy = FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")

    private func context(_ remote: LocalShellRemote, check: Bool = false) -> StepContext {
        StepContext(
            remote: remote, host: "local", check: check, wantsDiff: false, variables: [:], templates: TemplateRenderer(),
            files: FileResolver(searchPath: []), location: nil, playHosts: ["local"])
    }

    /// Always with the fixture's pidfile: without one the step would look for the oldest haproxy master of this
    /// machine, which may be the lab's.
    private func step(_ haproxy: LoopbackHAProxy, timeout: Int = 240) throws -> HAProxyReloadStep {
        try reloadStep([
            ("config", .list([.string(haproxy.config)])), ("pidfile", .string(haproxy.pidfile)),
            ("socket", .string(haproxy.socket)), ("timeout", .int(timeout))
        ])
    }

    /// GET http://127.0.0.1:PORT/PATH: "STATUS BODY", or the error. The answer may take minutes on a busy machine.
    private static func get(_ port: Int, _ path: String = "/") throws -> String {
        try LocalShellRemote().run(
            """
            python3 -c 'import sys, urllib.request
            try:
                with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=300) as r:
                    print(r.status, r.read().decode())
            except Exception as e:
                print(e)' \(port) \(Shell.quote(path))
            """
        ).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func reloadInvocations(_ remote: LocalShellRemote) -> [String] {
        remote.scripts.filter { $0.contains("' reload ") }
    }

    /// Waits (bounded) until the master has exactly one worker, the first one.
    private func firstWorker(_ haproxy: LoopbackHAProxy) async throws -> Int32 {
        for _ in 0..<100 where haproxy.workers().count != 1 { try await Task.sleep(for: .milliseconds(100)) }
        let workers = haproxy.workers()
        try #require(workers.count == 1, "workers: \(workers)\n\(haproxy.log)")
        return workers[0]
    }

    /// `body` with a master-worker HAProxy whose first worker runs (its pid given), stopped after.
    private func withMasterWorker(_ body: (LoopbackHAProxy, LocalShellRemote, Int32) async throws -> Void) async throws {
        let haproxy = try LoopbackHAProxy(masterWorker: true)
        defer { haproxy.stop() }
        try await body(haproxy, LocalShellRemote(), try await firstWorker(haproxy))
    }

    @Test(.enabled(if: haveHAProxy)) func reloadsWithoutAFailedRequestAndServesTheNewSection() async throws {
        try await withMasterWorker { haproxy, remote, old in
            try haproxy.append(
                """
                listen added_api
                    bind 127.0.0.1:\(haproxy.sparePort)
                    http-request return status 200 content-type text/plain string added
                """)
            // A session in progress on the old worker (a request its backend holds until `release` exists).
            let port = haproxy.frontendPort
            let slow = Task.detached { try Self.get(port, "/slow") }
            let drainView = HAProxyDrain(backend: "test_api", server: "s1", socket: haproxy.socket)
            for _ in 0..<100 {
                if let state = try await drainView.state(on: remote, host: "local"), state.sessions >= 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await drainView.state(on: remote, host: "local")?.sessions == 1)
            let loop = try RequestLoop(port: haproxy.frontendPort, folder: haproxy.folder)
            defer { loop.kill() }

            let outcome = try await step(haproxy).run(context(remote))

            let (failed, total, errors) = loop.finish()
            let workers = haproxy.workers()
            let new = try #require(workers.first { $0 != old }, "no new worker: \(workers)\n\(haproxy.log)")
            #expect(outcome.changed)
            #expect(outcome.message?.contains("new worker \(new)") == true, "\(outcome.message ?? "")")
            #expect(outcome.message?.contains("old worker \(old) finishing its sessions") == true, "\(outcome.message ?? "")")
            #expect(outcome.result["new_worker"] == .int(Int(new)) && outcome.result["old_workers"] == .list([.int(Int(old))]))
            #expect(failed == 0 && total >= 200, "\(failed) of \(total) requests failed during the reload: \(errors)")
            #expect(try Self.get(haproxy.sparePort) == "200 added", "the new section is not served")
            #expect(workers.contains(old), "the old worker left before its session ended")
            // Its session ends: the old worker answers it, then exits.
            _ = FileManager.default.createFile(atPath: haproxy.folder + "/release", contents: nil)
            #expect(try await slow.value == "200 OK")
            for _ in 0..<150 where haproxy.workers().contains(old) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(haproxy.workers() == [new], "\(haproxy.workers())")
        }
    }

    @Test(.enabled(if: haveHAProxy)) func anInvalidConfigurationFailsWithHAProxysMessageAndReloadsNothing() async throws {
        try await withMasterWorker { haproxy, remote, old in
            try haproxy.append(
                """
                listen broken_api
                    bind 127.0.0.1:\(haproxy.sparePort)
                    no_such_keyword here
                """)
            let error = await #expect(throws: StepFailure.self) { try await step(haproxy).run(context(remote)) }
            #expect(error?.description.contains("no_such_keyword") == true, "\(String(describing: error))")
            #expect(error?.description.contains("nothing reloaded") == true, "\(String(describing: error))")
            #expect(reloadInvocations(remote).isEmpty)
            #expect(haproxy.workers() == [old])
            #expect(try Self.get(haproxy.frontendPort) == "200 OK")
        }
    }

    @Test(.enabled(if: haveHAProxy)) func checkModeSendsNothing() async throws {
        try await withMasterWorker { haproxy, remote, old in
            let outcome = try await step(haproxy).run(context(remote, check: true))
            #expect(outcome.changed)
            #expect(
                outcome.message?.contains("would validate the configuration and reload HAProxy (master \(haproxy.haproxy.processIdentifier), worker \(old))")
                    == true,
                "\(outcome.message ?? "")")
            #expect(reloadInvocations(remote).isEmpty)
            #expect(!remote.scripts.contains { $0.contains("haproxy -c") }, "check mode validated")
            try await Task.sleep(for: .milliseconds(500))
            #expect(haproxy.workers() == [old])
        }
    }

    @Test(.enabled(if: haveHAProxy)) func aSingleProcessHAProxyIsRefused() async throws {
        let haproxy = try LoopbackHAProxy(masterWorker: false)
        defer { haproxy.stop() }
        let remote = LocalShellRemote()
        let error = await #expect(throws: StepFailure.self) { try await step(haproxy).run(context(remote)) }
        let text = error?.description ?? ""
        #expect(text.contains("not in master-worker mode") && text.contains("not be hitless") && text.contains("toggle"), "\(text)")
        #expect(reloadInvocations(remote).isEmpty)
        #expect(haproxy.haproxy.isRunning)
        #expect(try Self.get(haproxy.frontendPort) == "200 OK")
    }

    @Test func noHAProxyRunningIsSkipped() async throws {
        let folder = NSTemporaryDirectory() + "quorum-reload-\(UUID().uuidString.prefix(8))"
        let step = try reloadStep([("config", .list([.string(folder + "/haproxy.cfg")])), ("pidfile", .string(folder + "/none.pid"))])
        let outcome = try await step.run(context(LocalShellRemote(), check: true))
        #expect(!outcome.changed && outcome.skippedReason?.contains("nothing to reload") == true, "\(outcome)")
    }

    // MARK: decisions, on a process table the test writes

    private typealias Running = HAProxyReloadStep.RunningProcess

    private func inspection(_ processes: [Running], pidfilePid: Int? = nil, masterWorker: Bool = false) -> HAProxyReloadStep.Inspection {
        .init(processes: processes, proxies: [], socket: nil, masterWorker: masterWorker, pidfilePid: pidfilePid)
    }

    @Test func theMasterIsTheOldestHAProxyWhoseParentIsNotHAProxy() {
        let line = ["/usr/sbin/haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg", "-f", "/etc/haproxy/conf.d"]
        let table = inspection(
            [
                Running(pid: 30, ppid: 20, start: 900, parent: "haproxy", cmdline: line),  // a worker
                Running(pid: 20, ppid: 1, start: 500, parent: "pacemaker-execd", cmdline: line),
                Running(pid: 40, ppid: 1, start: 700, parent: "bash", cmdline: line),  // a second, younger master
                Running(pid: 25, ppid: 20, start: 600, parent: "haproxy", cmdline: line)  // an old worker
            ], pidfilePid: 40)
        #expect(HAProxyReloadStep.master(of: table, pidfile: false)?.pid == 20)
        #expect(HAProxyReloadStep.master(of: table, pidfile: true)?.pid == 40)
        #expect(HAProxyReloadStep.workers(of: table.processes[1], in: table) == [25, 30])
        var stale = table
        stale.pidfilePid = 99
        #expect(HAProxyReloadStep.master(of: stale, pidfile: true) == nil)
    }

    @Test func aReloadIsRefusedWhenItWouldNotBeHitless() throws {
        let step = try reloadStep([])
        let files = ["-f", "/etc/haproxy/haproxy.cfg", "-f", "/etc/haproxy/conf.d/"]
        func master(_ flags: [String], _ config: [String]) -> Running {
            Running(pid: 7, ppid: 1, start: 1, parent: "systemd", cmdline: ["/usr/sbin/haproxy"] + flags + config)
        }
        #expect(step.refusal(master(["-W", "-db"], files), inspection([])) == nil)
        #expect(step.refusal(master(["-Ws", "-p", "/run/haproxy.pid"], files), inspection([])) == nil)
        #expect(step.refusal(master(["-db"], files), inspection([]))?.contains("not in master-worker mode") == true)
        #expect(step.refusal(master(["-db"], files), inspection([], masterWorker: true)) == nil)  // `master-worker` in global
        let other = step.refusal(master(["-W"], ["-f", "/etc/haproxy/haproxy.cfg"]), inspection([]))
        #expect(other?.contains("set `config` to the files HAProxy loads") == true, "\(String(describing: other))")
        #expect(HAProxyReloadStep.configFiles(["haproxy", "-sf", "12", "-x", "sockpair@3", "-W", "-f/a.cfg", "-f", "/b"]) == ["/a.cfg", "/b"])
    }

    @Test func argumentsAreChecked() throws {
        let defaults = try reloadStep([])
        #expect(defaults.config == ["/etc/haproxy/haproxy.cfg", "/etc/haproxy/conf.d"] && defaults.timeout == 60 && defaults.socket == nil)
        #expect(throws: StepFailure.self) { try reloadStep([("config", .list([.string("haproxy.cfg")]))]) }
        #expect(throws: StepFailure.self) { try reloadStep([("socket", .string("run/admin.sock"))]) }
        #expect(throws: StepFailure.self) { try reloadStep([("frontends", .list([.string("a b")]))]) }
        #expect(throws: StepFailure.self) { try reloadStep([("timeout", .int(0))]) }
        #expect(StepCatalog.byName["haproxy_reload"] != nil)
    }
}
