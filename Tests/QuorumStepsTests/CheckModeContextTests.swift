import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

/// Check mode has one shape: the context's `check`. The context makes its Remote, its peers' and the one a
/// step moves to (`on(_:remote:)`) read-only by itself, whatever Remote it was given.
@Suite("Check mode in the step context")
struct CheckModeContextTests {
    func context(check: Bool, _ hosts: [String: FakeRemote]) -> StepContext {
        StepContext(
            remote: hosts["ctl1"]!, host: "ctl1", check: check, wantsDiff: false, variables: [:],
            templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil,
            playHosts: ["ctl1", "ctl2"], peer: { name in hosts[name]! })
    }

    @Test("check: every write through the context's Remote, a peer's, or a moved context's is refused; nothing reaches the host")
    func checkRefusesWrites() async throws {
        let hosts = ["ctl1": FakeRemote(host: "ctl1"), "ctl2": FakeRemote(host: "ctl2")]
        let context = context(check: true, hosts)
        let peer = try await context.peer("ctl2")
        for remote in [context.remote, peer, context.on("ctl2", remote: hosts["ctl2"]!).remote] {
            await #expect(throws: RemoteError.self) { try await remote.change("touch /etc/x") }
            await #expect(throws: RemoteError.self) {
                try await remote.writeFile("/etc/x", content: [], attributes: FileAttributes(), validate: nil)
            }
            _ = try await remote.probe("true")
        }
        #expect(hosts.values.allSatisfy { $0.writes.isEmpty })
        #expect(hosts.values.allSatisfy { !$0.commands.contains("touch /etc/x") })
    }

    @Test("apply: the Remote it was given, writable")
    func applyWrites() async throws {
        let hosts = ["ctl1": FakeRemote(host: "ctl1"), "ctl2": FakeRemote(host: "ctl2")]
        let context = context(check: false, hosts)
        _ = try await context.remote.change("touch /etc/x")
        _ = try await context.peer("ctl2").change("touch /etc/y")
        #expect(hosts["ctl1"]!.commands == ["touch /etc/x"] && hosts["ctl2"]!.commands == ["touch /etc/y"])
    }
}
