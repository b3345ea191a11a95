import Foundation
import QuorumSSH
import Testing

extension QuorumSSHTests {
    /// known_hosts as OpenSSH reads it, against a real sshd: @revoked, @cert-authority, several files.
    @Suite
    final class HostKeyFilesTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD() }
        deinit { sshd.stop() }

        func connect(_ files: [String], acceptNew: Bool = false) async throws -> SSHConnection {
            try await SSHConnection.connect(
                sshd.endpointRoot, auth: [.keyFile(path: sshd.clientKey, passphrase: nil)],
                hostKeys: HostKeyPolicy(knownHostsFiles: files, acceptNew: acceptNew))
        }

        @Test func revokedKeyIsRefusedEvenThoughItIsAlsoListed() async throws {
            let pub = try String(contentsOfFile: sshd.hostKeyPubs[0], encoding: .utf8).split(separator: " ")
            try (sshd.knownHostsLine() + "\n@revoked * \(pub[0]) \(pub[1])\n")
                .write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            for acceptNew in [false, true] {
                let error = await sshError { _ = try await self.connect([self.sshd.knownHostsPath], acceptNew: acceptNew) }
                #expect(error?.kind == .hostKeyRevoked)
                let message = error?.message ?? ""
                #expect(message.contains(try sshd.hostKeyFingerprint()))
                #expect(message.contains("\(sshd.knownHostsPath):2"))
                #expect(message.contains("@revoked"))
            }
        }

        @Test func certAuthorityIsReportedAsUnsupported() async throws {
            let ca = sshd.dir + "/host_ca"
            try sh("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", ca])
            let pub = try String(contentsOfFile: ca + ".pub", encoding: .utf8).split(separator: " ")
            try "@cert-authority [127.0.0.1]:* \(pub[0]) \(pub[1])\n".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            let error = await sshError { _ = try await self.connect([self.sshd.knownHostsPath]) }
            #expect(error?.kind == .hostKeyUnknown)
            let message = error?.message ?? ""
            #expect(message.contains("@cert-authority"))
            #expect(message.contains("\(sshd.knownHostsPath):1"))
            #expect(message.contains("cannot verify host certificates"))
            #expect(message.contains(try sshd.hostKeyFingerprint()))
        }

        @Test func aGlobalFileIsConsultedBesideTheUserFile() async throws {
            let global = sshd.dir + "/ssh_known_hosts"
            try "# nothing here\n".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            try (sshd.knownHostsLine() + "\n").write(toFile: global, atomically: true, encoding: .utf8)
            let connection = try await connect([sshd.knownHostsPath, sshd.dir + "/absent", global])
            #expect(try await connection.run("echo global").stdoutText == "global\n")
            await connection.close()
        }

        @Test func wildcardPortEntryIsAccepted() async throws {
            let pub = try String(contentsOfFile: sshd.hostKeyPubs[0], encoding: .utf8).split(separator: " ")
            try "[127.0.0.?]:\(sshd.port) \(pub[0]) \(pub[1])\n".write(toFile: sshd.knownHostsPath, atomically: true, encoding: .utf8)
            let connection = try await connect([sshd.knownHostsPath])
            #expect(try await connection.run("echo wild").stdoutText == "wild\n")
            await connection.close()
        }
    }
}
