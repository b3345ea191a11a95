import Foundation
import QuorumSSH
import Testing

/// The built `quorum` binary against a real sshd on 127.0.0.1: interrupts (SIGINT, SIGTERM, twice) and a frozen
/// peer, seen from outside the process as an operator sees them.
extension QuorumSSHTests {
    @Suite
    final class InterruptProcessTests {
        static let binary =
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/.build/debug/quorum"

        let sshd: SSHD
        init() throws { sshd = try SSHD() }
        deinit { sshd.stop() }

        /// A running `quorum apply` with its output files.
        struct Run {
            var pid: pid_t
            var stdout: String
            var stderr: String
            var json: String
            func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            var output: String { read(stdout) }
            var errors: String { read(stderr) }
        }

        /// Starts `quorum apply` on `hosts` (all served by this sshd) with a quick step, a 30 s step, and more after it.
        func start(hosts: [String]) throws -> Run {
            guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw FixtureError(description: "\(Self.binary) is missing: swift build") }
            try sshd.trust()
            let entries = hosts.map {
                "        \($0): {ansible_host: 127.0.0.1, ansible_port: \(sshd.port), ansible_user: root, "
                    + "ansible_ssh_private_key_file: \(sshd.clientKey), quorum_known_hosts_file: \(sshd.knownHostsPath)}"
            }
            try (["all:", "  children:", "    controllers:", "      hosts:"] + entries).joined(separator: "\n")
                .write(toFile: sshd.dir + "/inv.yml", atomically: true, encoding: .utf8)
            try """
            - name: first
              hosts: controllers
              steps:
                - {name: quick, command: "true"}
                - {name: long, command: "sleep 30"}
                - {name: after, command: "true"}
            - name: second
              hosts: controllers
              steps:
                - {name: later, command: "true"}
            """.write(toFile: sshd.dir + "/pb.yml", atomically: true, encoding: .utf8)
            let run = Run(pid: 0, stdout: sshd.dir + "/quorum.out", stderr: sshd.dir + "/quorum.err", json: sshd.dir + "/run.json")
            let pid = try spawn(
                "/usr/bin/env",
                [
                    "-u", "SSH_AUTH_SOCK", "NO_COLOR=1", Self.binary, "apply", sshd.dir + "/pb.yml",
                    "-i", sshd.dir + "/inv.yml", "--json", run.json
                ],
                stdout: run.stdout, stderr: run.stderr)
            var started = run
            started.pid = pid
            // Wait until the quick step is done everywhere and the long one has begun.
            let deadline = ContinuousClock.now + .seconds(30)
            func quickDone(_ host: String) -> Bool {
                started.output.split(separator: "\n").contains { $0.contains("quick") && $0.contains(" \(host) ") }
            }
            while !hosts.allSatisfy(quickDone) {
                guard ContinuousClock.now < deadline else {
                    kill(pid, SIGKILL)
                    throw FixtureError(description: "quorum did not start: \(started.output)\(started.errors)")
                }
                usleep(100_000)
            }
            usleep(800_000)
            return started
        }

        /// Waits (bounded) for the process to end: (exited normally, exit code or signal).
        func end(_ pid: pid_t, within limit: Duration) -> (exited: Bool, code: Int32)? {
            let deadline = ContinuousClock.now + limit
            var status: Int32 = 0
            while ContinuousClock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid {
                    let signal = status & 0x7f
                    return signal == 0 ? (true, (status >> 8) & 0xff) : (false, signal)
                }
                usleep(50_000)
            }
            kill(pid, SIGKILL)
            reap(pid)
            return nil
        }

        @Test(arguments: [SIGINT, SIGTERM])
        func anInterruptEndsWithTheRecapMarkedInterruptedAndExit130(signal: Int32) throws {
            let run = try start(hosts: ["c1", "c2"])
            let sent = ContinuousClock.now
            kill(run.pid, signal)
            let ending = end(run.pid, within: .seconds(20))
            let seconds = elapsed(since: sent)
            let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
            #expect(ending?.exited == true && ending?.code == 130, "\(String(describing: ending))\n\(run.output)\n\(run.errors)")
            #expect(seconds < 10, "the run took \(seconds) s to stop")
            let output = run.output
            #expect(output.contains("RECAP — interrupted (\(name)): no step was started after the stop request"), "\(output)")
            #expect(output.contains("left undone in \"first\": steps not done: long (interrupted), after"), "\(output)")
            #expect(output.contains("left undone in \"second\": play not started (1 step: later)"), "\(output)")
            #expect(output.hasSuffix("exit 130\n"))
            #expect(!output.contains("changed      c1      after") && !output.contains(" later "))
            #expect(run.errors.contains("quorum: \(name): starting no new step"))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run.json))) as? [String: Any])
            #expect(json["interrupted"] as? Bool == true && json["exit_code"] as? Int == 130)
            #expect((json["left_undone"] as? [String: Any])?.keys.sorted() == ["c1", "c2"])
        }

        @Test func aSecondInterruptExitsAtOnce() throws {
            let run = try start(hosts: ["c1"])
            kill(run.pid, SIGINT)
            usleep(300_000)
            let second = ContinuousClock.now
            kill(run.pid, SIGINT)
            let ending = end(run.pid, within: .seconds(10))
            #expect(ending?.exited == true && ending?.code == 130, "\(String(describing: ending))")
            #expect(elapsed(since: second) < 1.5)
            #expect(run.errors.contains("quorum: second SIGINT: exiting now; no critical section was open"), "\(run.errors)")
            #expect(!run.output.contains("RECAP"))
        }

        @Test func aFrozenControllerIsNamedUnreachableWithin15Seconds() throws {
            let run = try start(hosts: ["c1"])
            // Freeze the server side of the session: no FIN, no RST, no answer to keepalives (like a cut link).
            let pids = sshd.sessionPIDs()
            #expect(!pids.isEmpty)
            for pid in pids { kill(pid, SIGSTOP) }
            defer { for pid in pids { kill(pid, SIGCONT) } }
            let frozen = ContinuousClock.now
            let ending = end(run.pid, within: .seconds(30))
            let seconds = elapsed(since: frozen)
            print("frozen controller reported after \(String(format: "%.1f", seconds)) s")
            #expect(ending?.exited == true && ending?.code == 3, "\(String(describing: ending))\n\(run.output)")
            #expect(seconds <= 15)
            #expect(run.output.contains("  unreachable  c1"), "\(run.output)")
            #expect(run.output.contains("no answer to keepalives for 11 s"), "\(run.output)")
        }
    }
}

extension QuorumSSHTests {
    @Suite
    final class KeepaliveDefaultsTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD() }
        deinit { sshd.stop() }

        @Test func defaultsNameAFrozenPeerWithin15Seconds() async throws {
            let connection = try await sshd.connectRoot()
            _ = try await connection.run("true")
            let pids = sshd.sessionPIDs()
            for pid in pids { kill(pid, SIGSTOP) }
            defer { for pid in pids { kill(pid, SIGCONT) } }
            #expect(!pids.isEmpty, "the session's sshd processes were found")
            let start = ContinuousClock.now
            let error = await sshError { _ = try await connection.run("echo hi") }
            let seconds = elapsed(since: start)
            #expect(error?.kind == .disconnected, "\(String(describing: error)) after \(seconds) s")
            #expect(seconds <= 15, "\(String(describing: error))")
            await connection.close()
        }

        @Test func aQuietCommandOnALiveHostIsNotCut() async throws {
            // Longer than the 11 s of silence that means a dead peer: sshd's answers to keepalives keep it alive.
            let connection = try await sshd.connectRoot()
            let output = try await connection.run("sleep 16; echo done")
            #expect(output.stdoutText == "done\n" && output.exitStatus == 0)
            await connection.close()
        }
    }
}
