import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

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

    @Test func failureWithoutStderrShowsStdout() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("INFO Running upgrade a -> b\nERROR duplicate column\n".utf8), status: 1) }
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade 2>&1"]))
        let failure = await Self.failure(step, stepContext(fake))
        #expect(failure?.message == "command exited with status 1")
        #expect(failure?.detail == "INFO Running upgrade a -> b\nERROR duplicate column")
        #expect(failure?.result["rc"] == .int(1))
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

    // MARK: unless

    /// A fake host whose `unless` probe (the script `probe`) ends with `status`, printing `said`; every other
    /// script (the command) succeeds.
    static func probing(_ probe: String, status: Int32, said: String = "") -> FakeRemote {
        let fake = FakeRemote()
        fake.commandHandler = { script, _ in
            script.hasSuffix(probe) ? CommandResult(stdout: Array(said.utf8), status: status) : CommandResult(stdout: Array("ran\n".utf8))
        }
        return fake
    }

    /// The `StepFailure` running `step` ends with, nil (and a recorded issue) when it does not fail so.
    static func failure(_ step: CommandStep, _ context: StepContext, sourceLocation: Testing.SourceLocation = #_sourceLocation) async -> StepFailure? {
        do {
            _ = try await step.run(context)
        } catch let failure as StepFailure {
            return failure
        } catch {
            Issue.record("expected a StepFailure, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
        Issue.record("expected a failure", sourceLocation: sourceLocation)
        return nil
    }

    @Test func unlessProbeSucceedingMeansOkAndTheCommandIsNotRun() async throws {
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade", "unless": "schema-current"]))
        for check in [false, true] {
            let fake = Self.probing("schema-current", status: 0, said: "at head 7da8489d6a68\n")
            let outcome = try await step.run(stepContext(fake, check: check))
            #expect(!outcome.changed && outcome.unchecked == nil && outcome.skippedReason == nil)
            #expect(outcome.message == "not run: `unless` probe succeeded: at head 7da8489d6a68")
            #expect(outcome.result["rc"] == .int(0) && outcome.result["stdout"] == .string(""))
            #expect(fake.commands == ["schema-current"], "only the probe runs")
            #expect(fake.writes.isEmpty)
        }
    }

    @Test func unlessProbeExitingOneRunsTheCommandInApply() async throws {
        let fake = Self.probing("schema-current", status: 1, said: "at 5d4caa6e0a42\n")
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade", "unless": "schema-current"]))
        let outcome = try await step.run(stepContext(fake))
        #expect(outcome.changed && outcome.message == "ran" && outcome.unchecked == nil)
        #expect(fake.commands == ["schema-current", "magnum-db-manage upgrade"])
        #expect(fake.writes == ["change: magnum-db-manage upgrade"], "the probe is read-only, the command a change")
        #expect(outcome.result["stdout"] == .string("ran"), "what registers is the command's output, not the probe's")
    }

    @Test func checkModeRunsOnlyTheProbeAndPredictsTheRunAsChecked() async throws {
        let fake = Self.probing("schema-current", status: 1, said: "schema at 5d4caa6e0a42, head is 7da8489d6a68\n")
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade", "unless": "schema-current"]))
        let outcome = try await step.run(stepContext(fake, check: true))
        #expect(outcome.changed)
        #expect(outcome.unchecked == nil, "a probed prediction is audited, not 'not audited'")
        #expect(outcome.message == "would run: `unless` probe exited 1: schema at 5d4caa6e0a42, head is 7da8489d6a68")
        #expect(fake.commands == ["schema-current"])
        #expect(fake.writes.isEmpty)
        // Nothing ran: no rc or output to register (a `changed_when` on them sees them undefined).
        #expect(outcome.result["rc"] == nil && outcome.result["stdout"] == nil)
    }

    @Test func withoutUnlessCheckModeStillMarksTheCommandUnchecked() async throws {
        let fake = FakeRemote()
        let outcome = try await CommandStep(arguments: args(["cmd": "make"])).run(stepContext(fake, check: true))
        #expect(outcome.changed && outcome.unchecked == "a command is not run in check mode")
        #expect(fake.commands.isEmpty)
    }

    @Test func probeThatCannotTellIsUncheckedInCheckModeAndAFailureInApply() async throws {
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade", "unless": "schema-current"]))
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stderr: Array("/etc/magnum/magnum.conf does not exist (yet)\n".utf8), status: 3) }
        let check = try await step.run(stepContext(fake, check: true))
        #expect(check.changed && check.message == "would run")
        #expect(check.unchecked == "`unless` probe cannot tell yet (exit 3): /etc/magnum/magnum.conf does not exist (yet)")
        let failure = await Self.failure(step, stepContext(fake))
        #expect(failure?.message == "`unless` probe cannot tell (exit 3); the command was not run")
        #expect(failure?.detail == "/etc/magnum/magnum.conf does not exist (yet)")
        #expect(failure?.result.isEmpty == true, "nothing ran: the step did not change anything")
        #expect(fake.commands == ["schema-current", "schema-current"] && fake.writes.isEmpty)
    }

    @Test(
        "a probe that fails (2, 126, 127, any other status, a signal) fails the step in apply and check; the command never runs",
        arguments: [Int32(2), 4, 126, 127, 255, -1])
    func probeFailureFailsTheStep(_ status: Int32) async throws {
        let step = try CommandStep(arguments: args(["cmd": "magnum-db-manage upgrade", "unless": "schema-current"]))
        for check in [false, true] {
            let fake = FakeRemote()
            fake.commandHandler = { _, _ in
                CommandResult(stdout: Array("partial\n".utf8), stderr: Array("sh: 1: schema-current: not found\n".utf8), status: status)
            }
            let failure = await Self.failure(step, stepContext(fake, check: check))
            let how = status < 0 ? "was killed by a signal" : "failed with exit status \(status)"
            #expect(failure?.message == "`unless` probe \(how); the command was not run")
            #expect(failure?.detail == "sh: 1: schema-current: not found", "the probe's stderr")
            #expect(fake.commands == ["schema-current"] && fake.writes.isEmpty)
        }
    }

    @Test func probeFailureWithoutStderrQuotesItsStdout() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stdout: Array("bad revision\n".utf8), status: 2) }
        let step = try CommandStep(arguments: args(["cmd": "x", "unless": "probe"]))
        #expect(await Self.failure(step, stepContext(fake))?.detail == "bad revision")
    }

    @Test func probeRunsInChdirAndAMissingDirectoryMeansCannotTell() async throws {
        let fake = Self.probing("test -f built", status: 0)
        let step = try CommandStep(arguments: args(["cmd": "make", "chdir": hostile, "unless": "test -f built"]))
        let outcome = try await step.run(stepContext(fake, check: true))
        #expect(!outcome.changed)
        #expect(fake.commands == ["cd -- \(Shell.quote(hostile)) || exit 3\ntest -f built"])
        // The command itself still stops with 1 when it cannot cd (as before).
        let run = Self.probing("test -f built", status: 1)
        _ = try await step.run(stepContext(run))
        #expect(run.commands.last == "cd -- \(Shell.quote(hostile)) || exit 1\nmake")
    }

    @Test func createsAndRemovesAreDecidedBeforeTheProbe() async throws {
        // `creates` exists: neither the probe nor the command runs.
        let created = Self.probing("probe", status: 1)
        created.put("/opt/app/built", "")
        let step = try CommandStep(arguments: args(["cmd": "make", "chdir": "/opt/app", "creates": "built", "unless": "probe"]))
        for check in [false, true] {
            let outcome = try await step.run(stepContext(created, check: check))
            #expect(!outcome.changed && outcome.message == "not run: built exists")
        }
        #expect(created.commands.isEmpty)

        // `removes` missing: the same.
        let removed = Self.probing("probe", status: 1)
        let removes = try CommandStep(arguments: args(["cmd": "rm /tmp/lock", "removes": "/tmp/lock", "unless": "probe"]))
        #expect(try await !removes.run(stepContext(removed)).changed)
        #expect(removed.commands.isEmpty)

        // Both let it through: then the probe decides (here: already done).
        let through = Self.probing("probe", status: 0)
        through.put("/tmp/lock", "")
        let both = try CommandStep(arguments: args(["cmd": "rm /tmp/lock", "creates": "/tmp/done", "removes": "/tmp/lock", "unless": "probe"]))
        let outcome = try await both.run(stepContext(through))
        #expect(!outcome.changed && outcome.message == "not run: `unless` probe succeeded")
        #expect(through.commands == ["probe"])
    }

    @Test func hostileProbeIsRunAsWrittenByTheShell() async throws {
        // `unless` is shell, like `cmd`: kept as written (quoting is the playbook's business), never re-quoted.
        let probe = "test \"$(cat /etc/x)\" = 'it'\''s'"
        let fake = Self.probing(probe, status: 0)
        _ = try await CommandStep(arguments: args(["cmd": "x", "unless": probe])).run(stepContext(fake))
        #expect(fake.commands == [probe])
    }

    @Test func argumentsAreChecked() {
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["cmd": ""])) }
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["creates": "/x"])) }
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["cmd": "x", "chdir": ""])) }
        #expect(throws: StepFailure.self) { try CommandStep(arguments: args(["cmd": "x", "unless": ""])) }
        #expect(CommandStep.schema.field("unless")?.type.description == "string")
        #expect(CommandStep.schema.freeForm == "cmd")
    }
}
