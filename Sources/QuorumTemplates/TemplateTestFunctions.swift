import QuorumValues

extension TemplateFunctions {
    /// The tests (`x is name`, `x is not name(…)`); `selectattr`, `select` and their opposites use them too.
    static let tests: [TemplateFunction] =
        [
            TemplateFunction("defined", .definednessTest { $0.isDefined }),
            TemplateFunction("undefined", .definednessTest { !$0.isDefined }),
            TemplateFunction("none", .test { $0.input.isNull }),
            TemplateFunction("string", .test { $0.input.stringValue != nil }),
            TemplateFunction(
                "number",
                .test { call in
                    switch call.input {
                    case .int, .double: return true
                    default: return false
                    }
                }),
            TemplateFunction("integer", .test { call in if case .int = call.input { return true } else { return false } }),
            TemplateFunction("float", .test { call in if case .double = call.input { return true } else { return false } }),
            TemplateFunction("boolean", .test { call in if case .bool = call.input { return true } else { return false } }),
            TemplateFunction("mapping", .test { $0.input.mapValue != nil }),
            TemplateFunction("sequence", .test(isIterable)),
            TemplateFunction("iterable", .test(isIterable)),
            TemplateFunction("true", .test { $0.input == .bool(true) }),
            TemplateFunction("false", .test { $0.input == .bool(false) }),
            TemplateFunction("even", .test(parity)),
            TemplateFunction("odd", .test(parity)),
            TemplateFunction("version", .test(version)),
            TemplateFunction("version_compare", .test(version))
        ]
        + comparisons.map { names, op in
            names.map { name in
                TemplateFunction(
                    name,
                    .test { call in
                        let other = try call.argument(0, "value to compare with")
                        return try TemplateOperators.apply(op, call.input, other).isTruthy
                    })
            }
        }.joined() + [
            TemplateFunction("in", .test { call in try TemplateOperators.contains(call.argument(0, "container"), call.input) }),
            TemplateFunction("match", .test { try RegexFilters.test($0, anchored: true) }),
            TemplateFunction("search", .test { try RegexFilters.test($0, anchored: false) })
        ]

    /// Jinja's comparison tests, for `selectattr('port', 'gt', 1024)` and `x is eq(3)`.
    private static let comparisons: [([String], TemplateExpr.BinaryOperator)] = [
        (["eq", "equalto", "=="], .equal), (["ne", "!="], .notEqual), (["lt", "lessthan", "<"], .less),
        (["le", "<="], .lessOrEqual), (["gt", "greaterthan", ">"], .greater), (["ge", ">="], .greaterOrEqual)
    ]

    private static func isIterable(_ call: FunctionCall) -> Bool {
        call.input.listValue != nil || call.input.stringValue != nil || call.input.mapValue != nil
    }

    private static func parity(_ call: FunctionCall) throws -> Bool {
        guard case .int(let i) = call.input else { throw TemplateError("test `\(call.name)` needs an integer, not a \(call.input.typeName)") }
        return (i % 2 == 0) == (call.name == "even")
    }

    private static func version(_ call: FunctionCall) throws -> Bool {
        guard let other = call.arguments.first else { throw TemplateError("test `version` needs a version to compare with") }
        let op = try call.arguments.count > 1 ? TemplateFilters.text(call.arguments[1], for: "version") : "eq"
        return try TemplateFilters.versionCompare(call.input, other, op: op)
    }
}
