import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

@Suite struct LineStepTests {
    let path = "/etc/magnum/magnum.conf"

    /// Applies `arguments` to a file holding `before` (check mode first); expects `after`, then a second run
    /// that changes nothing. Returns the first outcome.
    @discardableResult
    func expectEdit(
        _ before: String, _ arguments: Arguments, _ after: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> StepOutcome {
        let fake = FakeRemote()
        fake.put(path, before, mode: 0o640, owner: "root", group: "magnum")
        let step = try LineStep(arguments: arguments)
        let outcome = try await checkThenApply(step, on: fake)
        let written = try #require(fake.file(path), sourceLocation: sourceLocation)
        #expect(written.text == after, sourceLocation: sourceLocation)
        #expect(
            written.info == FileInfo(kind: .file, mode: 0o640, owner: "root", group: "magnum"),
            "attributes kept", sourceLocation: sourceLocation)
        #expect(outcome.changed == (before != after), sourceLocation: sourceLocation)
        #expect(
            outcome.diffs == (before != after ? [.file(path, before: before, after: after)] : []),
            sourceLocation: sourceLocation)
        let writes = fake.writes.count
        #expect(try await !step.run(stepContext(fake)).changed, "second run", sourceLocation: sourceLocation)
        #expect(fake.writes.count == writes, sourceLocation: sourceLocation)
        #expect(fake.commands.isEmpty, "no scripts, only readFile and writeFile", sourceLocation: sourceLocation)
        return outcome
    }

    @Test func appendsAtTheEnd() async throws {
        try await expectEdit("a\nb\n", args(["path": path, "line": "c"]), "a\nb\nc\n")
    }

    @Test func appendsAfterALastLineWithoutNewline() async throws {
        try await expectEdit("a\nb", args(["path": path, "line": "c"]), "a\nb\nc\n")
    }

    @Test func appendsToAnEmptyFile() async throws {
        try await expectEdit("", args(["path": path, "line": "c"]), "c\n")
    }

    @Test func presentLineIsOkWithoutAWrite() async throws {
        try await expectEdit("a\nc\nb", args(["path": path, "line": "c"]), "a\nc\nb")
    }

    @Test func regexpReplacesTheLastMatchOnly() async throws {
        try await expectEdit(
            "x = 1\ny\nx = 2\nz\n", args(["path": path, "line": "x = 3", "regexp": "^x\\s*="]),
            "x = 1\ny\nx = 3\nz\n")
    }

    @Test func regexpReplaceKeepsTheLineEnding() async throws {
        try await expectEdit("a\nx=1", args(["path": path, "line": "x=2", "regexp": "^x="]), "a\nx=2")
        try await expectEdit("x=1\r\ny\r\n", args(["path": path, "line": "x=2", "regexp": "^x="]), "x=2\r\ny\r\n")
    }

    @Test func regexpWithoutMatchInsertsAfter() async throws {
        let text = "[DEFAULT]\ndebug = false\n[database]\nconnection = x\n"
        try await expectEdit(
            text,
            args([
                "path": path, "line": "transport_url = rabbit://", "regexp": "^transport_url",
                "after": "^\\[DEFAULT\\]"
            ]),
            "[DEFAULT]\ntransport_url = rabbit://\ndebug = false\n[database]\nconnection = x\n")
    }

    @Test func afterWithoutMatchOrEOFAppends() async throws {
        try await expectEdit("a\n", args(["path": path, "line": "b", "after": "^nothing"]), "a\nb\n")
        try await expectEdit("EOF\nx\n", args(["path": path, "line": "b", "after": "EOF"]), "EOF\nx\nb\n")
    }

    @Test func afterTheLastMatchingLine() async throws {
        try await expectEdit("k=1\nk=2\nend", args(["path": path, "line": "n", "after": "^k="]), "k=1\nk=2\nn\nend")
        try await expectEdit("a\nk=1", args(["path": path, "line": "n", "after": "^k="]), "a\nk=1\nn\n")
    }

    @Test func absentRemovesEveryEqualLine() async throws {
        try await expectEdit("a\nb\na\nc\na", args(["path": path, "line": "a", "state": "absent"]), "b\nc\n")
        try await expectEdit("a\r\nab\r\n", args(["path": path, "line": "a", "state": "absent"]), "ab\r\n")
    }

    @Test func absentWithRegexpRemovesMatches() async throws {
        try await expectEdit(
            "rabbit_hosts = a\nkeep\nrabbit_port = 1\n",
            args(["path": path, "state": "absent", "regexp": "^rabbit_"]), "keep\n")
    }

    @Test func absentOnAMissingFileIsOk() async throws {
        let fake = FakeRemote()
        let outcome = try await LineStep(arguments: args(["path": path, "line": "a", "state": "absent"])).run(stepContext(fake))
        #expect(!outcome.changed)
    }

    @Test func missingFileFailsUnlessCreate() async throws {
        let fake = FakeRemote()
        let step = try LineStep(arguments: args(["path": path, "line": "a"]))
        await #expect(throws: StepFailure.self) { try await step.run(stepContext(fake)) }
        let create = try LineStep(arguments: args(["path": path, "line": "a", "create": true]))
        let outcome = try await checkThenApply(create, on: fake)
        #expect(outcome.diffs == [.file(path, before: nil, after: "a\n")])
        #expect(fake.file(path)?.text == "a\n")
        #expect(try await !create.run(stepContext(fake)).changed)
    }

    @Test func hostileLineIsWrittenLiterallyWithoutAShell() async throws {
        let line = "x = $(touch pwned) `id` 'q' \"d\" \\ \\n"
        try await expectEdit("a\n", args(["path": path, "line": line]), "a\n\(line)\n")
        // A regexp that is only a literal match of the same text.
        try await expectEdit("x = old\n", args(["path": path, "line": line, "regexp": "^x = "]), "\(line)\n")
    }

    @Test func badArgumentsAreRefused() {
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": path])) }
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": path, "line": "a\nb"])) }
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": path, "line": "a\r\nb"])) }
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": path, "line": "a", "regexp": "(["])) }
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": path, "state": "absent"])) }
        #expect(throws: StepFailure.self) { try LineStep(arguments: args(["path": "rel", "line": "a"])) }
        #expect(throws: StepFailure.self) {
            try LineStep(arguments: args(["path": path, "line": "a", "state": "absent", "after": "x"]))
        }
    }
}
