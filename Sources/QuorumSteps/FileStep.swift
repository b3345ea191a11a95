import Foundation
import QuorumCore

/// `file`: a directory, an existing file's attributes, a path's absence, or an empty file. One `stat` probe
/// (plus one `find` probe when `recurse` asks about ownership below a directory); every change is one script.
public struct FileStep: StepKind {
    public static let name = "file"
    public static let summary = "Make sure a directory or file exists with a mode and owner, or that a path is absent"
    public static let states = ["directory", "file", "absent", "touch"]
    public static let schema = ArgSchema([
        ArgField("path", .absolutePath, required: true, "absolute path on the host"),
        ArgField(
            "state", .choice(states), default: .string("file"),
            "`directory` (created with parents), `file` (must exist), `absent` (removed, recursively), `touch` (created empty if missing)"),
        ArgField("mode", .mode, "mode of the path itself, e.g. \"0750\""),
        ArgField("owner", .string, "owner (user name)"),
        ArgField("group", .string, "group name"),
        ArgField(
            "recurse", .bool, default: .bool(false), "with `state: directory`: apply owner and group to everything below too (the mode stays on the directory)")
    ])

    let path: String
    let state: String
    let attributes: FileAttributes
    let recurse: Bool

    public init(checked arguments: Arguments) throws {
        path = try arguments.requiredString("path")
        state = try arguments.value(arguments.string, "state")
        attributes = FileAttributes(
            mode: try arguments.mode("mode"), owner: try arguments.string("owner"),
            group: try arguments.string("group"))
        recurse = try arguments.value(arguments.bool, "recurse")
        if state == "absent" {
            if attributes != FileAttributes() || recurse {
                throw StepFailure("`mode`, `owner`, `group` and `recurse` mean nothing with `state: absent`")
            }
            if FileHelpers.isRoot(path) { throw StepFailure("refusing to remove `\(path)`: it is the root directory") }
        }
        if recurse && state != "directory" { throw StepFailure("`recurse` needs `state: directory`") }
    }

    public var plannedReads: [RemoteRead] { [.stat(path)] }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let current = try await context.remote.stat(path)
        if let current, current.kind == .link || current.kind == .other, state != "absent" {
            throw StepFailure("\(path) is a \(current.kind == .link ? "symbolic link" : "special file"); `file` does not follow or replace it")
        }
        var diffs: [Diff] = []
        var commands: [[String]] = []
        let currentState = current.map { $0.kind == .directory ? "directory" : "file" } ?? "absent"

        switch state {
        case "absent":
            guard current != nil else { return .unchanged }
            diffs.append(Diff(subject: "state", before: currentState, after: "absent"))
            commands.append(current?.kind == .directory ? ["rm", "-rf", "--", path] : ["rm", "-f", "--", path])
        case "directory":
            if current == nil {
                diffs.append(Diff(subject: "state", before: "absent", after: "directory"))
                commands.append(["mkdir", "-p", "--", path])
            } else if currentState != "directory" {
                throw StepFailure("\(path) exists and is not a directory")
            }
        case "touch":
            if current == nil {
                diffs.append(Diff(subject: "state", before: "absent", after: "file"))
                commands.append(["touch", "--", path])
            } else if currentState != "file" {
                throw StepFailure("\(path) exists and is not a regular file")
            }
        default:  // file
            guard current != nil else { throw StepFailure("\(path) does not exist") }
            if currentState != "file" { throw StepFailure("\(path) is a directory, not a file") }
        }

        if state != "absent" && !recurse {
            let plan = AttributePlan(path: path, current: current, wanted: attributes)
            diffs += plan.diffs
            commands += plan.commands
        } else if state != "absent" {
            let modePlan = AttributePlan(path: path, current: current, wanted: FileAttributes(mode: attributes.mode))
            let ownership = FileAttributes(owner: attributes.owner, group: attributes.group)
            let topPlan = AttributePlan(path: path, current: current, wanted: ownership)
            diffs += topPlan.diffs + modePlan.diffs
            var fixBelow = !topPlan.diffs.isEmpty
            if !fixBelow, current != nil, let below = try await ownershipDiffersBelow(context.remote) {
                diffs.append(Diff(subject: "ownership below", before: below, after: ownershipWanted))
                fixBelow = true
            }
            if fixBelow {
                // Everything wanted, recursively: a partial chown would leave the other half for the next run.
                commands += AttributePlan(path: path, current: nil, wanted: ownership, recursiveOwnership: true).commands
            }
            commands += modePlan.commands
            if fixBelow, modePlan.commands.isEmpty, let mode = attributes.mode {
                commands.append(["chmod", "--", ArgType.octal(mode), path])
            }
        }

        guard !diffs.isEmpty else { return .unchanged }
        if context.check {
            return StepOutcome(changed: true, diffs: diffs, message: "would \(verb(currentState)) \(path)")
        }
        try await FileHelpers.change(context.remote, commands, what: "\(verb(currentState)) \(path)")
        return StepOutcome(changed: true, diffs: diffs, message: "\(verb(currentState, past: true)) \(path)")
    }

    private var ownershipWanted: String {
        [attributes.owner, attributes.group].compactMap { $0 }.joined(separator: ":")
    }

    /// With `recurse`: the first entry below `path` whose owner or group differs, nil when none does.
    private func ownershipDiffersBelow(_ remote: any Remote) async throws -> String? {
        var tests: [[String]] = []
        if let owner = attributes.owner { tests.append(["!", "-user", owner]) }
        if let group = attributes.group { tests.append(["!", "-group", group]) }
        guard !tests.isEmpty else { return nil }
        var words = ["find", path, "-mindepth", "1", "("]
        for (index, test) in tests.enumerated() { words += (index > 0 ? ["-o"] : []) + test }
        words += [")", "-print", "-quit"]
        let result = try await remote.probe(Shell.join(words))
        guard result.succeeded else {
            throw StepFailure(
                "checking ownership below \(path) failed",
                detail: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let first = result.stdoutText.split(separator: "\n").first.map(String.init)
        return first.map { "\($0) (and maybe more)" }
    }

    private func verb(_ currentState: String, past: Bool = false) -> String {
        switch (state, currentState) {
        case ("absent", _): return past ? "removed" : "remove"
        case (_, "absent"): return past ? "created" : "create"
        default: return past ? "fixed attributes of" : "fix attributes of"
        }
    }
}
