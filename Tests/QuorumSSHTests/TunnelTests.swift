import Foundation
import QuorumSSH
import Synchronization
import Testing

/// A tiny blocking TCP echo server on 127.0.0.1: one thread per connection, echoes until EOF, then closes.
final class EchoServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, len) == 0 && listen(listener, 16) == 0 && getsockname(listener, $0, &len) == 0
            }
        }
        guard ok else { throw FixtureError(description: "echo server cannot listen") }
        fd = listener
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { EchoServer.echo(client) }
            }
        }
    }

    private static func echo(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { write(client, $0.baseAddress! + offset, n - offset) }
                if w <= 0 { break loop }
                offset += w
            }
        }
        close(client)
    }

    func stop() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { raw in
        for i in stride(from: 0, to: count - count % 8, by: 8) { raw.storeBytes(of: generator.next() as UInt64, toByteOffset: i, as: UInt64.self) }
    }
    return bytes
}

/// Connects to 127.0.0.1:port, sends `payload` while reading, half-closes, reads to EOF (on its own thread).
func exchange(port: Int, payload: [UInt8]) async throws -> [UInt8] {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else {
                continuation.resume(throwing: FixtureError(description: "cannot connect to 127.0.0.1:\(port)"))
                return
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var received: [UInt8] = []
            var sent = 0
            var halfClosed = false
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if sent == payload.count, !halfClosed {
                    _ = shutdown(fd, Int32(SHUT_WR))
                    halfClosed = true
                }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN) | (halfClosed ? 0 : Int16(POLLOUT)), revents: 0)
                _ = poll(&pfd, 1, 1000)
                if !halfClosed {
                    let w = payload.withUnsafeBytes { send(fd, $0.baseAddress! + sent, min(payload.count - sent, 65536), Int32(MSG_NOSIGNAL)) }
                    if w > 0 { sent += w }
                }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { received.append(contentsOf: buffer[0..<n]) }
                if n == 0 { break }
            }
            continuation.resume(returning: received)
        }
    }
}

extension QuorumSSHTests {
    @Suite
    final class TunnelTests {
        let sshd: SSHD
        let echo: EchoServer
        init() throws {
            sshd = try SSHD()
            echo = try EchoServer()
        }
        deinit {
            echo.stop()
            sshd.stop()
        }

        @Test func echoRoundTripWhileCommandsRun() async throws {
            let connection = try await sshd.connectRoot()
            let tunnel = try await connection.openTunnel(toHost: "127.0.0.1", port: echo.port)
            #expect(tunnel.localPort > 0)

            let small = try await exchange(port: tunnel.localPort, payload: Array("ping ✓\n".utf8))
            #expect(small == Array("ping ✓\n".utf8))

            let payloads = (0..<3).map { _ in randomBytes(2 * 1024 * 1024 + 123) }
            let start = ContinuousClock.now
            async let first = exchange(port: tunnel.localPort, payload: payloads[0])
            async let second = exchange(port: tunnel.localPort, payload: payloads[1])
            async let third = exchange(port: tunnel.localPort, payload: payloads[2])
            // Commands on the same session while the tunnel carries traffic.
            for i in 0..<5 {
                #expect(try await connection.run("echo \(i)").stdoutText == "\(i)\n")
            }
            let results = try await [first, second, third]
            print("3 x 2 MB echoed through the tunnel in \(String(format: "%.2f", elapsed(since: start))) s")
            for (sent, got) in zip(payloads, results) {
                #expect(got.count == sent.count)
                #expect(got == sent)
            }

            await tunnel.close()
            #expect(!canConnect(port: tunnel.localPort))
            #expect(try await connection.run("echo after").stdoutText == "after\n")
            await connection.close()
        }

        @Test("a session tells SSHOptions.notes of each tunnel it opens, naming itself")
        func tunnelOpenedIsNoted() async throws {
            let notes = Mutex<[SSHNote]>([])
            var options = SSHOptions()
            options.notes = { note in notes.withLock { $0.append(note) } }
            let connection = try await sshd.connectRoot(options: options)
            let tunnel = try await connection.openTunnel(toHost: "127.0.0.1", port: echo.port)
            await connection.close()
            let said = notes.withLock { $0 }
            #expect(
                said.contains {
                    $0.kind == .detail && $0.message.hasPrefix("tunnel 127.0.0.1:\(tunnel.localPort) -> 127.0.0.1:\(echo.port) via ")
                }, "\(said)")
        }

        @Test func tunnelKeepsWorkingWhileIdle() async throws {
            let connection = try await sshd.connectRoot()
            let tunnel = try await connection.openTunnel(toHost: "127.0.0.1", port: echo.port)
            for round in 0..<3 {
                let text = Array("round \(round)".utf8)
                #expect(try await exchange(port: tunnel.localPort, payload: text) == text)
                try await Task.sleep(for: .milliseconds(200))
            }
            await connection.close()
        }

        @Test func destinationNotListening() async throws {
            let connection = try await sshd.connectRoot()
            let port = try freePort()
            let error = await sshError { _ = try await connection.openTunnel(toHost: "127.0.0.1", port: port) }
            #expect(error?.kind == .channelFailure)
            #expect(error?.message.contains("127.0.0.1:\(port)") == true)
            #expect(try await connection.run("echo ok").stdoutText == "ok\n")
            await connection.close()
        }
    }

    @Suite
    final class ForwardingRefusedTests {
        let sshd: SSHD
        init() throws { sshd = try SSHD(extraConfig: ["AllowTcpForwarding no"]) }
        deinit { sshd.stop() }

        @Test func refusedForwardingNamesTheSetting() async throws {
            let connection = try await sshd.connectRoot()
            let error = await sshError { _ = try await connection.openTunnel(toHost: "127.0.0.1", port: 3306) }
            #expect(error?.kind == .forwardingRefused)
            let message = error?.message ?? ""
            print("forwarding refused: \(message)")
            #expect(message.contains("AllowTcpForwarding"))
            #expect(message.contains("127.0.0.1:\(sshd.port)"))
            #expect(message.contains("127.0.0.1:3306"))
            #expect(try await connection.run("echo still usable").stdoutText == "still usable\n")
            await connection.close()
        }
    }
}
