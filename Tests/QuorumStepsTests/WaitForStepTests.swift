import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

private func context(_ remote: any Remote, check: Bool = false) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil)
}

private func waitFor(_ values: [(String, Value)]) throws -> WaitForStep {
    try WaitForStep(arguments: Arguments(.init(values, uniquingKeysWith: { _, last in last })))
}

private func scratchDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "quorum-waitfor-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct WaitForStepTests {
    @Test func hostilePathIsQuotedAndWaitedForForReal() async throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hostile = dir + "/it's $(touch pwned) `touch pwned2` \\ \"x\""
        let host = LocalShellRemote(host: "localhost", directory: dir, refusingChanges: "wait_for must never change a host")
        let step = try waitFor([("path", .string(hostile)), ("timeout", .int(1))])

        // Not there yet: check mode skips after one check; apply times out naming path and duration.
        let predicted = try await step.run(context(host, check: true))
        #expect(predicted.skippedReason == "would wait for \(hostile) to be present (up to 1s)")
        do {
            _ = try await step.run(context(host))
            Issue.record("expected a timeout")
        } catch let failure as StepFailure {
            #expect(failure.message == "timed out after 1s waiting for \(hostile) to be present")
        }

        #expect(FileManager.default.createFile(atPath: hostile, contents: Data()))
        let outcome = try await step.run(context(host))
        #expect(!outcome.changed && outcome.skippedReason == nil)
        #expect(outcome.message?.hasPrefix("\(hostile) present after ") == true)
        let absent = try await waitFor([("path", .string(hostile)), ("state", .string("absent"))]).run(context(host, check: true))
        #expect(absent.skippedReason != nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned2"))
    }

    @Test func processPatternNeverMatchesTheWaitingShell() async throws {
        let host = LocalShellRemote(host: "localhost", directory: "/", refusingChanges: "wait_for must never change a host")
        // The pattern comes through stdin: were it in the script, `pgrep -f` would find the shell running it.
        // (`sh -c 'pgrep -f -- quorum-never-runs-xyz'` finds its own shell.)
        let step = try waitFor([
            ("process", .string("quorum-never-runs-xyz")), ("process_match", .string("full")),
            ("state", .string("absent")), ("timeout", .int(2))
        ])
        let outcome = try await step.run(context(host))
        #expect(outcome.message?.hasPrefix("process matching `quorum-never-runs-xyz` gone after ") == true)
        let hostile = try waitFor([
            ("process", .string("x' $(touch /tmp/quorum-pwned) `touch /tmp/quorum-pwned`")),
            ("process_match", .string("full")), ("state", .string("absent"))
        ])
        _ = try await hostile.run(context(host))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/quorum-pwned"))
    }

    @Test func processStillRunningAfterTimeoutIsNamedWithItsPid() async throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["307.123"]
        // The child must not hold the test runner's output open after the test: no pipes, killed for sure
        // (SIGKILL: a blocked SIGTERM may be inherited from the runner).
        sleeper.standardOutput = FileHandle.nullDevice
        sleeper.standardError = FileHandle.nullDevice
        sleeper.standardInput = FileHandle.nullDevice
        try sleeper.run()
        defer {
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
        }
        let host = LocalShellRemote(host: "localhost", directory: "/", refusingChanges: "wait_for must never change a host")
        let step = try waitFor([
            ("process", .string("sleep 307\\.123")), ("process_match", .string("full")),
            ("state", .string("stopped")), ("timeout", .int(1))
        ])
        do {
            _ = try await step.run(context(host))
            Issue.record("expected a timeout")
        } catch let failure as StepFailure {
            #expect(failure.message == "timed out after 1s waiting for process matching `sleep 307\\.123` to stop")
            #expect(failure.detail?.contains("\(sleeper.processIdentifier)") == true)
        }
        let running = try await waitFor([("process", .string("sleep")), ("state", .string("present")), ("timeout", .int(1))])
            .run(context(host))
        // The elapsed seconds depend on the machine's load; the wording and the outcome do not.
        #expect(running.message?.hasPrefix("process sleep running after ") == true)
    }

    @Test func closedPortForReal() async throws {
        let host = LocalShellRemote(host: "localhost", directory: "/", refusingChanges: "wait_for must never change a host")
        let closed = try await waitFor([("port", .int(1)), ("state", .string("closed"))]).run(context(host))
        #expect(closed.message?.hasPrefix("port 127.0.0.1:1 closed after ") == true)
        let open = try waitFor([("port", .int(1)), ("timeout", .int(1))])
        #expect(try await open.run(context(host, check: true)).skippedReason == "would wait for port 127.0.0.1:1 to be open (up to 1s)")
        await #expect(throws: StepFailure.self) { try await open.run(context(host)) }
    }

    @Test func portScriptQuotesAndUsesDevTcpWithAPerAttemptTimeout() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("__quorum_wait_done__ 3\n".utf8)) }
        let step = try waitFor([("host", .string("10.0.0.11")), ("port", .int(9511)), ("timeout", .int(120)), ("delay", .int(5))])
        let outcome = try await step.run(context(fake))
        #expect(outcome.message == "port 10.0.0.11:9511 open after 3s")
        #expect(outcome.result["elapsed"] == .int(3))
        let script = fake.commands[0]
        #expect(script.contains("timeout 1 bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' _ 10.0.0.11 9511"))
        #expect(script.contains("sleep 5"))
        #expect(script.contains("deadline=$((begin + 120))"))
        #expect(fake.writes.isEmpty)
        // Check mode: one check (timeout 0, no delay).
        _ = try await step.run(context(fake, check: true))
        #expect(fake.commands[1].contains("deadline=$((begin + 0))") && !fake.commands[1].contains("sleep 5"))
        #expect(try shellAccepts(script))
    }

    @Test func missingToolsAreReportedNotWaitedOut() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("__quorum_wait_error__ needs bash and timeout on the host\n".utf8), status: 2) }
        do {
            _ = try await waitFor([("port", .int(22))]).run(context(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.message == "cannot wait for port 127.0.0.1:22 to be open: needs bash and timeout on the host")
        }
    }

    @Test func argumentsAreChecked() {
        #expect(throws: StepFailure.self) { try waitFor([]) }
        #expect(throws: StepFailure.self) { try waitFor([("port", .int(22)), ("path", .string("/x"))]) }
        #expect(throws: StepFailure.self) { try waitFor([("port", .int(70000))]) }
        #expect(throws: StepFailure.self) { try waitFor([("port", .int(22)), ("host", .string("$(touch pwned)"))]) }
        #expect(throws: StepFailure.self) { try waitFor([("path", .string("/x")), ("host", .string("db1"))]) }
        #expect(throws: StepFailure.self) { try waitFor([("process", .string("magnum-conductor"))]) }  // 16 chars
        #expect(throws: StepFailure.self) { try waitFor([("process", .string("a\nb"))]) }
        #expect(throws: StepFailure.self) { try waitFor([("path", .string("/x")), ("sleep", .int(0))]) }
        #expect(throws: StepFailure.self) { try waitFor([("path", .string("/x")), ("state", .string("running"))]) }
        #expect((try? waitFor([("process", .string("magnum-conductor")), ("process_match", .string("full"))])) != nil)
    }
}
