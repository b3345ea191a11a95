/// Checks a step's arguments against its kind's schema when the playbook loads, with the run time's own
/// check (`ArgumentCheck`): values holding a template are left for after rendering. Each problem is
/// reported at the YAML node it concerns.
enum ArgumentValidator {
    /// `defaulted` names arguments a play's `defaults:` may supply, so they do not count as missing here.
    static func validate(
        _ node: SourceNode, schema: ArgSchema, kind: String, defaulted: Set<String> = [],
        diagnostics: inout DiagnosticCollector
    ) {
        var check = ArgumentCheck(deferring: TemplateRenderer.isTemplate)
        _ = check.arguments(node.value, schema: schema, kind: kind, defaulted: defaulted)
        for problem in check.problems {
            diagnostics.error(problem.message, at: location(of: problem, in: node), hint: problem.hint)
        }
    }

    /// The location of the node a problem's path leads to (as far as the YAML goes: a plain string given for
    /// a free-form argument is that argument).
    static func location(of problem: ArgProblem, in root: SourceNode) -> SourceLocation {
        var node = root
        for (index, place) in problem.path.enumerated() {
            switch place {
            case .key(let name):
                guard let entry = node.entries?.first(where: { $0.name == name }) else { return node.location }
                node = problem.atKey && index == problem.path.count - 1 ? entry.key : entry.value
            case .index(let position):
                guard let items = node.items, items.indices.contains(position) else { return node.location }
                node = items[position]
            }
        }
        return node.location
    }
}
