import Foundation
import OrderedCollections
import QuorumValues

extension TemplateFunctions {
    /// Quorum's first filters: the escape hatches, text, conversions, lists, versions.
    static let coreFilters: [TemplateFunction] =
        [
            // The escape hatches look at the input without requiring it, and evaluate their fallback lazily.
            TemplateFunction("default", .lazyFilter(fallback)),
            TemplateFunction("d", .lazyFilter(fallback)),
            TemplateFunction("defined", .lazyFilter { input, _, _ in .bool(input.isDefined) }),
            TemplateFunction(
                "join", maxArguments: 1,
                .filter { call in
                    let separator = try call.arguments.first.map(call.text) ?? ""
                    return .string(try call.list(call.input).map(\.description).joined(separator: separator))
                }),
            TemplateFunction("upper", maxArguments: 0, .filter(uppercase)),
            TemplateFunction("lower", maxArguments: 0, .filter(lowercase)),
            TemplateFunction("uppercase", maxArguments: 0, .filter(uppercase)),
            TemplateFunction("lowercase", maxArguments: 0, .filter(lowercase)),
            TemplateFunction(
                "capitalize", maxArguments: 0,
                .filter { call in
                    let string = try call.text(call.input)
                    return .string(string.prefix(1).uppercased() + string.dropFirst().lowercased())
                }),
            TemplateFunction(
                "quote", maxArguments: 0,
                .filter { call in
                    if case .list(let items) = call.input { return .string(Shell.join(try items.map(call.text))) }
                    return .string(Shell.quote(try call.text(call.input)))
                }),
            TemplateFunction("to_json", maxArguments: 0, .filter { call in .string(TemplateFilters.json(call.input, indent: nil)) }),
            TemplateFunction(
                "to_nice_json", maxArguments: 1,
                .filter { call in
                    .string(TemplateFilters.json(call.input, indent: try call.arguments.first.map(call.integer) ?? 4))
                }),
            TemplateFunction(
                "replace", maxArguments: 2,
                .filter { call in
                    let old = try call.text(call.argument(0, "first (old text)"))
                    let new = try call.text(call.argument(1, "second (new text)"))
                    guard !old.isEmpty else { throw TemplateError("filter `replace` needs a non-empty text to replace") }
                    return .string(try call.text(call.input).replacingOccurrences(of: old, with: new))
                }),
            TemplateFunction("int", maxArguments: 0, .filter { call in .int(try call.integer(call.input)) }),
            TemplateFunction(
                "float", maxArguments: 0,
                .filter { call in
                    switch call.input {
                    case .int(let i): return .double(Double(i))
                    case .double: return call.input
                    case .string(let s):
                        if let d = Double(s.trimmingWhitespace) { return .double(d) }
                    default: break
                    }
                    throw TemplateError("filter `float` cannot convert the \(call.input.typeName) \(call.input.quotedDescription)")
                }),
            TemplateFunction("string", maxArguments: 0, .filter { call in .string(call.input.description) }),
            TemplateFunction(
                "bool", maxArguments: 0,
                .filter { call in
                    switch call.input {
                    case .bool: return call.input
                    case .int(let i): return .bool(i != 0)
                    case .string(let s):
                        // The one boolean grammar (Value.boolean(fromText:)); empty text is false, as null is.
                        let text = s.trimmingWhitespace
                        if text.isEmpty { return .bool(false) }
                        if let flag = Value.boolean(fromText: text) { return .bool(flag) }
                    case .null: return .bool(false)
                    default: break
                    }
                    throw TemplateError("filter `bool` cannot convert the \(call.input.typeName) \(call.input.quotedDescription)")
                }),
            TemplateFunction("first", maxArguments: 0, .filter(end)),
            TemplateFunction("last", maxArguments: 0, .filter(end)),
            TemplateFunction("length", maxArguments: 0, .filter(length)),
            TemplateFunction("count", maxArguments: 0, .filter(length)),
            TemplateFunction(
                "urlencode", maxArguments: 0,
                .filter { call in
                    if case .map(let map) = call.input {
                        let pairs = try map.map { "\(TemplateFilters.percentEncode($0.key))=\(TemplateFilters.percentEncode(try call.text($0.value)))" }
                        return .string(pairs.joined(separator: "&"))
                    }
                    return .string(TemplateFilters.percentEncode(try call.text(call.input)))
                }),
            TemplateFunction(
                "split", maxArguments: 1,
                .filter { call in
                    let string = try call.text(call.input)
                    if let separator = try call.arguments.first.map(call.text), !separator.isEmpty {
                        return .list(string.components(separatedBy: separator).map(Value.string))
                    }
                    return .list(string.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
                }),
            TemplateFunction("trim", maxArguments: 0, .filter { call in .string(try call.text(call.input).trimmingWhitespace) }),
            TemplateFunction(
                "sort", maxArguments: 0,
                .filter { call in
                    .list(try call.list(call.input).sorted { a, b in (try? TemplateOperators.compare(a, b, .less)) ?? 0 < 0 })
                }),
            TemplateFunction(
                "unique", maxArguments: 0,
                .filter { call in
                    var seen: [Value] = []
                    for item in try call.list(call.input) where !seen.contains(where: { TemplateOperators.equal($0, item) }) { seen.append(item) }
                    return .list(seen)
                }),
            TemplateFunction("map", keywords: nil, .filter(TemplateFilters.map))
        ]
        + ["lt", "le", "gt", "ge", "eq", "ne"].map { op in
            TemplateFunction(
                "version_" + op, maxArguments: 1,
                .filter { call in
                    .bool(try TemplateFilters.versionCompare(call.input, try call.argument(0, "version"), op: op))
                })
        } + [
            TemplateFunction(
                "version_compare", maxArguments: 2,
                .filter { call in
                    let op = try call.arguments.count > 1 ? call.text(call.arguments[1]) : "eq"
                    return .bool(try TemplateFilters.versionCompare(call.input, try call.argument(0, "version"), op: op))
                })
        ]

    /// `default(fallback, on_falsy)`: the input unless it is undefined or null (or falsy, when asked).
    private static func fallback(_ input: Resolved, _ arguments: [TemplateExpr], _ evaluator: TemplateEvaluator) throws -> Value {
        let onFalsy = try arguments.count > 1 ? evaluator.truth(arguments[1]) : false
        if case .value(let value) = input, !value.isNull, !onFalsy || value.isTruthy { return value }
        return try arguments.first.map(evaluator.value) ?? .string("")
    }

    private static func uppercase(_ call: FunctionCall) throws -> Value { .string(try call.text(call.input).uppercased()) }
    private static func lowercase(_ call: FunctionCall) throws -> Value { .string(try call.text(call.input).lowercased()) }

    /// `first` / `last` of a list or a string.
    private static func end(_ call: FunctionCall) throws -> Value {
        let first = call.name == "first"
        switch call.input {
        case .list(let items):
            guard let item = first ? items.first : items.last else { throw TemplateError("filter `\(call.name)` on an empty list") }
            return item
        case .string(let s):
            guard let c = first ? s.first : s.last else { throw TemplateError("filter `\(call.name)` on an empty string") }
            return .string(String(c))
        default:
            throw TemplateError("filter `\(call.name)` needs a list or string, not a \(call.input.typeName)")
        }
    }

    private static func length(_ call: FunctionCall) throws -> Value {
        switch call.input {
        case .list(let items): return .int(items.count)
        case .map(let map): return .int(map.count)
        case .string(let s): return .int(s.count)
        default: throw TemplateError("filter `\(call.name)` needs a list, map or string, not a \(call.input.typeName)")
        }
    }
}
