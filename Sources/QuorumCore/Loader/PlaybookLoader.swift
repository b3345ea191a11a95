import OrderedCollections
import QuorumVault

/// Reads playbook files into the model. Every problem is collected with file:line:col; nothing is
/// thrown until the whole file has been read, so an operator sees all mistakes at once.
public struct PlaybookLoader: Sendable {
    public let catalog: [String: any StepKind.Type]
    /// Opens vault `vars_files` and inline `!vault` values (under a play's `vars:`, say); nil: either is an error.
    public let vault: VaultKeyring?

    public init(catalog: [String: any StepKind.Type], vault: VaultKeyring? = nil) {
        self.catalog = catalog
        self.vault = vault
    }

    static let playKeys = [
        "name", "hosts", "vars", "vars_files", "defaults", "serial", "become", "become_user",
        "steps", "handlers", "tags", "secrets", "preflight"
    ]
    /// Ansible words that mean something else here, with what to write instead.
    static let playAliases = [
        "tasks": "steps", "module_defaults": "defaults", "pre_tasks": "steps",
        "post_tasks": "steps", "roles": "steps"
    ]
    static let stepKeywords = [
        "name", "when", "loop", "register", "notify", "run_once", "changed_when",
        "failed_when", "until", "retries", "delay", "tags", "no_log", "ignore_errors",
        "become", "become_user", "listen"
    ]
    static let stepAliases = [
        "with_items": "loop", "local_action": "a step kind", "delegate_to": "run_once",
        "shell": "command", "lineinfile": "line", "ini_file": "ini", "systemd": "service"
    ]

    /// Loads one playbook file; throws `ConfigurationError` with every diagnostic.
    public func load(_ path: String) throws -> Playbook {
        var diagnostics = DiagnosticCollector()
        let playbook = loadCollecting(path, into: &diagnostics)
        try diagnostics.throwIfErrors()
        return playbook
    }

    /// Loads one playbook file, adding problems to `diagnostics` instead of throwing.
    public func loadCollecting(_ path: String, into diagnostics: inout DiagnosticCollector) -> Playbook {
        let root: SourceNode?
        do {
            root = try YAMLFile.load(path, vault: vault)
        } catch let error as ConfigurationError {
            diagnostics.append(contentsOf: error.diagnostics)
            return Playbook(path: path, plays: [])
        } catch {
            diagnostics.error("cannot read playbook: \(error)", at: SourceLocation(file: path, line: 1, column: 1))
            return Playbook(path: path, plays: [])
        }
        guard let root else {
            diagnostics.error("the playbook is empty", at: SourceLocation(file: path, line: 1, column: 1))
            return Playbook(path: path, plays: [])
        }
        guard let items = root.items else {
            diagnostics.error(
                "a playbook is a list of plays (each starting with `- name:` and `hosts:`), found a \(root.shapeName)",
                at: root.location)
            return Playbook(path: path, plays: [])
        }
        var plays: [Play] = []
        for item in items {
            if let play = parsePlay(item, directory: FileSystem.directory(of: path), diagnostics: &diagnostics) { plays.append(play) }
        }
        if items.isEmpty {
            diagnostics.error("the playbook has no plays", at: root.location)
        }
        return Playbook(path: path, plays: plays)
    }

    /// `directory`: the playbook's, where its `vars_files` are looked up.
    func parsePlay(_ node: SourceNode, directory: String, diagnostics: inout DiagnosticCollector) -> Play? {
        guard let entries = node.entries else {
            diagnostics.error("a play must be a map with `hosts:` and `steps:`, found a \(node.shapeName)", at: node.location)
            return nil
        }
        var play = Play(name: "", hosts: "", location: node.location)
        var sawHosts = false
        // Arguments the play's `defaults:` supply per family do not count as missing in its steps.
        var defaulted: [String: Set<String>] = [:]
        for family in entries.first(where: { $0.name == "defaults" })?.value.entries ?? [] {
            defaulted[family.name] = Set(family.value.entries?.map(\.name) ?? [])
        }
        for entry in entries {
            let key = entry.name
            let value = entry.value
            switch key {
            case "name": play.name = scalarString(value, key, &diagnostics) ?? ""
            case "hosts":
                sawHosts = true
                if let items = value.items {
                    play.hosts = items.compactMap { scalarString($0, key, &diagnostics) }.joined(separator: ":")
                } else {
                    play.hosts = scalarString(value, key, &diagnostics) ?? ""
                }
                if play.hosts.isEmpty { diagnostics.error("`hosts` must name a host pattern", at: value.location) }
            case "vars": play.vars = parseVars(value, &diagnostics)
            case "vars_files":
                for item in value.items ?? [value] {
                    if let s = scalarString(item, key, &diagnostics) {
                        play.varsFiles.append(readVarsFile(Located(s, at: item.location), relativeTo: directory, &diagnostics))
                    }
                }
            case "defaults":
                guard let families = value.entries else {
                    diagnostics.error("`defaults` must map a step family (such as `mysql` or `keystone`) to shared arguments", at: value.location)
                    continue
                }
                for family in families {
                    guard family.value.entries != nil else {
                        diagnostics.error("`defaults.\(family.name)` must be a map of arguments", at: family.value.location)
                        continue
                    }
                    play.defaults[family.name] = family.value.value
                }
            case "serial": play.serial = parseSerial(value, &diagnostics)
            case "become": play.become = mergeBecome(play.become, enabled: bool(value, key, &diagnostics))
            case "become_user":
                var become = play.become ?? Become(enabled: true)
                become.user = scalarString(value, key, &diagnostics)
                play.become = become
            case "steps": play.steps = parseSteps(value, isHandler: false, defaulted: defaulted, &diagnostics)
            case "handlers": play.handlers = parseSteps(value, isHandler: true, defaulted: defaulted, &diagnostics)
            case "tags": play.tags = stringList(value, key, &diagnostics)
            case "secrets": play.secrets = parseSecrets(value, &diagnostics)
            case "preflight": play.preflight = parsePreflight(value, &diagnostics)
            default:
                let hint =
                    Self.playAliases[key].map { "did you mean `\($0)`?" }
                    ?? DidYouMean.hint(for: key, among: Self.playKeys)
                diagnostics.error("unknown play keyword `\(key)`", at: entry.key.location, hint: hint)
            }
        }
        if !sawHosts { diagnostics.error("the play has no `hosts:` pattern", at: node.location) }
        if play.name.isEmpty { play.name = play.hosts }
        return play
    }

    func parseSteps(_ node: SourceNode, isHandler: Bool, defaulted: [String: Set<String>], _ diagnostics: inout DiagnosticCollector) -> [Step] {
        guard let items = node.items else {
            if case .scalar(.null) = node.kind { return [] }
            diagnostics.error("`\(isHandler ? "handlers" : "steps")` must be a list of steps, found a \(node.shapeName)", at: node.location)
            return []
        }
        return items.compactMap { parseStep($0, isHandler: isHandler, defaulted: defaulted, &diagnostics) }
    }

    func parseStep(_ node: SourceNode, isHandler: Bool, defaulted: [String: Set<String>], _ diagnostics: inout DiagnosticCollector) -> Step? {
        guard let entries = node.entries else {
            diagnostics.error("a step must be a map such as `- name: …` with one step kind, found a \(node.shapeName)", at: node.location)
            return nil
        }
        var kindEntries: [SourceNode.Entry] = []
        for entry in entries where !Self.stepKeywords.contains(entry.name) {
            if catalog[entry.name] != nil {
                kindEntries.append(entry)
            } else {
                let hint =
                    Self.stepAliases[entry.name].map { "did you mean `\($0)`?" }
                    ?? DidYouMean.hint(for: entry.name, among: Array(catalog.keys) + Self.stepKeywords)
                diagnostics.error("unknown step kind or keyword `\(entry.name)`", at: entry.key.location, hint: hint)
            }
        }
        if kindEntries.count > 1 {
            diagnostics.error(
                "a step has exactly one kind, found \(kindEntries.map { "`\($0.name)`" }.joined(separator: " and "))",
                at: kindEntries[1].key.location)
        }
        guard let kindEntry = kindEntries.first, let kind = catalog[kindEntry.name] else {
            if kindEntries.isEmpty && !entries.contains(where: { !Self.stepKeywords.contains($0.name) }) {
                diagnostics.error(
                    "the step has no kind (such as `template:` or `command:`)", at: node.location,
                    hint: "known kinds: \(catalog.keys.sorted().joined(separator: ", "))")
            }
            return nil
        }
        let fromDefaults = kind.defaultsFamily.flatMap { defaulted[$0] } ?? []
        ArgumentValidator.validate(
            kindEntry.value, schema: kind.schema, kind: kind.name, defaulted: fromDefaults,
            diagnostics: &diagnostics)

        var step = Step(name: nil, kind: kind.name, arguments: kindEntry.value.value, location: node.location)
        step.argumentsNode = kindEntry.value
        for entry in entries where Self.stepKeywords.contains(entry.name) {
            let value = entry.value
            switch entry.name {
            case "name": step.name = scalarString(value, "name", &diagnostics)
            case "when": step.when = conditions(value, "when", &diagnostics)
            case "changed_when": step.changedWhen = conditions(value, "changed_when", &diagnostics)
            case "failed_when": step.failedWhen = conditions(value, "failed_when", &diagnostics)
            case "until": step.until = conditions(value, "until", &diagnostics)
            case "loop":
                if case .scalar(let scalar) = value.kind, !(scalar.stringValue.map(TemplateRenderer.isTemplate) ?? false) {
                    diagnostics.error("`loop` must be a list or a template giving one", at: value.location)
                }
                step.loop = Located(value.value, at: value.location)
            case "register":
                if let name = scalarString(value, "register", &diagnostics) {
                    if VariableNames.isValid(name) {
                        step.register = name
                    } else {
                        diagnostics.error("`register` must be a variable name (letters, digits, _), got `\(name)`", at: value.location)
                    }
                }
            case "notify": step.notify = stringList(value, "notify", &diagnostics)
            case "listen": step.listen = stringList(value, "listen", &diagnostics)
            case "run_once": step.runOnce = bool(value, "run_once", &diagnostics)
            case "retries": step.retries = int(value, "retries", &diagnostics)
            case "delay": step.delay = number(value, "delay", &diagnostics)
            case "tags": step.tags = stringList(value, "tags", &diagnostics)
            case "no_log": step.noLog = bool(value, "no_log", &diagnostics) ?? false
            case "ignore_errors": step.ignoreErrors = bool(value, "ignore_errors", &diagnostics) ?? false
            case "become": step.become = mergeBecome(step.become, enabled: bool(value, "become", &diagnostics))
            case "become_user":
                var become = step.become ?? Become(enabled: true)
                become.user = scalarString(value, "become_user", &diagnostics)
                step.become = become
            default: break
            }
        }
        if isHandler && step.name == nil && step.listen.isEmpty {
            diagnostics.error("a handler needs a `name` (or `listen`) so steps can notify it", at: node.location)
        }
        if step.until != nil && step.retries == nil { step.retries = 3 }
        return step
    }

    // MARK: small typed readers

    func parseVars(_ node: SourceNode, _ diagnostics: inout DiagnosticCollector) -> [NamedValue] {
        guard let entries = node.entries else {
            if case .scalar(.null) = node.kind { return [] }
            diagnostics.error("`vars` must be a map of variable names to values, found a \(node.shapeName)", at: node.location)
            return []
        }
        return entries.compactMap { entry in
            guard VariableNames.isValid(entry.name) else {
                diagnostics.error(
                    "`\(entry.name)` is not a valid variable name (letters, digits and _, not starting with a digit)",
                    at: entry.key.location)
                return nil
            }
            return NamedValue(name: entry.name, value: entry.value.value, location: entry.value.location)
        }
    }

    /// `secrets: [name, …]` (or one name): variable names, each a plain string.
    func parseSecrets(_ node: SourceNode, _ diagnostics: inout DiagnosticCollector) -> [Located<String>] {
        if node.entries != nil {
            diagnostics.error(
                "`secrets` must be a list of variable names (such as `secrets: [rabbit_user]`), found a map",
                at: node.location, hint: "secret values belong in `vars:` or a vault file; `secrets:` only names them")
            return []
        }
        var names: [Located<String>] = []
        for item in node.items ?? [node] {
            guard case .string(let name) = item.scalar else {
                diagnostics.error("`secrets` entries must be variable names (strings), found a \(item.shapeName)", at: item.location)
                continue
            }
            guard VariableNames.isValid(name) else {
                diagnostics.error(
                    "`secrets` entry `\(name)` is not a variable name (letters, digits and _, not starting with a digit)",
                    at: item.location)
                continue
            }
            names.append(Located(name, at: item.location))
        }
        return names
    }

    static let preflightKeys = ["name", "command", "when"]

    /// `preflight: [{name: …, command: …, when: …}, …]`: the play's own read-only checks.
    func parsePreflight(_ node: SourceNode, _ diagnostics: inout DiagnosticCollector) -> [PreflightCheck] {
        guard let items = node.items else {
            if case .scalar(.null) = node.kind { return [] }
            diagnostics.error(
                "`preflight` must be a list of checks such as `- {name: …, command: …}`, found a \(node.shapeName)",
                at: node.location)
            return []
        }
        return items.compactMap { item in
            guard let entries = item.entries else {
                diagnostics.error("a preflight check must be a map with `command:` (and `name:`), found a \(item.shapeName)", at: item.location)
                return nil
            }
            var check = PreflightCheck(name: nil, command: "", location: item.location)
            var sawCommand = false
            for entry in entries {
                switch entry.name {
                case "name": check.name = scalarString(entry.value, "name", &diagnostics)
                case "command":
                    sawCommand = true
                    if let command = scalarString(entry.value, "command", &diagnostics) {
                        if command.isEmpty { diagnostics.error("`command` must not be empty", at: entry.value.location) }
                        check.command = command
                    }
                case "when": check.when = conditions(entry.value, "when", &diagnostics)
                default:
                    diagnostics.error(
                        "unknown preflight keyword `\(entry.name)`", at: entry.key.location,
                        hint: DidYouMean.hint(for: entry.name, among: Self.preflightKeys))
                }
            }
            guard sawCommand else {
                diagnostics.error("the preflight check has no `command:`", at: item.location)
                return nil
            }
            return check.command.isEmpty ? nil : check
        }
    }

    func parseSerial(_ node: SourceNode, _ diagnostics: inout DiagnosticCollector) -> [BatchSize] {
        let items = node.items ?? [node]
        var sizes: [BatchSize] = []
        for item in items {
            switch item.scalar {
            case .int(let n) where n > 0: sizes.append(.count(n))
            case .string(let s) where s.hasSuffix("%"):
                if let p = Int(s.dropLast()), (1...100).contains(p) {
                    sizes.append(.percent(p))
                } else {
                    diagnostics.error("`serial` percentage must be 1% to 100%, got `\(s)`", at: item.location)
                }
            default:
                diagnostics.error("`serial` must be a positive number, a percentage such as \"30%\", or a list of them", at: item.location)
            }
        }
        return sizes
    }

    func mergeBecome(_ current: Become?, enabled: Bool?) -> Become? {
        guard let enabled else { return current }
        var become = current ?? Become(enabled: enabled)
        become.enabled = enabled
        return become
    }

    func conditions(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> [Located<String>] {
        (node.items ?? [node]).compactMap { item in
            switch item.scalar {
            case .string(let s):
                if s.hasPrefix("{{") {
                    diagnostics.error(
                        "`\(key)` is a condition written without `{{ }}`", at: item.location,
                        hint: "write `\(key): x == 1`, not `\(key): \"{{ x == 1 }}\"`")
                }
                return Located(s, at: item.location)
            case .bool(let b): return Located(b ? "true" : "false", at: item.location)
            default:
                diagnostics.error("`\(key)` must be a condition (text) or a list of them, found a \(item.shapeName)", at: item.location)
                return nil
            }
        }
    }

    func scalarString(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> String? {
        guard let scalar = node.scalar, !scalar.isNull, let text = scalar.scalarText else {
            diagnostics.error("`\(key)` must be a string, found a \(node.shapeName)", at: node.location)
            return nil
        }
        return text
    }

    func stringList(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> [String] {
        (node.items ?? [node]).compactMap { scalarString($0, key, &diagnostics) }
    }

    func bool(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> Bool? {
        // The one boolean grammar, as for step arguments: `yes`, `"on"`, `1`, `false`, ...
        if let flag = node.scalar?.booleanValue { return flag }
        diagnostics.error("`\(key)` must be true or false (or yes/no, on/off, 1/0), found `\(node.value)`", at: node.location)
        return nil
    }

    func int(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> Int? {
        if case .int(let i) = node.scalar, i >= 0 { return i }
        diagnostics.error("`\(key)` must be a whole number, found `\(node.value)`", at: node.location)
        return nil
    }

    func number(_ node: SourceNode, _ key: String, _ diagnostics: inout DiagnosticCollector) -> Double? {
        switch node.scalar {
        case .int(let i) where i >= 0: return Double(i)
        case .double(let d) where d >= 0: return d
        default:
            diagnostics.error("`\(key)` must be a number of seconds, found `\(node.value)`", at: node.location)
            return nil
        }
    }
}

/// Rules for variable names.
public enum VariableNames {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.properties.isAlphabetic && first.isASCII) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
