import QuorumCore

/// `line`: one line present in (or absent from) a text file, the rest of the file kept byte for byte.
/// One `readFile` probe; a change is one atomic write that keeps the file's mode and owner.
public struct LineStep: StepKind {
    public static let name = "line"
    public static let summary = "Make sure a line is present in a file (replacing the line a regexp finds) or absent"
    public static let schema = ArgSchema([
        ArgField("path", .absolutePath, required: true, "absolute path of the file on the host"),
        ArgField("line", .string, "the line (without its newline); required with `state: present`"),
        ArgField("state", .choice(["present", "absent"]), default: .string("present")),
        ArgField("regexp", .string, "present: the last line matching it is replaced by `line`; absent: every matching line is removed"),
        ArgField("after", .string, "a new line goes after the last line matching this regexp (`EOF` or no match: at the end)"),
        ArgField("create", .bool, default: .bool(false), "create the file when it is missing (present only)")
    ])

    let path: String
    let line: String?
    let present: Bool
    let regexp: String?
    let after: String?
    let create: Bool

    public init(checked arguments: Arguments) throws {
        path = try arguments.requiredString("path")
        line = try arguments.string("line")
        present = try arguments.value(arguments.string, "state") == "present"
        regexp = try arguments.string("regexp")
        after = try arguments.string("after")
        create = try arguments.value(arguments.bool, "create")
        if let line, line.utf8.contains(UInt8(ascii: "\n")) || line.utf8.contains(UInt8(ascii: "\r")) {
            throw StepFailure("argument `line` must be a single line (it contains a line break)")
        }
        if present && line == nil { throw StepFailure("argument `line` is required with `state: present`") }
        if !present && line == nil && regexp == nil { throw StepFailure("`state: absent` needs `line` or `regexp`") }
        if !present && after != nil { throw StepFailure("`after` means nothing with `state: absent`") }
        for (name, pattern) in [("regexp", regexp), ("after", after)] {
            guard let pattern, !(name == "after" && pattern == "EOF") else { continue }
            do { _ = try Regex(pattern) } catch {
                throw StepFailure("argument `\(name)` is not a valid regular expression: `\(pattern)`", detail: "\(error)")
            }
        }
    }

    public var plannedReads: [RemoteRead] { [.file(path)] }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let current = try await context.remote.readFile(path)
        if current == nil && !(present && create) {
            if !present { return .unchanged }
            throw StepFailure("\(path) does not exist (set `create: true` to create it)")
        }
        let before = current?.content ?? []
        let edited = try edit(before)
        if current != nil && edited == before { return .unchanged }

        let diff = Diff.file(path, before: current?.text, after: String(decoding: edited, as: UTF8.self))
        let what = current == nil ? "create" : present ? "add a line to" : "remove lines from"
        if context.check {
            PlannedFiles.record(path, context)
            return StepOutcome(changed: true, diffs: [diff], message: "would \(what) \(path)")
        }
        try await context.remote.writeFile(path, content: edited, attributes: FileAttributes(), validate: nil)
        return StepOutcome(changed: true, diffs: [diff], message: "\(what == "create" ? "created" : "edited") \(path)")
    }

    /// The file's bytes with the line present or absent. Lines are split after each `\n`; a line's own
    /// terminator (`\n`, `\r\n` or none at the end of the file) is kept when it is replaced.
    func edit(_ content: [UInt8]) throws -> [UInt8] {
        var lines = Self.split(content)
        let regex = try regexp.map { try Regex($0) }
        let afterRegex = try after.flatMap { $0 == "EOF" ? nil : try Regex($0) }
        func matches(_ lineBytes: [UInt8], _ regex: Regex<AnyRegexOutput>) -> Bool {
            Self.text(lineBytes).contains(regex)
        }
        let wanted = line.map { Array($0.utf8) }
        func isLine(_ lineBytes: [UInt8]) -> Bool {
            wanted.map { lineBytes.dropLast(Self.terminator(lineBytes).count).elementsEqual($0) } ?? false
        }

        guard present, let wanted else {
            lines.removeAll { lineBytes in regex.map { matches(lineBytes, $0) } ?? isLine(lineBytes) }
            return lines.flatMap { $0 }
        }
        if let regex, let index = lines.lastIndex(where: { matches($0, regex) }) {
            if isLine(lines[index]) { return content }
            lines[index] = wanted + Self.terminator(lines[index])
            return lines.flatMap { $0 }
        }
        if lines.contains(where: isLine) { return content }

        var position = lines.endIndex
        if let afterRegex, let index = lines.lastIndex(where: { matches($0, afterRegex) }) {
            position = index + 1
        }
        if position > 0, lines[position - 1].last != UInt8(ascii: "\n") { lines[position - 1].append(UInt8(ascii: "\n")) }
        lines.insert(wanted + [UInt8(ascii: "\n")], at: position)
        return lines.flatMap { $0 }
    }

    /// Lines with their terminators: `a\nb` → [`a\n`, `b`].
    static func split(_ content: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in content {
            current.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func terminator(_ lineBytes: [UInt8]) -> [UInt8] {
        if lineBytes.last != UInt8(ascii: "\n") { return [] }
        return lineBytes.dropLast().last == UInt8(ascii: "\r") ? Array("\r\n".utf8) : [UInt8(ascii: "\n")]
    }

    /// A line's text without its terminator.
    static func text(_ lineBytes: [UInt8]) -> String {
        String(decoding: lineBytes.dropLast(terminator(lineBytes).count), as: UTF8.self)
    }
}
