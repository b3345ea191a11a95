import OrderedCollections
import QuorumCore

/// `ini`: sets and removes options of an oslo.config-style INI file, leaving everything else byte for byte.
///
/// One `readFile` on a run with nothing to do; one `writeFile` (atomic) when something differs. Diffs are per
/// option, secret options (passwords, tokens, keys, `transport_url`, `connection`) flagged for masking.
public struct IniStep: StepKind {
    public static let name = "ini"
    public static let summary = "Set or remove options in an INI (oslo.config) file, keeping comments and layout"
    public static let schema = ArgSchema([
        ArgField("path", .absolutePath, required: true, "absolute path of the file"),
        ArgField("settings", .map(.map(.list(.scalar))), "{SECTION: {OPTION: VALUE}}; lists are comma-joined, booleans written true/false"),
        ArgField("absent", .map(.list(.string)), "{SECTION: [OPTION, …]} options to remove"),
        ArgField("mode", .mode, "file mode (kept when omitted)"),
        ArgField("owner", .string, "file owner (kept when omitted)"),
        ArgField("group", .string, "file group (kept when omitted)"),
        ArgField("create", .bool, default: .bool(true), "create the file when missing (its directory must exist)")
    ])

    public let path: String
    /// Sections and options to set, in playbook order.
    public let settings: [(section: String, options: [(key: String, value: String)])]
    public let absent: [(section: String, keys: [String])]
    public let attributes: FileAttributes
    public let create: Bool

    public init(checked arguments: Arguments) throws {
        path = try arguments.requiredString("path")
        guard !path.hasSuffix("/"), !path.contains("\n") else {
            throw StepFailure("argument `path` must be an absolute file path, got `\(path)`")
        }
        var settings: [(section: String, options: [(key: String, value: String)])] = []
        for (section, options) in try arguments.map("settings") ?? [:] {
            guard let map = options.mapValue else {
                throw StepFailure("settings for section [\(section)] must be a map of options, got a \(options.typeName)")
            }
            var pairs: [(key: String, value: String)] = []
            for (key, value) in map {
                let text = try IniStep.text(of: value, section: section, key: key)
                try IniDocument.validate(section: section, key: key)
                _ = try IniDocument.encode(text)
                pairs.append((key, text))
            }
            settings.append((section, pairs))
        }
        var absent: [(section: String, keys: [String])] = []
        for (section, keys) in try arguments.map("absent") ?? [:] {
            let list = try Arguments(["absent": keys]).stringList("absent") ?? []
            for key in list {
                try IniDocument.validate(section: section, key: key)
                if settings.contains(where: { $0.section == section && $0.options.contains { $0.key == key } }) {
                    throw StepFailure("option [\(section)] \(key) is both in `settings` and in `absent`")
                }
            }
            absent.append((section, list))
        }
        self.settings = settings
        self.absent = absent
        attributes = FileAttributes(
            mode: try arguments.mode("mode"), owner: try arguments.string("owner"),
            group: try arguments.string("group"))
        create = try arguments.value(arguments.bool, "create")
    }

    /// An option's value as written in the file.
    static func text(of value: Value, section: String, key: String) throws -> String {
        switch value {
        case .list(let items):
            return try items.map { item in
                guard let text = item.scalarText, !item.isNull else {
                    throw StepFailure("[\(section)] \(key): list items must be plain values")
                }
                return text
            }.joined(separator: ",")
        case .map:
            throw StepFailure("[\(section)] \(key): value must be a string, number, boolean or list, got a map")
        case .null:
            throw StepFailure("[\(section)] \(key): value is null; write '' for an empty value or list the option under `absent`")
        default:
            return value.scalarText ?? ""
        }
    }

    /// Options whose values must never be printed.
    public static func isSecret(_ key: String) -> Bool {
        let name = key.lowercased()
        if name == "transport_url" || name == "connection" || name.hasSuffix("_connection") { return true }
        // The variable naming rule (`*_key` but not `trustee_keystone_interface` or `*_key_file`), plus credentials.
        return SecretRedactor.isSecretName(name) || name.contains("credential")
    }

    public var plannedReads: [RemoteRead] { [.file(path)] }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let remote = context.remote
        let existing = try await remote.readFile(path)
        if existing == nil, settings.allSatisfy({ $0.options.isEmpty }) {
            // Nothing to set, and nothing to remove from a file that does not exist.
            return StepOutcome(changed: false, result: ["path": .string(path)])
        }
        if existing == nil {
            guard create else { throw StepFailure("\(path) does not exist (and `create` is false)") }
            if let info = try await remote.stat(path) {
                throw StepFailure("\(path) is a \(info.kind.rawValue), not a regular file")
            }
            let parent = IniStep.parent(of: path)
            guard let dir = try await remote.stat(parent), dir.kind == .directory else {
                throw StepFailure("cannot create \(path): directory \(parent) does not exist")
            }
        }

        var document = IniDocument(existing?.content ?? [])
        // Removed or deprecated options already in the file (the host's current state), managed here or not.
        let findings = existing == nil ? [] : DeprecatedOptions.findings(in: document, file: path)
        var diffs: [Diff] = []
        var setCount = 0
        var removedCount = 0
        for (section, options) in settings {
            for (key, value) in options {
                let before = document.values(section, key)
                if try document.set(section, key, value) {
                    setCount += 1
                    diffs.append(
                        Diff(
                            subject: "[\(section)] \(key)", before: before.isEmpty ? nil : before.joined(separator: "\n"),
                            after: value, secret: IniStep.isSecret(key)))
                }
            }
        }
        for (section, keys) in absent {
            for key in keys {
                let removed = document.remove(section, key)
                if !removed.isEmpty {
                    removedCount += 1
                    diffs.append(
                        Diff(
                            subject: "[\(section)] \(key)", before: removed.joined(separator: "\n"), after: nil,
                            secret: IniStep.isSecret(key)))
                }
            }
        }

        var attributeChanges: [String] = []
        if let info = existing?.info {
            if let mode = attributes.mode, mode != info.mode {
                diffs.append(Diff(subject: "\(path) mode", before: ArgType.octal(info.mode), after: ArgType.octal(mode)))
                attributeChanges.append("mode")
            }
            if let owner = attributes.owner, owner != info.owner {
                diffs.append(Diff(subject: "\(path) owner", before: info.owner, after: owner))
                attributeChanges.append("owner")
            }
            if let group = attributes.group, group != info.group {
                diffs.append(Diff(subject: "\(path) group", before: info.group, after: group))
                attributeChanges.append("group")
            }
        } else {
            diffs.insert(Diff(subject: path, before: nil, after: "created"), at: 0)
        }

        let contentChanged = existing == nil || document.bytes != existing?.content
        let changed = contentChanged || !attributeChanges.isEmpty
        guard changed else { return StepOutcome(changed: false, result: ["path": .string(path)], findings: findings) }
        if !context.check {
            try await remote.writeFile(path, content: document.bytes, attributes: attributes, validate: nil)
        } else {
            PlannedFiles.record(path, context)  // apply rewrites the file, attributes-only changes too
        }
        var parts: [String] = []
        if existing == nil { parts.append("created") }
        if setCount > 0 { parts.append("\(setCount) option\(setCount == 1 ? "" : "s") set") }
        if removedCount > 0 { parts.append("\(removedCount) removed") }
        if !attributeChanges.isEmpty { parts.append(attributeChanges.joined(separator: ", ") + " fixed") }
        return StepOutcome(
            changed: true, diffs: diffs, message: parts.joined(separator: ", "),
            result: ["path": .string(path)], findings: findings)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
