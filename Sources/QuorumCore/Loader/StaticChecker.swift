import QuorumVault

/// Checks what can be known before any host is contacted: host patterns, notified handlers, `vars_files`,
/// and variables used by templates (in step arguments, names, conditions, loops and `template` sources)
/// that no inventory, play, vars file, registered result or magic variable defines.
public struct StaticChecker: Sendable {
    public let inventory: Inventory
    public let templates: TemplateRenderer
    public let extraVars: Set<String>
    /// Decrypts `vars_files` that are vault files.
    public let vault: VaultKeyring?

    /// Variables the engine itself provides.
    public static let magicNames: Set<String> = [
        "inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars", "ansible_play_hosts",
        "play_hosts", "ansible_check_mode", "ansible_diff_mode", "playbook_dir", "inventory_dir", "item",
        "true", "false", "none", "True", "False", "None", "loop", "forloop",
    ]

    public init(inventory: Inventory, templates: TemplateRenderer = TemplateRenderer(), extraVars: Set<String> = [],
                vault: VaultKeyring? = nil) {
        self.inventory = inventory
        self.templates = templates
        self.extraVars = extraVars
        self.vault = vault
    }

    public func check(_ playbooks: [Playbook]) -> [Diagnostic] {
        var diagnostics = DiagnosticCollector()
        var inventoryNames = Set<String>()
        for host in inventory.hosts { inventoryNames.formUnion(inventory.variables(for: host).keys) }
        var registered = Set<String>()
        for playbook in playbooks {
            for play in playbook.plays {
                for step in play.steps + play.handlers { if let name = step.register { registered.insert(name) } }
            }
        }

        for playbook in playbooks {
            let directory = FileSystem.directory(of: playbook.path)
            for play in playbook.plays {
                do {
                    if try inventory.select(play.hosts).isEmpty {
                        diagnostics.warning("no host matches `\(play.hosts)`", at: play.location)
                    }
                } catch {
                    diagnostics.error("bad host pattern `\(play.hosts)`: \(error)", at: play.location)
                }
                var known = inventoryNames.union(registered).union(Self.magicNames).union(extraVars)
                known.formUnion(play.vars.map(\.name))
                for file in play.varsFiles {
                    let path = FileSystem.resolve(file.value, relativeTo: directory)
                    do {
                        guard let node = try VaultFiles.load(path, vault: vault).root else { continue }
                        if let entries = node.entries { known.formUnion(entries.map(\.name)) } else {
                            diagnostics.error("vars file must hold a map of variables, found a \(node.shapeName)", at: node.location)
                        }
                    } catch {
                        diagnostics.append(contentsOf: error.diagnostics)
                    }
                }
                for named in play.vars {
                    checkValue(named.value, at: named.location, known: known, &diagnostics)
                }
                let handlerTopics = Set(play.handlers.flatMap { ($0.name.map { [$0] } ?? []) + $0.listen })
                for step in play.steps + play.handlers {
                    check(step, known: known, resolver: playbook.fileResolver, &diagnostics)
                    for topic in step.notify where !handlerTopics.contains(topic) {
                        diagnostics.error("`notify: \(topic)` names no handler of this play", at: step.location,
                                          hint: DidYouMean.hint(for: topic, among: handlerTopics))
                    }
                }
            }
        }
        return diagnostics.diagnostics
    }

    func check(_ step: Step, known: Set<String>, resolver: FileResolver, _ diagnostics: inout DiagnosticCollector) {
        if let node = step.argumentsNode { checkNode(node, known: known, &diagnostics) }
        if let name = step.name { checkText(name, at: step.location, known: known, &diagnostics) }
        for condition in step.when + (step.changedWhen ?? []) + (step.failedWhen ?? []) + (step.until ?? []) {
            checkText("{{ \(condition.value) }}", at: condition.location, known: known, &diagnostics)
        }
        if let loop = step.loop { checkValue(loop.value, at: loop.location, known: known, &diagnostics) }
        // A `template` step's source is checked too when its name is fixed.
        if step.kind == "template", let src = step.arguments["src"]?.stringValue, !TemplateRenderer.isTemplate(src),
           let path = try? resolver.resolve(src), let text = FileSystem.readText(path) {
            checkText(text, at: SourceLocation(file: path, line: 1, column: 1), known: known, &diagnostics)
        }
    }

    func checkNode(_ node: SourceNode, known: Set<String>, _ diagnostics: inout DiagnosticCollector) {
        switch node.kind {
        case .scalar(let value):
            if let text = value.stringValue { checkText(text, at: node.location, known: known, &diagnostics) }
        case .sequence(let items): items.forEach { checkNode($0, known: known, &diagnostics) }
        case .mapping(let entries):
            for entry in entries {
                checkNode(entry.key, known: known, &diagnostics)
                checkNode(entry.value, known: known, &diagnostics)
            }
        }
    }

    func checkValue(_ value: Value, at location: SourceLocation, known: Set<String>, _ diagnostics: inout DiagnosticCollector) {
        switch value {
        case .string(let s): checkText(s, at: location, known: known, &diagnostics)
        case .list(let items): items.forEach { checkValue($0, at: location, known: known, &diagnostics) }
        case .map(let map): map.values.forEach { checkValue($0, at: location, known: known, &diagnostics) }
        default: break
        }
    }

    func checkText(_ text: String, at location: SourceLocation, known: Set<String>, _ diagnostics: inout DiagnosticCollector) {
        guard TemplateRenderer.isTemplate(text) else { return }
        for name in templates.requiredNames(in: text).sorted() where !known.contains(name) {
            diagnostics.error("undefined variable `\(name)`", at: location, hint: DidYouMean.hint(for: name, among: known))
        }
    }
}
