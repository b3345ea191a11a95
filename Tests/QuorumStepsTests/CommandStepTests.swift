import QuorumCore
@testable import QuorumSteps
import Testing

@Suite struct CommandStepTests {
    @Test func runsThroughChangeAndRegistersItsOutput() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("one\r\ntwo\n\n".utf8), stderr: Array("warn\n".utf8)) }
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade"]))
        let outcome = try await step.run(stepContext(fake))
        #expect(outcome.changed)
        #expect(fake.writes == ["change: magnum-db-manage upgrade"])
        #expect(outcome.result["rc"] == .int(0))
        #expect(outcome.result["stdout"] == .string("one\r\ntwo"))
        #expect(outcome.result["stdout_lines"] == .list([.string("one"), .string("two")]))
        #expect(outcome.result["stderr"] == .string("warn"))
    }

    @Test func checkModeReportsWouldRunAndRunsNothing() async throws {
        let fake = FakeRemote()
        let step = try CommandStep(arguments: args(["cmd": "touch /tmp/x", "creates": "/tmp/x"]))
        let outcome = try await step.run(stepContext(fake, check: true))
        #expect(outcome.changed)
        #expect(outcome.message == "would run")
        #expect(outcome.skippedReason == nil)
        #expect(fake.commands.isEmpty)
        #expect(fake.writes.isEmpty)
    }

    @Test func createsSkipsWhenThePathExistsInApplyAndCheck() async throws {
        let fake = FakeRemote()
        fake.put("/var/lib/magnum/.db-synced", "")
        let step = try CommandStep(arguments: args(["cmd": "sync", "creates": "/var/lib/magnum/.db-synced"]))
        for check in [true, false] {
            let outcome = try await step.run(stepContext(fake, check: check))
            #expect(!outcome.changed)
            #expect(outcome.result["rc"] == .int(0))
        }
        #expect(fake.commands.isEmpty)
    }

    @Test func removesSkipsWhenThePathIsMissing() async throws {
        let fake = FakeRemote()
        let step = try CommandStep(arguments: args(["cmd": "rm /tmp/lock", "removes": "/tmp/lock"]))
        #expect(try await !step.run(stepContext(fake)).changed)
        #expect(fake.commands.isEmpty)
        fake.put("/tmp/lock", "")
        #expect(try await step.run(stepContext(fake)).changed)
        #expect(fake.commands == ["rm /tmp/lock"])
    }

    @Test func relativeCreatesIsLookedUpInChdir() async throws {
        let fake = FakeRemote()
        fake.put("/opt/app/built", "")
        let step = try CommandStep(arguments: args(["cmd": "make", "chdir": "/opt/app", "creates": "built"]))
        #expect(try await !step.run(stepContext(fake)).changed)
        #expect(fake.commands.isEmpty)
    }

    @Test func nonZeroExitIsAFailureWithStatusAndStderr() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stderr: Array("no such table\n".utf8), status: 3) }
        let step = try CommandStep(arguments: args(["cmd": "false"]))
        do {
            _ = try await step.run(stepContext(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.message.contains("status 3"))
            #expect(failure.detail == "no such table")
        }
    }

    @Test func hostileChdirIsQuotedAndTheCommandKeptAsWritten() async throws {
        let fake = FakeRemote()
        let step = try CommandStep(arguments: args(["cmd": "ls | wc -l", "chdir": hostile]))
        _ = try await step.run(stepContext(fake))
        let script = try #require(fake.commands.first)
        let firstLine = try #require(script.split(separator: "\n", maxSplits: 1).first)
        // `cd -- <dir> || exit 1`, then the command on its own line.
        #expect(script == "cd -- \(Shell.quote(hostile)) || exit 1\nls | wc -l")
        #expect(firstLine.hasPrefix("cd -- '/srv/it'\\''s $(touch pwned)"))
        #expect(try ScriptWords.parse(String(script.dropFirst(6).prefix(Shell.quote(hostile).count))) == [[hostile]])
    }

    @Test func stdinIsGivenToTheCommand() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, stdin in CommandResult(stdout: stdin) }
        let step = try CommandStep(arguments: args(["cmd": "cat", "stdin": "secret $(x)"]))
        let outcome = try await step.run(stepContext(fake))
        #expect(outcome.result["stdout"] == .string("secret $(x)"))
    }

    @Test func argumentsAreChecked() {
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["cmd": ""])) }
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["creates": "/x"])) }
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["cmd": "x", "chdir": ""])) }
        #expect(CommandStep.schema.freeForm == "cmd")
    }
}
