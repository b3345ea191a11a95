import Foundation
import OrderedCollections
import QuorumCore

/// Helpers shared by the file-shaped step kinds (`file`, `copy`, `template`, `line`).
enum FileHelpers {
    /// True when `path` names the root directory once `.`, `..` and repeated slashes are resolved.
    static func isRoot(_ path: String) -> Bool {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return parts.isEmpty
    }

    /// One command line per argument vector, every word quoted, chained so the first failure stops the rest.
    static func script(_ commands: [[String]]) -> String {
        commands.map(Shell.join).joined(separator: " && ")
    }

    /// Runs a change script and turns a non-zero exit into a `StepFailure` carrying its stderr.
    static func change(_ remote: any Remote, _ commands: [[String]], what: String) async throws {
        let result = try await remote.change(script(commands))
        guard result.succeeded else {
            throw StepFailure(
                "\(what) failed (exit status \(result.status))",
                detail: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// The name of a backup copy of `path`: `path.<UTC timestamp>~`.
    static func backupName(_ path: String, now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        return path + "." + formatter.string(from: now) + "~"
    }
}

/// The mode and ownership a step wants, compared with what a `stat` found.
struct AttributePlan: Sendable {
    var diffs: [Diff] = []
    /// Commands that bring the attributes in line (empty when nothing differs).
    var commands: [[String]] = []

    /// `current` nil means the path does not exist yet: every wanted attribute is a difference.
    /// Ownership is changed before the mode (chown clears setuid and setgid bits).
    /// `recursiveOwnership` applies owner and group below a directory too (`-R`); the mode stays on `path` itself.
    init(path: String, current: FileInfo?, wanted: FileAttributes, recursiveOwnership: Bool = false) {
        let owner = wanted.owner.flatMap { $0 == current?.owner ? nil : $0 }
        let group = wanted.group.flatMap { $0 == current?.group ? nil : $0 }
        if let owner { diffs.append(Diff(subject: "owner", before: current?.owner, after: owner)) }
        if let group { diffs.append(Diff(subject: "group", before: current?.group, after: group)) }
        let recurse = recursiveOwnership ? ["-R"] : []
        switch (owner, group) {
        case (let owner?, let group?): commands.append(["chown"] + recurse + ["--", owner + ":" + group, path])
        case (let owner?, nil): commands.append(["chown"] + recurse + ["--", owner, path])
        case (nil, let group?): commands.append(["chgrp"] + recurse + ["--", group, path])
        case (nil, nil): break
        }
        // After chown, which clears setuid and setgid bits: so set again after any chown.
        if let mode = wanted.mode {
            let modeDiffers = current.map { $0.mode & 0o7777 } != mode
            if modeDiffers {
                diffs.append(
                    Diff(
                        subject: "mode", before: current.map { ArgType.octal($0.mode & 0o7777) },
                        after: ArgType.octal(mode)))
            }
            if modeDiffers || !commands.isEmpty { commands.append(["chmod", "--", ArgType.octal(mode), path]) }
        }
    }
}

/// A file whose whole content a step manages (`copy`, `template`): one `readFile` probe, then at most one
/// write (atomic, validated) or one attribute script.
struct ManagedFile: Sendable {
    var dest: String
    var attributes: FileAttributes
    var backup: Bool
    var validate: String?

    static let attributeFields: [ArgField] = [
        ArgField("mode", .mode, "file mode, e.g. \"0640\""),
        ArgField("owner", .string, "owner (user name)"),
        ArgField("group", .string, "group name"),
        ArgField("backup", .bool, default: .bool(false), "keep the old file as `dest.<timestamp>~` before overwriting it"),
        ArgField("validate", .string, "command run on the new file before it replaces dest; `%s` is its path")
    ]

    init(arguments: Arguments) throws {
        dest = try arguments.requiredString("dest")
        attributes = FileAttributes(
            mode: try arguments.mode("mode"), owner: try arguments.string("owner"),
            group: try arguments.string("group"))
        backup = try arguments.value(arguments.bool, "backup")
        validate = try arguments.string("validate")
        if let validate, !validate.contains("%s") {
            throw StepFailure("argument `validate` must contain `%s` (the file to check), got `\(validate)`")
        }
    }

    func sync(_ content: [UInt8], _ context: StepContext) async throws -> StepOutcome {
        let remote = context.remote
        let current = try await remote.readFile(dest)
        let contentDiffers = current?.content != content
        let attributePlan = AttributePlan(path: dest, current: current?.info, wanted: attributes)
        var diffs: [Diff] = []
        if contentDiffers {
            diffs.append(.file(dest, before: current?.text, after: String(decoding: content, as: UTF8.self)))
        }
        diffs += attributePlan.diffs
        guard !diffs.isEmpty else { return .unchanged }

        let (would, did) =
            current == nil
            ? ("would create", "created")
            : contentDiffers ? ("would update", "updated") : ("would fix attributes of", "fixed attributes of")
        if context.check {
            if contentDiffers { PlannedFiles.record(dest, context) }
            return StepOutcome(changed: true, diffs: diffs, message: "\(would) \(dest)")
        }
        var outcome = StepOutcome(changed: true, diffs: diffs, message: "\(did) \(dest)")
        if contentDiffers {
            if backup, current != nil {
                let backupFile = FileHelpers.backupName(dest)
                try await FileHelpers.change(remote, [["cp", "-p", "--", dest, backupFile]], what: "backup of \(dest)")
                outcome.result["backup_file"] = .string(backupFile)
            }
            do {
                try await remote.writeFile(dest, content: content, attributes: attributes, validate: validate)
            } catch let failure as StepFailure {
                let how = validate.map { " (validate: `\($0)`)" } ?? ""
                throw StepFailure(
                    "could not write \(dest)\(how); \(dest) left unchanged",
                    detail: failure.detail ?? failure.message)
            }
        } else {
            try await FileHelpers.change(remote, attributePlan.commands, what: "setting attributes of \(dest)")
        }
        return outcome
    }
}
