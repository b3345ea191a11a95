import Foundation
import OrderedCollections
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSteps

// Test kit shared by this target's step tests (internal, so the other files use it too).

func stepContext(
    _ remote: any Remote, check: Bool = false, files: [String] = [],
    variables: Variables = [:]
) -> StepContext {
    StepContext(
        remote: remote, host: remote.host, check: check, wantsDiff: true,
        variables: variables, templates: TemplateRenderer(), files: FileResolver(searchPath: files),
        location: nil)
}

/// Arguments from Swift literals: strings, integers and booleans become the matching `Value`.
func args(_ pairs: KeyValuePairs<String, any Sendable>) -> Arguments {
    var values: Variables = [:]
    for (key, value) in pairs {
        switch value {
        case let v as Value: values[key] = v
        case let v as String: values[key] = .string(v)
        case let v as Int: values[key] = .int(v)
        case let v as Bool: values[key] = .bool(v)
        default: preconditionFailure("unsupported test argument \(value)")
        }
    }
    return Arguments(values)
}

/// A value that must never reach a shell unquoted.
let hostile = "/srv/it's $(touch pwned) `id` \\n\nnext \"q\""

/// Reads back the scripts the steps build: `&&`-separated commands of words, single quotes and backslash
/// escapes undone. Any other shell syntax outside quotes (`$`, backticks, `;`, `|`, a newline…) is an error:
/// the steps' scripts never contain it, so a value that leaked unquoted is caught here.
enum ScriptWords {
    struct Unsafe: Error {
        var script: String
        var character: Character
    }

    static func parse(_ script: String) throws -> [[String]] {
        var commands: [[String]] = [[]]
        var word = ""
        var inWord = false
        let chars = Array(script)
        var i = 0
        func endWord() {
            if inWord { commands[commands.count - 1].append(word) }
            word = ""
            inWord = false
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "'":
                inWord = true
                i += 1
                while i < chars.count, chars[i] != "'" {
                    word.append(chars[i])
                    i += 1
                }
            case "\\":
                inWord = true
                i += 1
                if i < chars.count { word.append(chars[i]) }
            case " ":
                endWord()
            case "&" where i + 1 < chars.count && chars[i + 1] == "&":
                endWord()
                commands.append([])
                i += 1
            default:
                if "$`;|&<>()\n\"{}*?[]#~".contains(c) { throw Unsafe(script: script, character: c) }
                inWord = true
                word.append(c)
            }
            i += 1
        }
        endWord()
        return commands
    }

    /// Runs the steps' scripts against the fake's files (enough of chmod, chown, chgrp, mkdir, touch)
    /// so a second run sees what the first one did.
    static func interpreter(_ fake: FakeRemote) -> @Sendable (String, [UInt8]) -> CommandResult {
        { script, _ in
            guard let commands = try? parse(script) else { return CommandResult(status: 2) }
            for words in commands {
                let operands = Array(words.drop { $0 != "--" }.dropFirst())
                guard let path = operands.last else { continue }
                let file = fake.file(path)
                switch words.first {
                case "mkdir": fake.mkdir(path)
                case "touch": fake.put(path, "")
                case "chmod":
                    guard let mode = Int(operands[0], radix: 8) else { return CommandResult(status: 1) }
                    if let file { fake.put(path, file.text, mode: mode, owner: file.info.owner, group: file.info.group) } else { fake.mkdir(path, mode: mode) }
                case "chown", "chgrp":
                    guard let file else { continue }  // the fake's directories are always root:root
                    let spec = operands[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    let owner = words[0] == "chown" ? spec[0] : file.info.owner
                    let group = words[0] == "chgrp" ? spec[0] : spec.count > 1 ? spec[1] : file.info.group
                    fake.put(path, file.text, mode: file.info.mode, owner: owner, group: group)
                default: break
                }
            }
            return CommandResult()
        }
    }
}

/// Runs `step` in check mode on `fake`, then for real; returns both outcomes after checking that check mode
/// wrote nothing and predicted apply exactly.
func checkThenApply(
    _ step: some StepKind, on fake: FakeRemote, files: [String] = [],
    variables: Variables = [:]
) async throws -> StepOutcome {
    let writesBefore = fake.writes
    let predicted = try await step.run(stepContext(fake, check: true, files: files, variables: variables))
    #expect(fake.writes == writesBefore, "check mode wrote")
    let applied = try await step.run(stepContext(fake, files: files, variables: variables))
    #expect(predicted.changed == applied.changed)
    #expect(predicted.diffs == applied.diffs)
    return applied
}

@Suite struct FileStepTests {
    @Test func createsDirectoryThenIsOk() async throws {
        let fake = FakeRemote()
        fake.commandHandler = ScriptWords.interpreter(fake)
        let step = try FileStep(arguments: args(["path": "/etc/magnum", "state": "directory", "mode": "0750"]))
        let first = try await checkThenApply(step, on: fake)
        #expect(first.changed)
        #expect(
            first.diffs == [
                Diff(subject: "state", before: "absent", after: "directory"),
                Diff(subject: "mode", before: nil, after: "0750")
            ])
        #expect(fake.writes.count == 1)
        #expect(
            try ScriptWords.parse(fake.commands.last ?? "")
                == [["mkdir", "-p", "--", "/etc/magnum"], ["chmod", "--", "0750", "/etc/magnum"]])
        let second = try await step.run(stepContext(fake))
        #expect(!second.changed)
        #expect(second.diffs.isEmpty)
        #expect(fake.writes.count == 1)
    }

    /// `mode: 0750` reaches the step as the integer 750 (YAML reads the digits as decimal).
    @Test func fixesOnlyTheModeOfAnExistingDirectory() async throws {
        let fake = FakeRemote()
        fake.mkdir("/etc/magnum", mode: 0o755)
        let step = try FileStep(arguments: args(["path": "/etc/magnum", "state": "directory", "mode": 750]))
        let outcome = try await checkThenApply(step, on: fake)
        #expect(outcome.diffs == [Diff(subject: "mode", before: "0755", after: "0750")])
        #expect(fake.writes.count == 1)
        #expect(try ScriptWords.parse(fake.commands[0]) == [["chmod", "--", "0750", "/etc/magnum"]])
    }

    @Test func fileStateFixesOwnershipInOneScript() async throws {
        let fake = FakeRemote()
        fake.commandHandler = ScriptWords.interpreter(fake)
        fake.put("/etc/magnum/magnum.conf", "x", mode: 0o644)
        let step = try FileStep(
            arguments: args([
                "path": "/etc/magnum/magnum.conf", "owner": "magnum",
                "group": "magnum", "mode": "0640"
            ]))
        let outcome = try await checkThenApply(step, on: fake)
        #expect(
            outcome.diffs == [
                Diff(subject: "owner", before: "root", after: "magnum"),
                Diff(subject: "group", before: "root", after: "magnum"),
                Diff(subject: "mode", before: "0644", after: "0640")
            ])
        #expect(fake.commands.count == 1)
        #expect(
            try ScriptWords.parse(fake.commands[0]) == [
                ["chown", "--", "magnum:magnum", "/etc/magnum/magnum.conf"],
                ["chmod", "--", "0640", "/etc/magnum/magnum.conf"]
            ])
        #expect(fake.file("/etc/magnum/magnum.conf")?.info == FileInfo(kind: .file, mode: 0o640, owner: "magnum", group: "magnum"))
        #expect(try await !step.run(stepContext(fake)).changed)
        #expect(fake.commands.count == 1)
    }

    @Test func fileStateFailsWhenMissing() async throws {
        let step = try FileStep(arguments: args(["path": "/nope", "state": "file"]))
        await #expect(throws: StepFailure.self) { try await step.run(stepContext(FakeRemote())) }
        await #expect(throws: StepFailure.self) { try await step.run(stepContext(FakeRemote(), check: true)) }
    }

    @Test func absentRemovesRecursivelyAndIsOkWhenGone() async throws {
        let fake = FakeRemote()
        fake.mkdir("/var/cache/magnum")
        fake.put("/tmp/x", "x")
        let dir = try FileStep(arguments: args(["path": "/var/cache/magnum", "state": "absent"]))
        let outcome = try await checkThenApply(dir, on: fake)
        #expect(outcome.diffs == [Diff(subject: "state", before: "directory", after: "absent")])
        #expect(try ScriptWords.parse(fake.commands[0]) == [["rm", "-rf", "--", "/var/cache/magnum"]])
        _ = try await FileStep(arguments: args(["path": "/tmp/x", "state": "absent"])).run(stepContext(fake))
        #expect(try ScriptWords.parse(fake.commands[1]) == [["rm", "-f", "--", "/tmp/x"]])
        let gone = try await FileStep(arguments: args(["path": "/nothing/here", "state": "absent"])).run(stepContext(fake))
        #expect(!gone.changed)
        #expect(fake.commands.count == 2)
    }

    @Test(arguments: ["/", "//", "/tmp/..", "/./", "/etc/../.."])
    func absentRefusesTheRoot(path: String) {
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": path, "state": "absent"])) }
    }

    @Test func rejectsRelativeAndEmptyPathsAndBadCombinations() {
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": "etc/x"])) }
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": ""])) }
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": "/x", "state": "gone"])) }
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": "/x", "state": "absent", "mode": "0644"])) }
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": "/x", "state": "file", "recurse": true])) }
        #expect(throws: StepFailure.self) { try FileStep(arguments: args(["path": "/x", "mode": "0999"])) }
    }

    @Test func touchCreatesOnlyWhenMissing() async throws {
        let fake = FakeRemote()
        fake.commandHandler = ScriptWords.interpreter(fake)
        let step = try FileStep(arguments: args(["path": "/var/lib/magnum/.done", "state": "touch"]))
        let first = try await checkThenApply(step, on: fake)
        #expect(first.diffs == [Diff(subject: "state", before: "absent", after: "file")])
        #expect(try ScriptWords.parse(fake.commands[0]) == [["touch", "--", "/var/lib/magnum/.done"]])
        #expect(try await !step.run(stepContext(fake)).changed)
        #expect(fake.commands.count == 1)
    }

    @Test func hostilePathIsQuotedInEveryCommand() async throws {
        let fake = FakeRemote()
        let step = try FileStep(
            arguments: args([
                "path": hostile, "state": "directory", "mode": "0700",
                "owner": "$(touch pwned)", "group": "`id`"
            ]))
        _ = try await checkThenApply(step, on: fake)
        let script = try #require(fake.commands.first)
        #expect(
            try ScriptWords.parse(script) == [
                ["mkdir", "-p", "--", hostile],
                ["chown", "--", "$(touch pwned):`id`", hostile],
                ["chmod", "--", "0700", hostile]
            ])
        #expect(script.contains(Shell.quote(hostile)))
    }

    @Test func recurseProbesBelowAndFixesOwnershipThere() async throws {
        let fake = FakeRemote()
        fake.mkdir("/var/lib/magnum")
        let step = try FileStep(
            arguments: args([
                "path": "/var/lib/magnum", "state": "directory",
                "owner": "root", "group": "root", "recurse": true
            ]))
        // Nothing below differs: one stat, one find probe, no change.
        let ok = try await step.run(stepContext(fake))
        #expect(!ok.changed)
        #expect(fake.commands.count == 1)
        #expect(
            fake.commands[0]
                == Shell.join([
                    "find", "/var/lib/magnum", "-mindepth", "1", "(", "!", "-user", "root",
                    "-o", "!", "-group", "root", ")", "-print", "-quit"
                ]))
        fake.commandHandler = { script, _ in
            script.hasPrefix("find") ? CommandResult(stdout: Array("/var/lib/magnum/x\n".utf8)) : CommandResult()
        }
        let outcome = try await checkThenApply(step, on: fake)
        #expect(outcome.changed)
        #expect(outcome.diffs.map(\.subject) == ["ownership below"])
        #expect(try ScriptWords.parse(fake.commands.last ?? "") == [["chown", "-R", "--", "root:root", "/var/lib/magnum"]])
    }

    @Test func changeScriptFailureIsAStepFailureWithStderr() async throws {
        let fake = FakeRemote()
        fake.commandHandler = { _, _ in CommandResult(stderr: Array("chown: invalid user\n".utf8), status: 1) }
        fake.put("/etc/x", "")
        let step = try FileStep(arguments: args(["path": "/etc/x", "owner": "nobody-here"]))
        do {
            _ = try await step.run(stepContext(fake))
            Issue.record("expected a failure")
        } catch let failure as StepFailure {
            #expect(failure.detail == "chown: invalid user")
        }
    }
}
