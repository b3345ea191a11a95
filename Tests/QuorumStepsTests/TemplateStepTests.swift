import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

/// A `files/` directory holding `name` with `text`, removed by `cleanup`.
struct TemplateDir {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-tmpl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name)) }
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct TemplateStepTests {
    @Test func argumentsAreChecked() {
        #expect(throws: StepFailure.self) { try TemplateStep(arguments: args(["dest": "/etc/x"])) }
        #expect(throws: StepFailure.self) { try TemplateStep(arguments: args(["src": "x.j2"])) }
        #expect(throws: StepFailure.self) { try TemplateStep(arguments: args(["src": "x.j2", "dest": "etc/x"])) }
        #expect(throws: StepFailure.self) {
            try TemplateStep(arguments: args(["src": "x.j2", "dest": "/etc/x", "validate": "haproxy -c -f"]))
        }
        #expect(throws: Never.self) {
            try TemplateStep(arguments: args(["src": "x.j2", "dest": "/etc/x", "validate": "haproxy -c -f %s"]))
        }
    }

    @Test func missingTemplateFileFails() async throws {
        let dir = try TemplateDir([:])
        defer { dir.cleanup() }
        let step = try TemplateStep(arguments: args(["src": "nope.j2", "dest": "/etc/x"]))
        await #expect(throws: StepFailure.self) { try await step.run(stepContext(FakeRemote(), files: [dir.path])) }
    }

    /// Strict templating: an undefined variable is an error and nothing is written (also true of the stub).
    @Test func renderErrorWritesNothing() async throws {
        let dir = try TemplateDir(["bad.j2": "x = {{ undefined_variable_here }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        let step = try TemplateStep(arguments: args(["src": "bad.j2", "dest": "/etc/x"]))
        await #expect(throws: (any Error).self) { try await step.run(stepContext(fake, files: [dir.path])) }
        #expect(fake.writes.isEmpty)
    }
}

@Suite struct TemplateRenderingStepTests {
    let dest = "/etc/magnum/magnum.conf"
    let variables: Variables = ["magnum_host": .string("10.0.0.11"), "debug": .bool(false)]

    @Test func rendersThenIsOk() async throws {
        let dir = try TemplateDir(["magnum.conf.j2": "[api]\nhost = {{ magnum_host }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        let step = try TemplateStep(arguments: args(["src": "magnum.conf.j2", "dest": dest, "mode": "0640"]))
        let first = try await checkThenApply(step, on: fake, files: [dir.path], variables: variables)
        #expect(
            first.diffs == [
                .file(dest, before: nil, after: "[api]\nhost = 10.0.0.11\n"),
                Diff(subject: "mode", before: nil, after: "0640")
            ])
        #expect(fake.file(dest)?.text == "[api]\nhost = 10.0.0.11\n")
        let second = try await step.run(stepContext(fake, files: [dir.path], variables: variables))
        #expect(!second.changed)
        #expect(fake.writes.count == 1)
    }

    @Test func failingValidateLeavesTheOldFile() async throws {
        let dir = try TemplateDir(["haproxy.cfg.j2": "listen {{ magnum_host }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        fake.put(dest, "old\n")
        let step = try TemplateStep(arguments: args(["src": "haproxy.cfg.j2", "dest": dest, "validate": "FAIL -c -f %s"]))
        do {
            _ = try await step.run(stepContext(fake, files: [dir.path], variables: variables))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.detail?.contains("fake validator rejected") == true)
        }
        #expect(fake.file(dest)?.text == "old\n")
        #expect(fake.writes.isEmpty)
    }

    @Test func passingValidateWrites() async throws {
        let dir = try TemplateDir(["haproxy.cfg.j2": "listen {{ magnum_host }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        fake.put(dest, "old\n")
        let step = try TemplateStep(
            arguments: args([
                "src": "haproxy.cfg.j2", "dest": dest,
                "validate": "haproxy -c -f %s", "backup": true
            ]))
        let outcome = try await checkThenApply(step, on: fake, files: [dir.path], variables: variables)
        #expect(outcome.diffs == [.file(dest, before: "old\n", after: "listen 10.0.0.11\n")])
        #expect(fake.file(dest)?.text == "listen 10.0.0.11\n")
        #expect(outcome.result["backup_file"] != nil)
    }

    @Test func modeOnlyChangeDoesNotRewrite() async throws {
        let dir = try TemplateDir(["t.j2": "host = {{ magnum_host }}\n"])
        defer { dir.cleanup() }
        let fake = FakeRemote()
        fake.put(dest, "host = 10.0.0.11\n", mode: 0o644)
        let step = try TemplateStep(arguments: args(["src": "t.j2", "dest": dest, "mode": "0600"]))
        let outcome = try await checkThenApply(step, on: fake, files: [dir.path], variables: variables)
        #expect(outcome.diffs == [Diff(subject: "mode", before: "0644", after: "0600")])
        #expect(try ScriptWords.parse(fake.commands[0]) == [["chmod", "--", "0600", dest]])
        #expect(fake.writes.count == 1 && fake.writes[0].hasPrefix("change: "))
    }
}
