import Foundation
import QuorumCore
import Testing

@testable import QuorumEngine

/// `quorum exec` against in-memory hosts: grouping per host in inventory order, the exit status, secrets.
@Suite struct ExecRunTests {
    /// The harness's three hosts, with a secret-named variable.
    static let inventory = EngineHarness.threeHosts + "\n      vars: {db_password: Sekr1t-Value}\n"

    /// Runs `command` on `pattern`'s hosts with the harness's hosts; returns the summary and what was printed.
    func exec(
        _ command: [String], pattern: String = "controllers", unreachable: Set<String> = [],
        answers: [String: String] = [:], interruption: RunInterruption = RunInterruption()
    ) async throws -> (ExecSummary, String) {
        let dir = NSTemporaryDirectory() + "quorum-exec-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.inventory.write(toFile: dir + "/inv.yml", atomically: true, encoding: .utf8)
        let inventory = try Inventory.load(dir + "/inv.yml", vault: nil)
        let hosts = try inventory.select(pattern)
        let connector = EngineHarness.Connector(journal: EngineHarness.Journal(), unreachable: unreachable, answers: answers)
        let engine = Engine(
            inventory: inventory, options: RunOptions(), connector: connector, redactor: SecretRedactor(),
            interruption: interruption)
        let terminal = FakeTerminal()
        let summary = await engine.exec(
            Shell.join(command), on: hosts, become: false,
            observer: ExecReporter(output: terminal.output(.plain), hosts: hosts))
        return (summary, terminal.text)
    }

    @Test("each host's output under its `host | exit N` header, in inventory order, then a recap line per host")
    func groupedOutput() async throws {
        let (summary, text) = try await exec(["hostname"])
        #expect(summary.exitStatus == .success)
        #expect(summary.results.map(\.host) == ["c1", "c2", "c3"])
        #expect(text.hasPrefix("c1 | exit 0\n  c1\nc2 | exit 0\n  c2\nc3 | exit 0\n  c3\n\nRECAP\n"), "\(text)")
        #expect(text.contains("\n  c1  exit 0  ") && text.contains("\n  c3  exit 0  ") && text.hasSuffix("exit 0\n"), "\(text)")
    }

    @Test("a command failing on one host: exit 2, that host's status and stderr shown under its header")
    func oneHostFails() async throws {
        let (summary, text) = try await exec(["sh", "-c", "FAIL-ON-c2"])
        #expect(summary.exitStatus == .stepFailed)
        #expect(text.contains("c2 | exit 1\n  stderr: boom\n"), "\(text)")
        #expect(text.contains("c1 | exit 0\n") && text.contains("c3 | exit 0\n"))
        #expect(text.contains("\n  c2  exit 1  "), "\(text)")
    }

    @Test("an unreachable host: exit 3, which wins over a failed command")
    func unreachableWins() async throws {
        let (summary, text) = try await exec(["sh", "-c", "FAIL-ON-c2"], unreachable: ["c3"])
        #expect(summary.exitStatus == .unreachable)
        #expect(text.contains("c3 | unreachable: c3: connection refused\n"), "\(text)")
        #expect(text.contains("\n  c3  unreachable\n"), "\(text)")
    }

    @Test("exit status: 0 all exited 0; 2 a non-zero exit or a command that could not run; 3 unreachable; 130 interrupted")
    func exitStatusMapping() {
        func status(_ endings: [ExecResult.Ending], interrupted: Bool = false) -> QuorumEngine.ExitStatus {
            ExecSummary(
                results: endings.enumerated().map { ExecResult(host: "h\($0.offset)", ending: $0.element) },
                interruption: interrupted ? "SIGINT" : nil
            ).exitStatus
        }
        #expect(status([.exited(0), .exited(0)]) == .success)
        #expect(status([.exited(0), .exited(127)]) == .stepFailed)
        #expect(status([.exited(0), .failed("sudo needs a password")]) == .stepFailed)
        #expect(status([.exited(1), .unreachable("refused"), .exited(0)]) == .unreachable)
        #expect(status([.exited(0), .interrupted, .notStarted], interrupted: true) == .interrupted)
    }

    @Test("words are shell-quoted: a hostile argument reaches the host as one word")
    func quoting() {
        #expect(Shell.join(["echo", "$(id)", "it's"]) == "echo '$(id)' 'it'\\''s'")
    }

    @Test("secrets of the inventory are masked in the hosts' output")
    func secretsMasked() async throws {
        let (summary, text) = try await exec(["print-secret"], answers: ["print-secret": "password is Sekr1t-Value\n"])
        #expect(summary.exitStatus == .success)
        #expect(!text.contains("Sekr1t-Value") && text.contains("  password is ********\n"), "\(text)")
    }

    @Test("a stop request: hosts still running are named, the exit status is 130")
    func interrupted() async throws {
        let interruption = RunInterruption()
        let stopper = Task {
            try await Task.sleep(for: .milliseconds(200))
            interruption.requestStop("SIGINT")
        }
        let (summary, text) = try await exec(["BLOCK"], interruption: interruption)
        _ = try await stopper.value
        #expect(summary.exitStatus == .interrupted)
        #expect(summary.stillRunning == ["c1", "c2", "c3"])
        #expect(text.contains("c1 | interrupted: still running when stopped"), "\(text)")
        #expect(text.contains("still running when stopped (the command may go on there): c1, c2, c3"), "\(text)")
    }
}
