import OrderedCollections
import QuorumValues

/// One row of the filter and test table (`TemplateFunctions.table`): a name, what it accepts, what it does.
struct TemplateFunction: Sendable {
    enum Body: Sendable {
        /// A filter of an evaluated input (an undefined input is an error before it is called).
        case filter(@Sendable (FunctionCall) throws -> Value)
        /// A filter that looks at its input without requiring it (`default`, `defined`), and evaluates its
        /// arguments only when it needs them.
        case lazyFilter(@Sendable (Resolved, [TemplateExpr], TemplateEvaluator) throws -> Value)
        /// A test (`x is name`) of an evaluated input.
        case test(@Sendable (FunctionCall) throws -> Bool)
        /// A test of whether the input is defined at all.
        case definednessTest(@Sendable (Resolved) -> Bool)
    }

    let name: String
    /// The most positional arguments a filter takes; nil when its body checks them.
    let maxArguments: Int?
    /// The keyword arguments a filter takes; nil when its body checks them.
    let keywords: Set<String>?
    let body: Body

    init(_ name: String, maxArguments: Int? = nil, keywords: Set<String>? = [], _ body: Body) {
        self.name = name
        self.maxArguments = maxArguments
        self.keywords = keywords
        self.body = body
    }

    var isTest: Bool {
        switch body {
        case .test, .definednessTest: return true
        case .filter, .lazyFilter: return false
        }
    }
}

/// A filter or test applied to an evaluated input: the evaluated arguments, and the checks filters share.
struct FunctionCall {
    let name: String
    let input: Value
    let arguments: [Value]
    let keywords: [String: Value]
    let evaluator: TemplateEvaluator
    /// How messages call it: `filter` or `test`.
    var noun = "filter"

    /// The positional argument `index`; `label` names it when it is missing.
    func argument(_ index: Int, _ label: String) throws -> Value {
        guard index < arguments.count else { throw TemplateError("\(noun) `\(name)` needs its \(label) argument") }
        return arguments[index]
    }

    /// An optional argument, given by position or by keyword (Jinja allows both).
    func option(_ index: Int, _ keyword: String) -> Value? {
        index < arguments.count ? arguments[index] : keywords[keyword]
    }

    func text(_ value: Value) throws -> String { try TemplateFilters.text(value, for: name) }
    func list(_ value: Value) throws -> [Value] { try TemplateFilters.list(value, for: name) }
    func integer(_ value: Value) throws -> Int { try TemplateFilters.integer(value, for: name) }

    func map(_ value: Value) throws -> OrderedDictionary<String, Value> {
        guard case .map(let map) = value else { throw TemplateError("filter `\(name)` needs a map, not a \(value.typeName)") }
        return map
    }

    /// A `true`/`false` option; anything else is an error (strict, unlike Python's truthiness).
    func flag(_ value: Value?, _ label: String) throws -> Bool {
        switch value {
        case nil: return false
        case .bool(let flag)?: return flag
        case let other?: throw TemplateError("filter `\(name)`: `\(label)` must be true or false, not a \(other.typeName)")
        }
    }
}
