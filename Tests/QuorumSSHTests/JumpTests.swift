import Foundation
import QuorumSSH
import Testing

extension QuorumSSHTests {
    /// ProxyJump with two real sshd processes on loopback: a bastion and a target.
    @Suite
    final class JumpTests {
        let bastion: SSHD
        let target: SSHD

        init() throws {
            bastion = try SSHD()
            target = try SSHD()
            try bastion.trust()
            try target.trust()
        }

        deinit {
            target.stop()
            bastion.stop()
        }

        func hop(_ sshd: SSHD, name: String, user: String = "root") -> SSHHop {
            SSHHop(
                name: name, endpoint: SSHEndpoint(host: "127.0.0.1", port: sshd.port, user: user),
                auth: [.keyFile(path: sshd.clientKey, passphrase: nil)], hostKeys: sshd.policy())
        }

        var route: SSHRoute { SSHRoute(jumps: [hop(bastion, name: "bastion")], target: hop(target, name: "ctl1")) }

        /// PIDs of processes with an established TCP connection to `port` on 127.0.0.1.
        func clientsOf(port: Int) throws -> Set<Int32> {
            let out = try sh("/usr/bin/ss", ["-Htnp", "state", "established", "( dport = :\(port) )"])
            return Set(out.components(separatedBy: "pid=").dropFirst().compactMap { Int32($0.prefix { $0.isNumber }) })
        }

        @Test func execThroughTheBastion() async throws {
            let connection = try await SSHConnection.connect(route)
            let output = try await connection.run("echo through; cat /proc/sys/kernel/hostname >/dev/null; echo $SSH_CONNECTION")
            #expect(output.stdoutText.hasPrefix("through\n"))
            // The target saw a connection from the bastion's sshd, not from us: the only TCP client of the target's
            // port is one of the bastion's session processes, and this process has none.
            let clients = try clientsOf(port: target.port)
            #expect(!clients.isEmpty)
            #expect(clients.isSubset(of: Set(bastion.sessionPIDs())))
            #expect(!clients.contains(getpid()))

            // Idle, the two session threads wait in poll(): no busy pumping.
            func cpuSeconds() -> Double {
                var usage = rusage()
                getrusage(RUSAGE_SELF.rawValue, &usage)
                return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            }
            let before = cpuSeconds()
            try await Task.sleep(for: .seconds(1))
            #expect(cpuSeconds() - before < 0.2)

            // Bulk data both ways through the pumped channel.
            let payload = [UInt8]((0..<(3 * 1024 * 1024 + 5)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let counted = try await connection.run("wc -c; head -c 2000000 /dev/zero | tr '\\0' x", stdin: payload)
            #expect(counted.stdoutText.hasPrefix("\(payload.count)\n"))
            #expect(counted.stdout.count == "\(payload.count)\n".utf8.count + 2_000_000)
            await connection.close()
            // Closing the target closes the bastion's session too.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try clientsOf(port: target.port).isEmpty)
            #expect(try clientsOf(port: bastion.port).isEmpty)
        }

        @Test func bastionGoneMeansTargetGone() async throws {
            let connection = try await SSHConnection.connect(route)
            #expect(try await connection.run("echo up").stdoutText == "up\n")
            for pid in bastion.sessionPIDs() { kill(pid, SIGKILL) }
            let error = await sshError { _ = try await connection.run("echo hi") }
            #expect(error?.kind == .disconnected)
            #expect(error?.message.contains("via bastion") == true)
            await connection.close()
        }

        @Test func twoHopsChain() async throws {
            // bastion -> bastion again -> target: the second hop's handshake itself runs through the first.
            let chained = SSHRoute(jumps: [hop(bastion, name: "outer"), hop(bastion, name: "inner")], target: hop(target, name: "ctl1"))
            let connection = try await SSHConnection.connect(chained)
            #expect(try await connection.run("whoami").stdoutText == "root\n")
            await connection.close()
        }

        @Test func unknownAndChangedBastionKeysAreRefusedWithTheBastionsFingerprint() async throws {
            try "# empty\n".write(toFile: bastion.knownHostsPath, atomically: true, encoding: .utf8)
            let unknown = await sshError { _ = try await SSHConnection.connect(self.route) }
            #expect(unknown?.kind == .hostKeyUnknown)
            #expect(unknown?.message.hasPrefix("jump host bastion: ") == true)
            #expect(unknown?.message.contains(try bastion.hostKeyFingerprint()) == true)

            // The bastion's line now carries the target's key: a changed key.
            let targetPub = try String(contentsOfFile: target.hostKeyPubs[0], encoding: .utf8).split(separator: " ")
            try "[127.0.0.1]:\(bastion.port) \(targetPub[0]) \(targetPub[1])\n".write(toFile: bastion.knownHostsPath, atomically: true, encoding: .utf8)
            let changed = await sshError { _ = try await SSHConnection.connect(self.route) }
            #expect(changed?.kind == .hostKeyChanged)
            #expect(changed?.message.hasPrefix("jump host bastion: HOST KEY CHANGED") == true)
            #expect(changed?.message.contains(try bastion.hostKeyFingerprint()) == true)
            #expect(changed?.message.contains(try target.hostKeyFingerprint()) == true)
        }

        @Test func targetKeyIsCheckedBehindTheBastion() async throws {
            try "# empty\n".write(toFile: target.knownHostsPath, atomically: true, encoding: .utf8)
            let error = await sshError { _ = try await SSHConnection.connect(self.route) }
            #expect(error?.kind == .hostKeyUnknown)
            #expect(error?.message.contains("127.0.0.1:\(target.port) via bastion") == true)
            #expect(error?.message.contains(try target.hostKeyFingerprint()) == true)
        }

        @Test func targetUnreachableBehindTheBastionIsNamedAsSuch() async throws {
            var unreachable = route
            unreachable.target.endpoint.port = try freePort()
            let error = await sshError { _ = try await SSHConnection.connect(unreachable) }
            #expect(error?.kind == .connectFailed)
            #expect(error?.message.hasPrefix("ctl1 is unreachable behind jump host bastion: ") == true)
            #expect(error?.message.contains("could not connect to 127.0.0.1:\(unreachable.target.endpoint.port)") == true)

            // Authentication is per hop: a target key the target does not accept fails as the target's own error.
            var badAuth = route
            badAuth.target.auth = [.keyFile(path: bastion.clientKey, passphrase: nil)]
            let auth = await sshError { _ = try await SSHConnection.connect(badAuth) }
            #expect(auth?.kind == .authenticationFailed)
            #expect(auth?.message.contains("root@127.0.0.1:\(target.port)") == true)
        }
    }

    /// A bastion that forbids forwarding.
    @Suite
    final class JumpRefusedTests {
        @Test func forwardingRefusedByTheBastion() async throws {
            let bastion = try SSHD(extraConfig: ["AllowTcpForwarding no"])
            let target = try SSHD()
            defer {
                target.stop()
                bastion.stop()
            }
            try bastion.trust()
            try target.trust()
            let route = SSHRoute(
                jumps: [
                    SSHHop(
                        name: "bastion", endpoint: bastion.endpointRoot, auth: [.keyFile(path: bastion.clientKey, passphrase: nil)],
                        hostKeys: bastion.policy())
                ],
                target: SSHHop(
                    name: "ctl1", endpoint: target.endpointRoot, auth: [.keyFile(path: target.clientKey, passphrase: nil)],
                    hostKeys: target.policy()))
            let error = await sshError { _ = try await SSHConnection.connect(route) }
            #expect(error?.kind == .forwardingRefused)
            #expect(error?.message.hasPrefix("ctl1 is unreachable behind jump host bastion: ") == true)
            #expect(error?.message.contains("AllowTcpForwarding") == true)
        }
    }
}
