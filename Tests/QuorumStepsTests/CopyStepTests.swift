import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

@Suite struct CopyStepTests {
    let dest = "/etc/magnum/api-paste.ini"

    @Test func createsThenIsOkWithOneProbe() async throws {
        let fake = FakeRemote()
        let step = try CopyStep(
            arguments: args([
                "dest": dest, "content": "[app]\nx = 1\n", "mode": "0640",
                "owner": "magnum"
            ]))
        let first = try await checkThenApply(step, on: fake)
        #expect(first.changed)
        #expect(
            first.diffs == [
                .file(dest, before: nil, after: "[app]\nx = 1\n"),
                Diff(subject: "owner", before: nil, after: "magnum"),
                Diff(subject: "mode", before: nil, after: "0640")
            ])
        #expect(fake.writes == ["write: \(dest)"])
        #expect(fake.file(dest)?.info == FileInfo(kind: .file, mode: 0o640, owner: "magnum", group: "root"))
        let second = try await step.run(stepContext(fake))
        #expect(!second.changed)
        #expect(fake.writes.count == 1)
        #expect(fake.commands.isEmpty)
    }

    @Test func changedContentIsRewrittenWithADiff() async throws {
        let fake = FakeRemote()
        fake.put(dest, "old\n")
        let step = try CopyStep(arguments: args(["dest": dest, "content": "new\n"]))
        let outcome = try await checkThenApply(step, on: fake)
        #expect(outcome.diffs == [.file(dest, before: "old\n", after: "new\n")])
        #expect(fake.file(dest)?.text == "new\n")
        #expect(fake.file(dest)?.info.mode == 0o644)
    }

    @Test func attributesOnlyAreFixedWithoutRewriting() async throws {
        let fake = FakeRemote()
        fake.commandHandler = ScriptWords.interpreter(fake)
        fake.put(dest, "same\n", mode: 0o644)
        let step = try CopyStep(arguments: args(["dest": dest, "content": "same\n", "mode": 600, "group": "magnum"]))
        let outcome = try await checkThenApply(step, on: fake)
        #expect(
            outcome.diffs == [
                Diff(subject: "group", before: "root", after: "magnum"),
                Diff(subject: "mode", before: "0644", after: "0600")
            ])
        #expect(fake.writes.count == 1)
        #expect(fake.writes[0].hasPrefix("change: "))
        #expect(try ScriptWords.parse(fake.commands[0]) == [["chgrp", "--", "magnum", dest], ["chmod", "--", "0600", dest]])
        #expect(try await !step.run(stepContext(fake)).changed)
        #expect(fake.writes.count == 1)
    }

    @Test func backupCopiesTheOldFileBeforeWriting() async throws {
        let fake = FakeRemote()
        fake.put(dest, "old\n")
        let step = try CopyStep(arguments: args(["dest": dest, "content": "new\n", "backup": true]))
        let outcome = try await step.run(stepContext(fake))
        let backup = try #require(outcome.result["backup_file"]?.stringValue)
        #expect(backup.hasPrefix(dest + ".") && backup.hasSuffix("~"))
        #expect(fake.writes.count == 2)
        #expect(fake.writes[1] == "write: \(dest)")
        #expect(try ScriptWords.parse(fake.commands[0]) == [["cp", "-p", "--", dest, backup]])
        // No backup when there is nothing to overwrite or nothing changes.
        let again = try await step.run(stepContext(fake))
        #expect(!again.changed && again.result["backup_file"] == nil)
        let fresh = FakeRemote()
        _ = try await CopyStep(arguments: args(["dest": dest, "content": "x", "backup": true])).run(stepContext(fresh))
        #expect(fresh.writes == ["write: \(dest)"])
    }

    @Test func srcIsReadFromTheFilesDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-copy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: dir + "/policy.yaml"))
        let fake = FakeRemote()
        let step = try CopyStep(arguments: args(["dest": "/etc/magnum/policy.yaml", "src": "policy.yaml"]))
        _ = try await checkThenApply(step, on: fake, files: [dir])
        #expect(fake.file("/etc/magnum/policy.yaml")?.text == "from a file\n")
        let missing = try CopyStep(arguments: args(["dest": dest, "src": "nope.yaml"]))
        await #expect(throws: StepFailure.self) { try await missing.run(stepContext(fake, files: [dir])) }
    }

    @Test func hostileContentAndDestNeverReachAShell() async throws {
        let fake = FakeRemote()
        let content = "$(touch pwned)\n`id`\n'\\\n"
        let step = try CopyStep(arguments: args(["dest": hostile, "content": content]))
        _ = try await checkThenApply(step, on: fake)
        #expect(fake.file(hostile)?.text == content)
        #expect(fake.commands.isEmpty)
        // Attributes of the hostile path go through one quoted script.
        let chmod = try CopyStep(arguments: args(["dest": hostile, "content": content, "mode": "0600"]))
        _ = try await chmod.run(stepContext(fake))
        #expect(try ScriptWords.parse(fake.commands[0]) == [["chmod", "--", "0600", hostile]])
    }

    @Test func failedValidationLeavesTheOldFile() async throws {
        let fake = FakeRemote()
        fake.put(dest, "old\n")
        let step = try CopyStep(arguments: args(["dest": dest, "content": "new\n", "validate": "FAIL %s"]))
        do {
            _ = try await step.run(stepContext(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.detail?.contains("fake validator rejected") == true)
            #expect(failure.message.contains("left unchanged"))
        }
        #expect(fake.file(dest)?.text == "old\n")
    }

    @Test func argumentsAreChecked() {
        #expect(throws: StepFailure.self) { try CopyStep(arguments: args(["dest": dest])) }
        #expect(throws: StepFailure.self) { try CopyStep(arguments: args(["dest": dest, "content": "a", "src": "b"])) }
        #expect(throws: StepFailure.self) { try CopyStep(arguments: args(["dest": "relative", "content": "a"])) }
        #expect(throws: StepFailure.self) { try CopyStep(arguments: args(["dest": dest, "content": "a", "validate": "true"])) }
        #expect(throws: StepFailure.self) { try CopyStep(arguments: args(["dest": dest, "content": "a", "mode": "rw"])) }
        #expect(CopyStep.schema.mutuallyExclusive == [["content", "src"]])
        #expect(CopyStep.schema.oneRequired == [["content", "src"]])
    }
}
