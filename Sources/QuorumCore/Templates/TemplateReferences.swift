import Stencil

/// Finds the top-level variable names a template uses, for static checks before any host is contacted.
enum TemplateReferences {
    static func names(in text: String, requiredOnly: Bool) -> Set<String> {
        guard TemplateRenderer.hasTemplateSyntax(text), let template = try? TemplateCache.shared.template(text) else {
            return fallbackNames(in: text, requiredOnly: requiredOnly)
        }
        var names = Set<String>()
        var bound = Set<String>()
        collect(template.nodes, bound: &bound, requiredOnly: requiredOnly, into: &names)
        return names
    }

    /// For a text that does not parse: the names of the output tags that do.
    private static func fallbackNames(in text: String, requiredOnly: Bool) -> Set<String> {
        var names = Set<String>()
        for segment in (try? TemplateScanner.scan(text)) ?? [] where segment.kind == .output {
            if let expression = try? ExprParser.parse(segment.content) {
                collect(expression, bound: [], requiredOnly: requiredOnly, into: &names)
            }
        }
        return names
    }

    static func collect(_ nodes: [any NodeType], bound: inout Set<String>, requiredOnly: Bool, into names: inout Set<String>) {
        for node in nodes {
            switch node {
            case let output as OutputNode:
                collect(output.expression, bound: bound, requiredOnly: requiredOnly, into: &names)
            case let set as SetNode:
                collect(set.expression, bound: bound, requiredOnly: requiredOnly, into: &names)
                bound.insert(set.name)
            case let branching as IfNode:
                let guarded = bound
                for branch in branching.branches {
                    if let condition = branch.condition {
                        collect(condition, bound: guarded, requiredOnly: requiredOnly, into: &names)
                    }
                    var inner = guarded
                    if requiredOnly, let condition = branch.condition { inner.formUnion(definedGuards(condition)) }
                    collect(branch.nodes, bound: &inner, requiredOnly: requiredOnly, into: &names)
                }
            case let loop as ForNode:
                collect(loop.iterable, bound: bound, requiredOnly: requiredOnly, into: &names)
                var inner = bound.union(loop.targets).union(["loop", "forloop"])
                if let filter = loop.filter { collect(filter, bound: inner, requiredOnly: requiredOnly, into: &names) }
                collect(loop.nodes, bound: &inner, requiredOnly: requiredOnly, into: &names)
                var empty = bound
                collect(loop.emptyNodes, bound: &empty, requiredOnly: requiredOnly, into: &names)
            default:
                break
            }
        }
    }

    static func collect(_ expression: TemplateExpr, bound: Set<String>, requiredOnly: Bool, into names: inout Set<String>) {
        func walk(_ e: TemplateExpr, _ bound: Set<String>) {
            collect(e, bound: bound, requiredOnly: requiredOnly, into: &names)
        }
        switch expression {
        case .literal:
            break
        case .name(let name):
            if !bound.contains(name) { names.insert(name) }
        case .member(let base, _):
            walk(base, bound)
        case .index(let base, let key):
            walk(base, bound)
            walk(key, bound)
        case .list(let items):
            items.forEach { walk($0, bound) }
        case .dict(let pairs):
            for (key, value) in pairs {
                walk(key, bound)
                walk(value, bound)
            }
        case .not(let inner), .negate(let inner):
            walk(inner, bound)
        case .and(let left, let right):
            walk(left, bound)
            walk(right, requiredOnly ? bound.union(definedGuards(left)) : bound)
        case .or(let left, let right):
            walk(left, bound)
            walk(right, bound)
        case .binary(let left, _, let right):
            walk(left, bound)
            walk(right, bound)
        case .filter(let input, let name, let arguments, let keywords):
            if !(requiredOnly && ["default", "d", "defined"].contains(name)) { walk(input, bound) }
            arguments.forEach { walk($0, bound) }
            keywords.forEach { walk($0.1, bound) }
        case .test(let input, let name, let arguments, _):
            if !(requiredOnly && ["defined", "undefined"].contains(name)) { walk(input, bound) }
            arguments.forEach { walk($0, bound) }
        case .conditional(let then, let condition, let otherwise):
            walk(condition, bound)
            walk(then, requiredOnly ? bound.union(definedGuards(condition)) : bound)
            if let otherwise { walk(otherwise, bound) }
        case .method(let base, _, let arguments):
            walk(base, bound)
            arguments.forEach { walk($0, bound) }
        }
    }

    /// Root names a condition proves defined when true: `x is defined`, `x.y is defined`, `x is not undefined`,
    /// and the same inside `and` chains.
    static func definedGuards(_ condition: TemplateExpr) -> Set<String> {
        switch condition {
        case .and(let left, let right):
            return definedGuards(left).union(definedGuards(right))
        case .test(let input, let name, _, let negated) where (name == "defined" && !negated) || (name == "undefined" && negated):
            return root(of: input).map { [$0] } ?? []
        default:
            return []
        }
    }

    private static func root(of expression: TemplateExpr) -> String? {
        switch expression {
        case .name(let name): return name
        case .member(let base, _), .index(let base, _): return root(of: base)
        default: return nil
        }
    }
}
