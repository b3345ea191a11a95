import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumSteps

// LoopbackHAProxy: Support/LoopbackHAProxy.swift; LocalShellRemote: QuorumTesting.

@Suite(.serialized) struct HAProxyDrainTests {
    static let haveHAProxy = FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")

    private func context(_ remote: LocalShellRemote) -> StepContext {
        StepContext(
            remote: remote, host: "local", check: false, wantsDiff: false, variables: [:], templates: TemplateRenderer(),
            files: FileResolver(searchPath: []), location: nil, playHosts: ["local"])
    }

    private func drain(_ haproxy: LoopbackHAProxy, health: Bool = true) -> HAProxyDrain {
        HAProxyDrain(
            backend: "test_api", server: "s1", socket: haproxy.socket,
            healthURL: health ? "http://127.0.0.1:\(haproxy.backendPort)/" : nil, timeout: 10)
    }

    @Test(.enabled(if: haveHAProxy)) func drainsDuringTheBodyAndPutsTheServerBack() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalShellRemote()
        let drain = drain(haproxy)
        // UP before (HAProxy's first check passes within a second).
        for _ in 0..<40 {
            if try await drain.state(on: remote, host: "local")?.status.hasPrefix("UP") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let before = try #require(try await drain.state(on: remote, host: "local"), "HAProxy is not running")
        #expect(before.status == "UP")
        let during = try await drain.around(context(remote)) { try await drain.state(on: remote, host: "local") }
        #expect(during?.status == "DRAIN", "\(String(describing: during))")
        let after = try await drain.state(on: remote, host: "local")
        #expect(after?.status == "UP")
        #expect(remote.scripts.contains { $0.contains("urllib.request") }, "the health URL was not asked")
    }

    @Test(.enabled(if: haveHAProxy)) func aFailureAfterTheDrainPutsTheServerBack() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalShellRemote()
        let drain = drain(haproxy, health: false)
        await #expect(throws: StepFailure.self) {
            try await drain.around(context(remote)) {
                let during = try await drain.state(on: remote, host: "local")
                #expect(during?.status == "DRAIN", "\(String(describing: during))")
                throw StepFailure("the restart failed")
            }
        }
        let after = try #require(try await drain.state(on: remote, host: "local"), "HAProxy is not running")
        #expect(after.status != "DRAIN" && after.status != "MAINT", "\(after)")
    }

    @Test(.enabled(if: haveHAProxy)) func unknownServerIsNamed() async throws {
        let haproxy = try LoopbackHAProxy()
        defer { haproxy.stop() }
        let remote = LocalShellRemote()
        let wrong = HAProxyDrain(backend: "test_api", server: "nope", socket: haproxy.socket, timeout: 2)
        let error = await #expect(throws: StepFailure.self) { try await wrong.around(context(remote)) { 0 } }
        #expect(error?.description.contains("nope") == true, "\(String(describing: error))")
    }

    @Test func argumentsAreChecked() throws {
        #expect(throws: StepFailure.self) { try HAProxyDrain(["server": .string("s1")], host: "h", location: nil) }
        #expect(throws: StepFailure.self) { try HAProxyDrain(["backend": .string("a b")], host: "h", location: nil) }
        #expect(throws: StepFailure.self) { try HAProxyDrain(["backend": .string("b"), "bogus": .int(1)], host: "h", location: nil) }
        let parsed = try HAProxyDrain(["backend": .string("magnum_api")], host: "ctl2", location: nil)
        #expect(parsed.server == "ctl2" && parsed.socket == "/run/haproxy/admin.sock" && parsed.timeout == 60)
    }
}
