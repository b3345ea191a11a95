import OrderedCollections
import QuorumTemplates

/// Checks what can be known before any host is contacted: host patterns, notified handlers, and variables
/// used by templates (in step arguments, names, conditions, loops and `template` sources) that no inventory,
/// play, vars file (read by the loader), registered result or magic variable defines.
///
/// Guards are honoured: a use is an error only where it can be evaluated with the variable undefined. So
/// `{% if x is defined %}{{ x }}{% else %}{{ y }}{% endif %}` needs neither `x` nor `y` when the inventory
/// defines `x`, and needs `y` when it does not; `x | default(…)` and a step with `when: x is defined` need
/// no `x`. An error names the file, and the line and column of the tag that uses the variable.
/// How "defined" is decided (any host, not per host) is told at `KnownVariables`.
public struct StaticChecker: Sendable {
    public let inventory: Inventory
    public let extraVars: Set<String>

    public init(inventory: Inventory, extraVars: Set<String> = []) {
        self.inventory = inventory
        self.extraVars = extraVars
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
            for play in playbook.plays {
                do {
                    if try inventory.select(play.hosts).isEmpty {
                        diagnostics.warning("no host matches `\(play.hosts)`", at: play.location)
                    }
                } catch {
                    diagnostics.error("bad host pattern `\(play.hosts)`: \(error)", at: play.location)
                }
                var known = KnownVariables(defined: inventoryNames.union(MagicVariable.names).union(extraVars), registered: registered)
                known.defined.formUnion(play.vars.map(\.name))
                for file in play.varsFiles { known.defined.formUnion(file.variables.map(\.name)) }
                for named in play.vars {
                    checkValue(named.value, at: named.location, known: known, facts: known.facts, &diagnostics)
                }
                let handlerTopics = Set(play.handlers.flatMap { ($0.name.map { [$0] } ?? []) + $0.listen })
                for step in play.steps + play.handlers {
                    check(step, known: known, resolver: playbook.fileResolver, &diagnostics)
                    for topic in step.notify where !handlerTopics.contains(topic) {
                        diagnostics.error(
                            "`notify: \(topic)` names no handler of this play", at: step.location,
                            hint: DidYouMean.hint(for: topic, among: handlerTopics))
                    }
                }
            }
        }
        return diagnostics.diagnostics
    }

    /// A step's `when:` conditions run first, in order, each only when the ones before it held; everything
    /// else the step evaluates (name, arguments, loop, `changed_when`, `failed_when`, `until`, its template
    /// file) runs only when all of them held. So `when: x is defined` guards `x` there, and a step whose
    /// conditions cannot hold (`when: x is defined` where nothing defines `x`) is not checked further.
    func check(_ step: Step, known: KnownVariables, resolver: FileResolver, _ diagnostics: inout DiagnosticCollector) {
        var facts = known.facts
        for condition in step.when {
            checkCondition(condition, known: known, facts: facts, &diagnostics)
            guard let expression = try? TemplateCache.shared.expression(condition.value) else { continue }
            if facts.decide(expression) == false { return }
            facts = facts.assuming(expression, is: true)
        }
        if let node = step.argumentsNode { checkNode(node, known: known, facts: facts, &diagnostics) }
        // The step's location, not the name's: its uses are reported there, without a column within the name.
        if let name = step.name { checkText(name, at: step.location, known: known, facts: facts, locatingTags: false, &diagnostics) }
        for condition in (step.changedWhen ?? []) + (step.failedWhen ?? []) + (step.until ?? []) {
            checkCondition(condition, known: known, facts: facts, &diagnostics)
        }
        if let loop = step.loop { checkValue(loop.value, at: loop.location, known: known, facts: facts, &diagnostics) }
        // A `template` step's source is checked too when its name is fixed.
        if step.kind == "template", let src = step.arguments["src"]?.stringValue, !TemplateRenderer.isTemplate(src),
            let path = try? resolver.resolve(src), let text = FileSystem.readText(path)
        {
            checkText(text, at: SourceLocation(file: path, line: 1, column: 1), known: known, facts: facts, &diagnostics)
        }
    }

    func checkNode(_ node: SourceNode, known: KnownVariables, facts: GuardFacts, _ diagnostics: inout DiagnosticCollector) {
        switch node.kind {
        case .scalar(let value):
            if let text = value.stringValue { checkText(text, at: node.location, known: known, facts: facts, &diagnostics) }
        case .sequence(let items):
            for item in items { checkNode(item, known: known, facts: facts, &diagnostics) }
        case .mapping(let entries):
            for entry in entries {
                checkNode(entry.key, known: known, facts: facts, &diagnostics)
                checkNode(entry.value, known: known, facts: facts, &diagnostics)
            }
        }
    }

    /// A value written at `location`: the strings inside a list or map are reported at the value's location.
    func checkValue(
        _ value: Value, at location: SourceLocation, known: KnownVariables, facts: GuardFacts,
        locatingTags: Bool = true, _ diagnostics: inout DiagnosticCollector
    ) {
        switch value {
        case .string(let s):
            checkText(s, at: location, known: known, facts: facts, locatingTags: locatingTags, &diagnostics)
        case .list(let items):
            for item in items { checkValue(item, at: location, known: known, facts: facts, locatingTags: false, &diagnostics) }
        case .map(let map):
            for item in map.values { checkValue(item, at: location, known: known, facts: facts, locatingTags: false, &diagnostics) }
        default:
            break
        }
    }

    /// `locatingTags`: the text starts at `location`, so a use is reported at its tag's line and column
    /// within the text (as rendering errors are); otherwise at `location` itself.
    func checkText(
        _ text: String, at location: SourceLocation, known: KnownVariables, facts: GuardFacts,
        locatingTags: Bool = true, _ diagnostics: inout DiagnosticCollector
    ) {
        guard TemplateRenderer.isTemplate(text) else { return }
        var uses = TemplateReferences.uses(in: text, honouringGuards: true, facts: facts)
        if !locatingTags { uses = uses.map { TemplateUse(name: $0.name, line: 1, column: 1) } }
        report(uses, at: location, known: known, &diagnostics)
    }

    func checkCondition(
        _ condition: Located<String>, known: KnownVariables, facts: GuardFacts,
        _ diagnostics: inout DiagnosticCollector
    ) {
        guard let expression = try? TemplateCache.shared.expression(condition.value) else { return }
        report(TemplateReferences.uses(in: expression, honouringGuards: true, facts: facts), at: condition.location, known: known, &diagnostics)
    }

    /// One error per undefined name of a text, at its first use (the tag's line and column within the text).
    private func report(
        _ uses: [TemplateUse], at location: SourceLocation, known: KnownVariables,
        _ diagnostics: inout DiagnosticCollector
    ) {
        var reported = Set<String>()
        for use in uses where !known.contains(use.name) && reported.insert(use.name).inserted {
            diagnostics.error(
                "undefined variable `\(use.name)`", at: location.within(line: use.line, column: use.column),
                hint: DidYouMean.hint(for: use.name, among: known.all))
        }
    }
}

/// The variables a play can see, as the static check knows them before any host is contacted.
///
/// The check is not per host: a variable is `defined` when the inventory defines it for any host (or the
/// play, a vars file, `-e`, the engine does), and a guard on it is decided from that. So with
/// `transport_url` set for some host, the `else` of `{% if transport_url is defined %}` counts as never
/// running, and the variables used only there are not required; a host without `transport_url` then fails
/// when the template is rendered (rendering stays strict), not in the check. Names a step `register`s are
/// defined only once that step ran: a guard on them is left undecided.
struct KnownVariables {
    var defined: Set<String>
    var registered: Set<String>

    func contains(_ name: String) -> Bool { defined.contains(name) || registered.contains(name) }

    var all: Set<String> { defined.union(registered) }

    var facts: GuardFacts {
        let (defined, registered) = (self.defined, self.registered)
        return GuardFacts { name in
            defined.contains(name) ? .defined : (registered.contains(name) ? .undecided : .undefined)
        }
    }
}
