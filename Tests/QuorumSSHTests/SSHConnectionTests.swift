import Foundation
import QuorumSSH
import QuorumTesting
import Testing

func elapsed(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Captures the thrown SSHError (fails the test when something else, or nothing, is thrown).
func sshError(_ body: () async throws -> Void) async -> SSHError? {
    do {
        try await body()
        Issue.record("expected an SSHError, nothing was thrown")
        return nil
    } catch let error as SSHError {
        return error
    } catch {
        Issue.record("expected an SSHError, got \(error)")
        return nil
    }
}

/// Every suite runs one after the other: they start servers, agents and measure timings. Their sshd logs in a
/// user the fixture creates (useradd, chpasswd), so they need root.
@Suite(.serialized, .enabled(if: Privileges.isRoot, "needs root: the sshd fixture creates its own user"))
enum QuorumSSHTests {}

extension QuorumSSHTests {
    @Suite
    final class ExecTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD() }
        deinit { sshd.stop() }

        @Test func stdoutStderrExitStatusAndStdin() async throws {
            let connection = try await sshd.connectRoot()
            let output = try await connection.run("echo out; echo err >&2; exit 3")
            #expect(output.stdoutText == "out\n")
            #expect(output.stderrText == "err\n")
            #expect(output.exitStatus == 3)
            #expect(output.exitSignal == nil)

            let echoed = try await connection.run("cat", stdin: Array("hello\nstdin".utf8))
            #expect(echoed.stdoutText == "hello\nstdin")
            #expect(echoed.exitStatus == 0)

            let megabyte = [UInt8](repeating: 0x61, count: 3 * 1024 * 1024 + 17)
            let counted = try await connection.run("wc -c", stdin: megabyte)
            #expect(counted.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == String(megabyte.count))

            // A command that ignores stdin must not hang on it.
            let ignored = try await connection.run("true", stdin: megabyte)
            #expect(ignored.exitStatus == 0)
            await connection.close()
        }

        @Test func nonASCIICommandAndOutput() async throws {
            let connection = try await sshd.connectRoot()
            let text = "Grüße, żółw ✓ 日本語 🚀"
            let output = try await connection.run("printf '%s\\n' '\(text)'; printf 'é' >&2")
            #expect(output.stdoutText == text + "\n")
            #expect(output.stderr == Array("é".utf8))
            let length = try await connection.run("printf '%s' '\(text)' | wc -c")
            #expect(Int(length.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) == text.utf8.count)
            await connection.close()
        }

        @Test func tenMegabytesOnBothStreamsAtOnce() async throws {
            let a = sshd.dir + "/a.bin"
            let b = sshd.dir + "/b.bin"
            try sh("/bin/sh", ["-c", "head -c 10485760 /dev/urandom > \(a); head -c 10485760 /dev/urandom > \(b)"])
            let connection = try await sshd.connectRoot()
            let start = ContinuousClock.now
            let output = try await connection.run("cat \(a) & cat \(b) >&2; wait")
            let seconds = elapsed(since: start)
            print("10 MB stdout + 10 MB stderr in \(String(format: "%.2f", seconds)) s")
            #expect(output.stdout.count == 10_485_760)
            #expect(output.stderr.count == 10_485_760)
            try Data(output.stdout).write(to: URL(fileURLWithPath: sshd.dir + "/a.out"))
            try Data(output.stderr).write(to: URL(fileURLWithPath: sshd.dir + "/b.out"))
            let sums = try sh("/usr/bin/sha256sum", [a, sshd.dir + "/a.out", b, sshd.dir + "/b.out"])
                .split(separator: "\n").map { $0.split(separator: " ")[0] }
            #expect(sums.count == 4)
            #expect(sums[0] == sums[1])
            #expect(sums[2] == sums[3])
            #expect(sums[0] != sums[2])
            await connection.close()
        }

        @Test func exitSignal() async throws {
            let connection = try await sshd.connectRoot()
            let output = try await connection.run("echo before; kill -KILL $$")
            #expect(output.exitSignal == "KILL")
            #expect(output.exitStatus == -1)
            #expect(output.stdoutText == "before\n")
            await connection.close()
        }

        @Test func commandTimeoutThenConnectionStillWorks() async throws {
            let connection = try await sshd.connectRoot()
            let start = ContinuousClock.now
            let error = await sshError { _ = try await connection.run("sleep 30", timeout: .milliseconds(800)) }
            let seconds = elapsed(since: start)
            #expect(error?.kind == .commandTimeout)
            #expect(error?.message.contains("127.0.0.1:\(sshd.port)") == true)
            #expect(seconds < 3)
            let after = try await connection.run("echo still here")
            #expect(after.stdoutText == "still here\n")
            await connection.close()
        }

        @Test func cancellationStopsARunningCommand() async throws {
            let connection = try await sshd.connectRoot()
            let task = Task { try await connection.run("sleep 30") }
            try await Task.sleep(for: .milliseconds(500))
            let start = ContinuousClock.now
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(elapsed(since: start) < 1)
            #expect(try await connection.run("echo next").stdoutText == "next\n")
            await connection.close()
        }

        @Test func fiftySequentialRuns() async throws {
            // As labop: root's shell start-up files on this machine (pyenv) cost ~150 ms per command server-side.
            try sshd.trust()
            let connection = try await SSHConnection.connect(
                sshd.endpointLab, auth: [.keyFile(path: sshd.clientKey, passphrase: nil)],
                hostKeys: sshd.policy())
            let start = ContinuousClock.now
            for i in 0..<(ProcessInfo.processInfo.environment["QUORUM_RUNS"].flatMap { Int($0) } ?? 50) {
                let output = try await connection.run("echo \(i)")
                #expect(output.stdoutText == "\(i)\n")
            }
            let seconds = elapsed(since: start)
            print("50 sequential runs: \(String(format: "%.3f", seconds)) s (\(String(format: "%.1f", seconds * 1000 / 50)) ms each)")
            await connection.close()
        }

        @Test func concurrentCallersAreSerialised() async throws {
            let connection = try await sshd.connectRoot()
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<8 {
                    group.addTask { (i, try await connection.run("echo \(i)").stdoutText) }
                }
                for try await (i, text) in group { #expect(text == "\(i)\n") }
            }
            await connection.close()
        }

        @Test func sessionThreadsEndWithTheirConnections() async throws {
            func threadCount() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }
            _ = try await sshd.connectRoot()  // warm up the runtime's own threads
            try await Task.sleep(for: .milliseconds(200))
            let before = threadCount()
            for _ in 0..<5 {
                let connection = try await sshd.connectRoot()
                _ = try await connection.run("true")
                await connection.close()
            }
            for _ in 0..<3 {
                _ = try await sshd.connectRoot()  // dropped without close()
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(threadCount() <= before + 1)
        }

        @Test func runAfterCloseFails() async throws {
            let connection = try await sshd.connectRoot()
            await connection.close()
            let error = await sshError { _ = try await connection.run("true") }
            #expect(error?.kind == .disconnected)
        }

        @Test func peerGoneSurfacesAsDisconnected() async throws {
            let connection = try await sshd.connectRoot(options: SSHOptions(keepaliveInterval: 1, keepaliveCountMax: 2))
            _ = try await connection.run("true")
            // Freeze the server side of this session: no FIN, no RST, no answers (like a cut link).
            let pids = sshd.sessionPIDs()
            #expect(!pids.isEmpty)
            for pid in pids { kill(pid, SIGSTOP) }
            defer { for pid in pids { kill(pid, SIGCONT) } }
            let start = ContinuousClock.now
            let error = await sshError { _ = try await connection.run("echo hi") }
            let seconds = elapsed(since: start)
            print("frozen peer detected after \(String(format: "%.1f", seconds)) s")
            #expect(error?.kind == .disconnected)
            #expect(seconds < 10)
            await connection.close()
        }

        @Test func killedPeerSurfacesAsDisconnected() async throws {
            let connection = try await sshd.connectRoot()
            _ = try await connection.run("true")
            for pid in sshd.sessionPIDs() { kill(pid, SIGKILL) }
            let start = ContinuousClock.now
            let error = await sshError { _ = try await connection.run("echo hi") }
            #expect(error?.kind == .disconnected)
            #expect(elapsed(since: start) < 3)
            #expect(await connection.isConnected == false)
            await connection.close()
        }
    }

}

extension QuorumSSHTests {
    @Suite
    final class HostKeyTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD() }
        deinit { sshd.stop() }

        func connect(_ policy: HostKeyPolicy) async throws -> SSHConnection {
            try await SSHConnection.connect(
                sshd.endpointRoot, auth: [.keyFile(path: sshd.clientKey, passphrase: nil)],
                hostKeys: policy)
        }

        @Test func unknownHostKeyIsRefusedWithFingerprint() async throws {
            try "# empty\n".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            let error = await sshError { _ = try await self.connect(self.sshd.policy()) }
            #expect(error?.kind == .hostKeyUnknown)
            let message = error?.message ?? ""
            #expect(message.contains(try sshd.hostKeyFingerprint()))
            #expect(message.contains("127.0.0.1:\(sshd.port)"))
            #expect(message.contains("--accept-new-host-keys"))
            #expect(try String(contentsOfFile: sshd.knownHostsPath, encoding: .utf8) == "# empty\n")
        }

        @Test func acceptNewAppendsOneLineThenStrictWorks() async throws {
            try "# keep me\nno-newline-at-end".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            let first = try await connect(sshd.policy(acceptNew: true))
            #expect(try await first.run("echo ok").stdoutText == "ok\n")
            await first.close()
            let content = try String(contentsOfFile: sshd.knownHostsPath, encoding: .utf8)
            let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 4)  // two old lines, the new one, and the final empty piece
            #expect(lines[0] == "# keep me")
            #expect(lines[1] == "no-newline-at-end")
            #expect(String(lines[2]) == (try sshd.knownHostsLine()))
            let second = try await connect(sshd.policy(acceptNew: false))
            #expect(try await second.run("echo strict").stdoutText == "strict\n")
            await second.close()
            #expect(try String(contentsOfFile: sshd.knownHostsPath, encoding: .utf8) == content)
        }

        @Test func hashedEntryIsAccepted() async throws {
            try (sshd.knownHostsLine() + "\n").write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            try sh("/usr/bin/ssh-keygen", ["-H", "-f", sshd.knownHostsPath])
            let hashed = try String(contentsOfFile: sshd.knownHostsPath, encoding: .utf8)
            // A line libssh2 cannot parse must not hide the entries after it.
            try ("garbage line that libssh2 cannot parse\n" + hashed).write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            #expect(hashed.contains("|1|"))
            #expect(!hashed.contains("127.0.0.1"))
            let connection = try await connect(sshd.policy())
            #expect(try await connection.run("echo hashed").stdoutText == "hashed\n")
            await connection.close()
        }

        @Test func changedHostKeyIsRefusedNamingBothFingerprints() async throws {
            let other = sshd.dir + "/other_host"
            try sh("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other])
            let pub = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
            try "[127.0.0.1]:\(sshd.port) \(pub[0]) \(pub[1])\n".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            let oldFingerprint = String(try sh("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", other + ".pub"]).split(separator: " ")[1])
            for acceptNew in [false, true] {
                let error = await sshError { _ = try await self.connect(self.sshd.policy(acceptNew: acceptNew)) }
                #expect(error?.kind == .hostKeyChanged)
                let message = error?.message ?? ""
                #expect(message.contains(oldFingerprint))
                #expect(message.contains(try sshd.hostKeyFingerprint()))
                #expect(message.contains("127.0.0.1:\(sshd.port)"))
            }
        }
    }

}

extension QuorumSSHTests {
    @Suite
    final class HostKeyTypePreferenceTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD(hostKeyTypes: ["ecdsa", "ed25519"]) }
        deinit { sshd.stop() }

        @Test func recordedTypeIsNegotiatedWhicheverTheServerListsFirst() async throws {
            for index in [1, 0] {  // ed25519 only, then ECDSA only
                try sshd.trust(keyIndex: index)
                let connection = try await SSHConnection.connect(
                    sshd.endpointRoot, auth: [.keyFile(path: sshd.clientKey, passphrase: nil)], hostKeys: sshd.policy())
                #expect(try await connection.run("echo \(index)").stdoutText == "\(index)\n")
                await connection.close()
            }
        }
    }

}

extension QuorumSSHTests {
    @Suite
    final class AuthTests {
        let sshd: SSHD
        init() throws {
            sshd = try SSHD()
            try sshd.trust()
        }
        deinit { sshd.stop() }

        @Test func passwordAuthentication() async throws {
            let connection = try await SSHConnection.connect(
                sshd.endpointLab, auth: [.password(SSHD.labPassword)],
                hostKeys: sshd.policy())
            #expect(try await connection.run("whoami").stdoutText == "labop\n")
            await connection.close()
        }

        @Test func wrongPasswordIsAuthenticationFailed() async throws {
            let secret = "wrong-Secret-123"
            let error = await sshError {
                _ = try await SSHConnection.connect(self.sshd.endpointLab, auth: [.password(secret)], hostKeys: self.sshd.policy())
            }
            #expect(error?.kind == .authenticationFailed)
            #expect(error?.message.contains("labop@127.0.0.1:\(sshd.port)") == true)
            #expect(error?.message.contains(secret) == false)
        }

        @Test func keyWithPassphrase() async throws {
            let key = sshd.dir + "/protected_ed25519"
            let passphrase = "correct horse ✓"
            try sh("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-f", key])
            let pub = try String(contentsOfFile: key + ".pub", encoding: .utf8)
            let handle = try #require(FileHandle(forWritingAtPath: sshd.authorizedKeys))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(pub.utf8))
            try handle.close()

            let connection = try await SSHConnection.connect(
                sshd.endpointRoot, auth: [.keyFile(path: key, passphrase: passphrase)],
                hostKeys: sshd.policy())
            #expect(try await connection.run("whoami").stdoutText == "root\n")
            await connection.close()

            // Without the .pub beside it the public key is derived from the private key.
            try FileManager.default.removeItem(atPath: key + ".pub")
            let again = try await SSHConnection.connect(
                sshd.endpointRoot, auth: [.keyFile(path: key, passphrase: passphrase)],
                hostKeys: sshd.policy())
            await again.close()

            let error = await sshError {
                _ = try await SSHConnection.connect(
                    self.sshd.endpointRoot, auth: [.keyFile(path: key, passphrase: "nope")],
                    hostKeys: self.sshd.policy())
            }
            #expect(error?.kind == .authenticationFailed)
            #expect(error?.message.contains("nope") == false)
        }

        @Test func methodsAreTriedInOrder() async throws {
            let connection = try await SSHConnection.connect(
                sshd.endpointLab,
                auth: [.keyFile(path: "/nonexistent/key", passphrase: nil), .password("bad"), .password(SSHD.labPassword)],
                hostKeys: sshd.policy())
            #expect(try await connection.run("whoami").stdoutText == "labop\n")
            await connection.close()
        }

        @Test func sshAgent() async throws {
            let socketPath = sshd.dir + "/agent.sock"
            let started = try sh("/usr/bin/ssh-agent", ["-s", "-a", socketPath])
            let pidText = started.components(separatedBy: "SSH_AGENT_PID=").dropFirst().first?.prefix { $0.isNumber } ?? ""
            let agentPID = try #require(Int32(pidText))
            defer { kill(agentPID, SIGTERM) }
            try sh("/usr/bin/ssh-add", ["-q", sshd.clientKey], environment: ["SSH_AUTH_SOCK": socketPath])
            let previous = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
            setenv("SSH_AUTH_SOCK", socketPath, 1)
            defer {
                if let previous { setenv("SSH_AUTH_SOCK", previous, 1) } else { unsetenv("SSH_AUTH_SOCK") }
            }
            let connection = try await SSHConnection.connect(sshd.endpointRoot, auth: [.agent], hostKeys: sshd.policy())
            #expect(try await connection.run("whoami").stdoutText == "root\n")
            await connection.close()

            // The agent holds no key for this user? It does (authorized_keys is shared), so use an empty agent instead.
            try sh("/usr/bin/ssh-add", ["-D"], environment: ["SSH_AUTH_SOCK": socketPath], allowFailure: true)
            let error = await sshError {
                _ = try await SSHConnection.connect(self.sshd.endpointRoot, auth: [.agent], hostKeys: self.sshd.policy())
            }
            #expect(error?.kind == .authenticationFailed)
        }
    }

}

extension QuorumSSHTests {
    @Suite
    struct ConnectFailureTests {
        @Test func closedPortFailsFast() async throws {
            let port = try freePort()
            let start = ContinuousClock.now
            let error = await sshError {
                _ = try await SSHConnection.connect(
                    SSHEndpoint(host: "127.0.0.1", port: port, user: "root"), auth: [.agent],
                    hostKeys: HostKeyPolicy(knownHostsFiles: []))
            }
            #expect(error?.kind == .connectFailed)
            #expect(error?.message.contains("127.0.0.1:\(port)") == true)
            #expect(elapsed(since: start) < 1)
        }

        @Test func unroutableAddressTimesOut() async throws {
            let start = ContinuousClock.now
            let error = await sshError {
                _ = try await SSHConnection.connect(
                    SSHEndpoint(host: "10.255.255.1", port: 22, user: "root"), auth: [.agent],
                    hostKeys: HostKeyPolicy(knownHostsFiles: []),
                    options: SSHOptions(connectTimeout: .milliseconds(700)))
            }
            // Either the packets go nowhere (timeout) or there is no route at all (refused at once).
            #expect(error?.kind == .connectTimeout || error?.kind == .connectFailed)
            #expect(elapsed(since: start) < 2)
        }

        @Test func unresolvableHost() async throws {
            let error = await sshError {
                _ = try await SSHConnection.connect(
                    SSHEndpoint(host: "no-such-host.invalid", port: 22, user: "root"), auth: [.agent],
                    hostKeys: HostKeyPolicy(knownHostsFiles: []))
            }
            #expect(error?.kind == .connectFailed)
        }

        @Test func fingerprintMatchesOpenSSH() throws {
            let dir = NSTemporaryDirectory() + "quorum-fp-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try sh("/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", dir + "/k"])
            let pub = try String(contentsOfFile: dir + "/k.pub", encoding: .utf8).split(separator: " ")
            let expected = try sh("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", dir + "/k.pub"]).split(separator: " ")[1]
            #expect(sha256Fingerprint(base64Key: String(pub[1])) == String(expected))
        }
    }
}
