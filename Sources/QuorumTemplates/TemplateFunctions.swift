import QuorumValues

/// The filters (`x|name`) and tests (`x is name`) templates may use: one table, in the order the
/// did-you-mean hint prefers. Names are checked when a template is parsed: an unknown one is an error
/// with its line. Methods (`x.items()`) are apart (`TemplateFilters.applyMethod`).
enum TemplateFunctions {
    static let table: [TemplateFunction] = coreFilters + ansibleFilters + tests

    private static let filters = index(table.filter { !$0.isTest })
    private static let testsByName = index(table.filter(\.isTest))

    static let filterNames = table.filter { !$0.isTest }.map(\.name)
    static let testNames = table.filter(\.isTest).map(\.name)

    static func isKnownFilter(_ name: String) -> Bool { filters[name] != nil }
    static func isKnownTest(_ name: String) -> Bool { testsByName[name] != nil }

    private static func index(_ functions: [TemplateFunction]) -> [String: TemplateFunction] {
        Dictionary(functions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `input|name(arguments, keywords)`.
    static func applyFilter(
        _ name: String, input: TemplateExpr, arguments: [TemplateExpr], keywords: [(String, TemplateExpr)], evaluator: TemplateEvaluator
    ) throws -> Value {
        guard let function = filters[name] else { throw TemplateError("unknown filter `\(name)`") }
        if case .lazyFilter(let body) = function.body { return try body(try evaluator.resolve(input), arguments, evaluator) }
        var values: [String: Value] = [:]
        for (key, expression) in keywords { values[key] = try evaluator.value(expression) }
        return try apply(name, try evaluator.value(input), try arguments.map(evaluator.value), values, evaluator)
    }

    /// A filter of evaluated values (also what `map('name')` applies to each item).
    static func apply(_ name: String, _ input: Value, _ arguments: [Value], _ keywords: [String: Value], _ evaluator: TemplateEvaluator) throws -> Value {
        guard let function = filters[name], case .filter(let body) = function.body else { throw TemplateError("unknown filter `\(name)`") }
        if let allowed = function.keywords, let unexpected = keywords.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw TemplateError("filter `\(name)` takes no keyword argument `\(unexpected)`")
        }
        if let count = function.maxArguments, arguments.count > count {
            throw TemplateError("filter `\(name)` takes at most \(count) argument\(count == 1 ? "" : "s"), got \(arguments.count)")
        }
        return try body(FunctionCall(name: name, input: input, arguments: arguments, keywords: keywords, evaluator: evaluator))
    }

    /// `input is name(arguments)`.
    static func applyTest(_ name: String, input: Resolved, arguments: [Value], evaluator: TemplateEvaluator) throws -> Bool {
        switch testsByName[name]?.body {
        case .definednessTest(let body)?:
            return body(input)
        case .test(let body)?:
            let value = try evaluator.require(input)
            return try body(FunctionCall(name: name, input: value, arguments: arguments, keywords: [:], evaluator: evaluator, noun: "test"))
        default:
            throw TemplateError("unknown test `\(name)`")
        }
    }

    /// Whether a filter may be applied by `map('name')`: not one that looks at undefined values, nor `map`.
    static func isMappable(_ name: String) -> Bool {
        guard let function = filters[name], case .filter = function.body else { return false }
        return name != "map"
    }
}
