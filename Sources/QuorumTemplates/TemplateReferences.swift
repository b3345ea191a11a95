import QuorumValues

/// A variable a template uses, with the tag that uses it (1-based line and column within the text).
package struct TemplateUse: Sendable, Hashable {
    package var name: String
    package var line: Int
    package var column: Int

    package init(name: String, line: Int, column: Int) {
        self.name = name
        self.line = line
        self.column = column
    }
}

/// Finds the top-level variables a template or a condition uses, for static checks before any host is
/// contacted. Names the text binds itself (`set`, `for`) are left out.
///
/// When guards are honoured, a use counts only where the variable may be undefined when it is evaluated:
/// not as the input of `default`/`d`/`defined` or of an `is defined`/`is undefined` test, not where a guard
/// on the way proves it defined (`{% if x is defined %}`, the `else` of `{% if x is undefined %}`,
/// `x is defined and …`, `x is undefined or …`, `… if x is defined else …`), and not in a branch that the
/// facts show cannot run (see `GuardFacts`). An `include` is not followed: only its file name's uses count.
package struct TemplateReferences {
    let honoursGuards: Bool
    private(set) var uses: [TemplateUse] = []
    /// The tag being walked, where its uses are reported.
    private var line = 1
    private var column = 1

    private init(honoursGuards: Bool) {
        self.honoursGuards = honoursGuards
    }

    /// The uses in `text`, in the order written; `facts` says what is known before it.
    package static func uses(in text: String, honouringGuards: Bool, facts: GuardFacts = .undecided) -> [TemplateUse] {
        var walker = TemplateReferences(honoursGuards: honouringGuards)
        var facts = facts
        if TemplateRenderer.hasTemplateSyntax(text), let template = try? TemplateCache.shared.template(text) {
            walker.walk(template, &facts)
        } else {
            // A text that does not parse: the uses in the output tags that do.
            for segment in (try? TemplateScanner.scan(text)) ?? [] where segment.kind == .output {
                if let expression = try? TemplateCache.shared.expression(segment.content) {
                    walker.at(segment.position)
                    walker.walk(expression, facts)
                }
            }
        }
        return walker.uses
    }

    /// The uses in a condition or one expression (all at line 1, column 1).
    package static func uses(in expression: TemplateExpr, honouringGuards: Bool, facts: GuardFacts = .undecided) -> [TemplateUse] {
        var walker = TemplateReferences(honoursGuards: honouringGuards)
        walker.walk(expression, facts)
        return walker.uses
    }

    private mutating func at(_ position: TemplatePosition) {
        line = position.line
        column = position.column
    }

    private mutating func walk(_ nodes: [TemplateNode], _ facts: inout GuardFacts) {
        for node in nodes {
            switch node {
            case .text:
                break
            case .output(let expression, let position), .include(let expression, let position):
                at(position)
                walk(expression, facts)
            case .assignment(let name, let expression, let position):
                at(position)
                walk(expression, facts)
                facts.bind([name])
            case .conditional(let branches):
                walk(branches, facts)
            case .loop(let loop):
                at(loop.position)
                walk(loop.iterable, facts)
                var inner = facts
                inner.bind(loop.targets + ["loop", "forloop"])
                if let filter = loop.filter {
                    walk(filter, inner)
                    if honoursGuards { inner = inner.assuming(filter, is: true) }
                }
                walk(loop.body, &inner)
                var empty = facts
                walk(loop.otherwise, &empty)
            }
        }
    }

    /// Branches in order: each condition is evaluated only when the ones before it were false.
    private mutating func walk(_ branches: [TemplateBranch], _ facts: GuardFacts) {
        var facts = facts
        for branch in branches {
            guard let condition = branch.condition else {
                var inner = facts
                walk(branch.body, &inner)
                return
            }
            at(branch.position)
            walk(condition, facts)
            let decided = honoursGuards ? facts.decide(condition) : nil
            if decided != false {
                var inner = honoursGuards ? facts.assuming(condition, is: true) : facts
                walk(branch.body, &inner)
            }
            if decided == true { return }
            if honoursGuards { facts = facts.assuming(condition, is: false) }
        }
    }

    private mutating func use(_ name: String, _ facts: GuardFacts) {
        if facts.definedness(of: name) != .defined {
            uses.append(TemplateUse(name: name, line: line, column: column))
        }
    }

    private mutating func walk(_ expression: TemplateExpr, _ facts: GuardFacts) {
        switch expression {
        case .literal:
            break
        case .name(let name):
            use(name, facts)
        case .member(let base, _):
            walk(base, facts)
        case .index(let base, let key):
            walk(base, facts)
            walk(key, facts)
        case .list(let items):
            for item in items { walk(item, facts) }
        case .dict(let pairs):
            for (key, value) in pairs {
                walk(key, facts)
                walk(value, facts)
            }
        case .not(let inner), .negate(let inner):
            walk(inner, facts)
        case .and(let left, let right):
            walk(left, facts)
            walkIf(left, is: true, then: right, facts)
        case .or(let left, let right):
            walk(left, facts)
            walkIf(left, is: false, then: right, facts)
        case .binary(let left, _, let right):
            walk(left, facts)
            walk(right, facts)
        case .filter(let input, let name, let arguments, let keywords):
            if ["default", "d", "defined"].contains(name) { walkLooked(input, facts) } else { walk(input, facts) }
            for argument in arguments { walk(argument, facts) }
            for keyword in keywords { walk(keyword.1, facts) }
        case .test(let input, let name, let arguments, _):
            if ["defined", "undefined"].contains(name) { walkLooked(input, facts) } else { walk(input, facts) }
            for argument in arguments { walk(argument, facts) }
        case .conditional(let then, let condition, let otherwise):
            walk(condition, facts)
            walkIf(condition, is: true, then: then, facts)
            if let otherwise { walkIf(condition, is: false, then: otherwise, facts) }
        case .method(let base, _, let arguments):
            walk(base, facts)
            for argument in arguments { walk(argument, facts) }
        }
    }

    /// `next`, which is evaluated only when `condition` is `truth`; skipped when the facts say it is not.
    private mutating func walkIf(_ condition: TemplateExpr, is truth: Bool, then next: TemplateExpr, _ facts: GuardFacts) {
        guard honoursGuards else { return walk(next, facts) }
        guard let decided = facts.decide(condition) else { return walk(next, facts.assuming(condition, is: truth)) }
        if decided == truth { walk(next, facts.assuming(condition, is: truth)) }
    }

    /// The input of `default`, `defined` or a definedness test: the variable itself may be undefined, but
    /// the keys of its access path (`hostvars[h]`) and anything that is not a plain path are evaluated.
    private mutating func walkLooked(_ input: TemplateExpr, _ facts: GuardFacts) {
        guard honoursGuards else { return walk(input, facts) }
        switch input {
        case .name:
            break
        case .member(let base, _):
            walkLooked(base, facts)
        case .index(let base, let key):
            walkLooked(base, facts)
            walk(key, facts)
        default:
            walk(input, facts)
        }
    }
}
