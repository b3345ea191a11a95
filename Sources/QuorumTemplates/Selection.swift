import QuorumValues

/// `select`/`reject(test, args…)` and `selectattr`/`rejectattr(attribute, test, args…)`: the items a test
/// (from the same table as `is`) holds for, or does not. Without a test, an item's truth decides. An item
/// without the attribute is undefined there: only `defined`/`undefined` may look at it, any other test fails.
enum Selection {
    static func items(_ call: FunctionCall, keeping: Bool) throws -> Value {
        let items = try call.list(call.input)
        let (test, arguments) = try self.test(call, from: 0)
        return .list(try items.filter { try holds(test, .value($0), arguments, call) == keeping })
    }

    static func attribute(_ call: FunctionCall, keeping: Bool) throws -> Value {
        let items = try call.list(call.input)
        let path = try call.text(call.argument(0, "attribute")).split(separator: ".").map(String.init)
        let (test, arguments) = try self.test(call, from: 1)
        return .list(
            try items.enumerated().filter { offset, item in
                try holds(test, lookup(path, in: item, offset: offset), arguments, call) == keeping
            }.map(\.element))
    }

    private static func test(_ call: FunctionCall, from index: Int) throws -> (String?, [Value]) {
        guard index < call.arguments.count else { return (nil, []) }
        let name = try call.text(call.arguments[index])
        guard TemplateFunctions.isKnownTest(name) else {
            let hint = DidYouMean.hint(for: name, among: TemplateFunctions.testNames).map { " (\($0))" } ?? ""
            throw TemplateError("filter `\(call.name)`: unknown test `\(name)`\(hint)")
        }
        return (name, Array(call.arguments.dropFirst(index + 1)))
    }

    private static func holds(_ test: String?, _ input: Resolved, _ arguments: [Value], _ call: FunctionCall) throws -> Bool {
        guard let test else { return try call.evaluator.require(input).isTruthy }
        return try TemplateFunctions.applyTest(test, input: input, arguments: arguments, evaluator: call.evaluator)
    }

    private static func lookup(_ path: [String], in item: Value, offset: Int) -> Resolved {
        var current = item
        for key in path {
            guard let next = current[key] else {
                return .undefined(path: "[\(offset)].\(path.joined(separator: "."))") { "item \(offset) has no `\(key)`" }
            }
            current = next
        }
        return .value(current)
    }
}
