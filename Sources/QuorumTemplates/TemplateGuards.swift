import QuorumValues

/// Whether a variable is defined, as far as a static check can tell without a host.
package enum Definedness: Sendable {
    case defined, undefined, undecided
}

/// What is known about variables at one point of a template or a step: names bound there (`set`, `for`),
/// names a guard on the way proves defined or undefined, and, for every other name, what the caller knows
/// (`baseline`). From these, a guard (`x is defined`, `x is undefined`, `not`, `and`, `or`) is decided when
/// it can be, so a branch that cannot run is not checked, and one that runs knows what its guard proved.
package struct GuardFacts {
    private(set) var defined: Set<String> = []
    private(set) var undefined: Set<String> = []
    let baseline: (String) -> Definedness

    /// Every name undecided: only what the text itself proves counts.
    package static var undecided: GuardFacts { GuardFacts(baseline: { _ in .undecided }) }

    package init(baseline: @escaping (String) -> Definedness) {
        self.baseline = baseline
    }

    package func definedness(of name: String) -> Definedness {
        if defined.contains(name) { return .defined }
        if undefined.contains(name) { return .undefined }
        return baseline(name)
    }

    /// `set name = …` or a `for` target: defined from here on.
    package mutating func bind(_ names: some Sequence<String>) {
        for name in names {
            defined.insert(name)
            undefined.remove(name)
        }
    }

    /// The facts after `condition` turned out `truth` (short-circuit: the right of `a and b` runs when `a` is true).
    package func assuming(_ condition: TemplateExpr, is truth: Bool) -> GuardFacts {
        var facts = self
        let proven = Self.proof(of: condition, truth)
        facts.bind(proven.defined)
        for name in proven.undefined where !facts.defined.contains(name) { facts.undefined.insert(name) }
        return facts
    }

    /// The value of `condition` when only its definedness tests decide it; nil when it depends on more.
    package func decide(_ condition: TemplateExpr) -> Bool? {
        switch condition {
        case .not(let inner):
            return decide(inner).map { !$0 }
        case .and(let left, let right):
            let (l, r) = (decide(left), decide(right))
            if l == false || r == false { return false }
            return l == true && r == true ? true : nil
        case .or(let left, let right):
            let (l, r) = (decide(left), decide(right))
            if l == true || r == true { return true }
            return l == false && r == false ? false : nil
        default:
            guard let test = Self.definednessTest(condition) else { return nil }
            let isDefined: Bool
            if case .name(let name) = test.subject {
                switch definedness(of: name) {
                case .defined: isDefined = true
                case .undefined: isDefined = false
                case .undecided: return nil
                }
            } else {
                // `x.y is defined`: false when `x` is undefined, otherwise it depends on the value.
                guard let root = Self.root(of: test.subject), definedness(of: root) == .undefined else { return nil }
                isDefined = false
            }
            return isDefined == test.provesDefined
        }
    }

    /// Names `condition` proves defined and undefined when it is `truth`: `x is defined` proves `x` (and,
    /// for `x.y is defined`, its root `x`); `x is undefined`, when true, proves only a plain name undefined.
    private static func proof(of condition: TemplateExpr, _ truth: Bool) -> (defined: Set<String>, undefined: Set<String>) {
        switch condition {
        case .not(let inner):
            return proof(of: inner, !truth)
        case .and(let left, let right), .or(let left, let right):
            let (l, r) = (proof(of: left, truth), proof(of: right, truth))
            // `a and b` true (or `a or b` false): both hold. Otherwise one of them did not: only common facts.
            let isAnd: Bool
            if case .and = condition { isAnd = true } else { isAnd = false }
            if isAnd == truth { return (l.defined.union(r.defined), l.undefined.union(r.undefined)) }
            return (l.defined.intersection(r.defined), l.undefined.intersection(r.undefined))
        default:
            guard let test = definednessTest(condition) else { return ([], []) }
            if test.provesDefined == truth { return (root(of: test.subject).map { [$0] } ?? [], []) }
            if case .name(let name) = test.subject { return ([], [name]) }
            return ([], [])
        }
    }

    /// `x is defined`, `x is not undefined`, `x | defined` (true means defined) and `x is undefined`,
    /// `x is not defined` (true means undefined).
    static func definednessTest(_ expression: TemplateExpr) -> (subject: TemplateExpr, provesDefined: Bool)? {
        switch expression {
        case .test(let input, let name, _, let negated) where name == "defined" || name == "undefined":
            return (input, (name == "defined") != negated)
        case .filter(let input, "defined", _, _):
            return (input, true)
        default:
            return nil
        }
    }

    /// The variable an access path starts from: `x` for `x`, `x.y`, `x[k].z`.
    static func root(of expression: TemplateExpr) -> String? {
        switch expression {
        case .name(let name): return name
        case .member(let base, _), .index(let base, _): return root(of: base)
        default: return nil
        }
    }
}
