import OrderedCollections
import QuorumValues

/// What a variable reference found: a value, or nothing (with the full path and why). The why is worked out
/// only for a message: `default(…)` and `is defined` look at many undefined names, and a did-you-mean hint
/// measures its name against every variable.
enum Resolved {
    case value(Value)
    case undefined(path: String, reason: () -> String?)

    var isDefined: Bool { if case .value = self { return true } else { return false } }
}

/// The variables seen while rendering: the host's variables plus the frames `for` and `set` push.
final class TemplateScope {
    let variables: Variables
    private(set) var frames: [[String: Value]] = [[:]]

    init(variables: Variables) { self.variables = variables }

    func lookup(_ name: String) -> Value? {
        var index = frames.count - 1
        while index >= 0 {
            if let value = frames[index][name] { return value }
            index -= 1
        }
        return variables[name]
    }

    func push(_ frame: [String: Value]) { frames.append(frame) }
    func pop() { if frames.count > 1 { frames.removeLast() } }
    func set(_ name: String, _ value: Value) { frames[frames.count - 1][name] = value }

    var visibleNames: [String] { Array(variables.keys) + frames.flatMap(\.keys) }
}

/// Evaluates expressions strictly: using an undefined value is an error; only `default`/`d`,
/// `is defined`/`is undefined` and the `defined` filter look at undefined values without failing.
struct TemplateEvaluator {
    let scope: TemplateScope

    /// The expression's value; an undefined value is an error naming the variable.
    func value(_ expression: TemplateExpr) throws -> Value {
        try require(resolve(expression))
    }

    /// Truthiness of the expression (undefined is an error).
    func truth(_ expression: TemplateExpr) throws -> Bool {
        try value(expression).isTruthy
    }

    func require(_ resolved: Resolved) throws -> Value {
        switch resolved {
        case .value(let value): return value
        case .undefined(let path, let reason):
            throw TemplateError("undefined variable `\(path)`" + (reason().map { ": \($0)" } ?? ""), undefinedVariable: path)
        }
    }

    func resolve(_ expression: TemplateExpr) throws -> Resolved {
        switch expression {
        case .literal(let value):
            return .value(value)
        case .name(let name):
            if let value = scope.lookup(name) { return .value(value) }
            // The names as they are now (copies of the scope's values, not the names themselves yet).
            let (variables, frames) = (scope.variables, scope.frames)
            return .undefined(path: name) { DidYouMean.hint(for: name, among: Array(variables.keys) + frames.flatMap(\.keys)) }
        case .member(let base, let key):
            return try lookup(base: base, key: .string(key), whole: expression)
        case .index(let base, let keyExpression):
            let key = try value(keyExpression)
            return try lookup(base: base, key: key, whole: expression)
        case .list(let items):
            return .value(.list(try items.map(value)))
        case .dict(let pairs):
            var map = OrderedDictionary<String, Value>()
            for (key, item) in pairs {
                let keyValue = try value(key)
                guard let text = keyValue.scalarText, !keyValue.isNull else {
                    throw TemplateError("a map key must be a string or a number, not a \(keyValue.typeName)")
                }
                map[text] = try value(item)
            }
            return .value(.map(map))
        case .not(let inner):
            return .value(.bool(!(try truth(inner))))
        case .negate(let inner):
            switch try value(inner) {
            case .int(let i):
                let (result, overflow) = Int(0).subtractingReportingOverflow(i)
                if overflow { throw TemplateError("integer overflow") }
                return .value(.int(result))
            case .double(let d): return .value(.double(-d))
            case let other: throw TemplateError("cannot negate a \(other.typeName)")
            }
        case .and(let left, let right):
            guard try truth(left) else { return .value(.bool(false)) }
            return .value(.bool(try truth(right)))
        case .or(let left, let right):
            if try truth(left) { return .value(.bool(true)) }
            return .value(.bool(try truth(right)))
        case .binary(let left, let op, let right):
            return .value(try TemplateOperators.apply(op, try value(left), try value(right)))
        case .conditional(let then, let condition, let otherwise):
            if try truth(condition) { return try resolve(then) }
            guard let otherwise else { return .value(.string("")) }
            return try resolve(otherwise)
        case .filter(let input, let name, let arguments, let keywords):
            return .value(try TemplateFunctions.applyFilter(name, input: input, arguments: arguments, keywords: keywords, evaluator: self))
        case .test(let input, let name, let arguments, let negated):
            let result = try TemplateFunctions.applyTest(name, input: try resolve(input), arguments: try arguments.map(value), evaluator: self)
            return .value(.bool(negated ? !result : result))
        case .method(let base, let name, let arguments):
            return .value(try TemplateFilters.applyMethod(name, on: try value(base), arguments: try arguments.map(value)))
        }
    }

    /// `base.key` / `base[key]`: a missing key or index is undefined (with the path), not an error yet.
    private func lookup(base: TemplateExpr, key: Value, whole: TemplateExpr) throws -> Resolved {
        let container: Value
        switch try resolve(base) {
        case .undefined(let basePath, let reason):
            if case .name = base {
                return .undefined(path: describe(whole)) { "`\(basePath)` is undefined" + (reason().map { " (\($0))" } ?? "") }
            }
            return .undefined(path: describe(whole), reason: reason)
        case .value(let value):
            container = value
        }
        switch (container, key) {
        case (.map(let map), _):
            guard let text = key.scalarText, !key.isNull else {
                throw TemplateError("`\(describe(base))` is a map; its keys are strings, not a \(key.typeName)")
            }
            if let found = map[text] { return .value(found) }
            let baseText = describe(base)
            return .undefined(path: describe(whole)) {
                let hint = DidYouMean.suggestion(for: text, among: map.keys).map { " (did you mean `\($0)`?)" } ?? ""
                return "`\(baseText)` has no key `\(text)`\(hint)"
            }
        case (.list(let list), .int(let index)):
            let position = index < 0 ? list.count + index : index
            if position >= 0, position < list.count { return .value(list[position]) }
            let reason = "`\(describe(base))` has \(list.count) item\(list.count == 1 ? "" : "s")"
            return .undefined(path: describe(whole)) { reason }
        case (.string(let string), .int(let index)):
            let characters = Array(string)
            let position = index < 0 ? characters.count + index : index
            if position >= 0, position < characters.count { return .value(.string(String(characters[position]))) }
            let reason = "`\(describe(base))` has \(characters.count) characters"
            return .undefined(path: describe(whole)) { reason }
        default:
            let reason = "`\(describe(base))` is a \(container.typeName), it has no `\(key.scalarText ?? key.description)`"
            return .undefined(path: describe(whole)) { reason }
        }
    }

    /// The variable path an expression names, with evaluated subscripts: `hostvars['ctl1'].ansible_host`.
    func describe(_ expression: TemplateExpr) -> String {
        switch expression {
        case .name(let name): return name
        case .member(let base, let key): return describe(base) + "." + key
        case .index(let base, let key):
            switch (try? resolve(key)) ?? .undefined(path: "", reason: { nil }) {
            case .value(.string(let s)): return describe(base) + "['" + s + "']"
            case .value(.int(let i)): return describe(base) + "[" + String(i) + "]"
            default: return describe(base) + "[" + describe(key) + "]"
            }
        case .literal(let value): return value.quotedDescription
        case .method(let base, let name, _): return describe(base) + "." + name + "()"
        case .filter(let base, let name, _, _): return describe(base) + "|" + name
        default: return "(expression)"
        }
    }
}

/// Operators on values. Integers stay integers and compare exactly (Stencil converts to `Float`, where
/// 16777217 == 16777216); mixing an integer with a decimal compares as `Double`.
enum TemplateOperators {
    static func apply(_ op: TemplateExpr.BinaryOperator, _ left: Value, _ right: Value) throws -> Value {
        switch op {
        case .equal: return .bool(equal(left, right))
        case .notEqual: return .bool(!equal(left, right))
        case .less: return .bool(try compare(left, right, op) < 0)
        case .lessOrEqual: return .bool(try compare(left, right, op) <= 0)
        case .greater: return .bool(try compare(left, right, op) > 0)
        case .greaterOrEqual: return .bool(try compare(left, right, op) >= 0)
        case .in: return .bool(try contains(right, left))
        case .notIn: return .bool(!(try contains(right, left)))
        case .concat: return .string(left.description + right.description)
        case .plus, .minus, .times, .divide, .floorDivide, .modulo:
            return try arithmetic(op, left, right)
        }
    }

    static func equal(_ left: Value, _ right: Value) -> Bool {
        switch (left, right) {
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        default: return left == right
        }
    }

    static func compare(_ left: Value, _ right: Value, _ op: TemplateExpr.BinaryOperator) throws -> Int {
        switch (left, right) {
        case (.int(let a), .int(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.int(let a), .double(let b)): return Double(a) < b ? -1 : Double(a) > b ? 1 : 0
        case (.double(let a), .int(let b)): return a < Double(b) ? -1 : a > Double(b) ? 1 : 0
        case (.double(let a), .double(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.string(let a), .string(let b)): return a < b ? -1 : a > b ? 1 : 0
        default:
            throw TemplateError(
                "cannot compare a \(left.typeName) with a \(right.typeName) using `\(op.rawValue)`"
                    + " (for releases use `is version(...)` or `|version_le(...)`)")
        }
    }

    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .list(let list): return list.contains { equal($0, item) }
        case .map(let map):
            guard let key = item.scalarText else { return false }
            return map[key] != nil
        case .string(let string):
            guard case .string(let needle) = item else {
                throw TemplateError("`in` a string needs a string on the left, not a \(item.typeName)")
            }
            return string.contains(needle)
        default:
            throw TemplateError("`in` needs a list, map or string on the right, not a \(container.typeName)")
        }
    }

    static func arithmetic(_ op: TemplateExpr.BinaryOperator, _ left: Value, _ right: Value) throws -> Value {
        switch (op, left, right) {
        case (.plus, .string(let a), .string(let b)): return .string(a + b)
        case (.plus, .list(let a), .list(let b)): return .list(a + b)
        case (_, .int(let a), .int(let b)):
            let result: (Int, Bool)
            switch op {
            case .plus: result = a.addingReportingOverflow(b)
            case .minus: result = a.subtractingReportingOverflow(b)
            case .times: result = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { throw TemplateError("division by zero") }
                return .double(Double(a) / Double(b))
            case .floorDivide, .modulo:
                guard b != 0 else { throw TemplateError("division by zero") }
                // Python semantics: floor division, modulo with the divisor's sign.
                var quotient = a / b
                if (a % b != 0) && ((a < 0) != (b < 0)) { quotient -= 1 }
                return .int(op == .floorDivide ? quotient : a - quotient * b)
            default: result = (0, true)
            }
            if result.1 { throw TemplateError("integer overflow in `\(op.rawValue)`") }
            return .int(result.0)
        default:
            guard let a = number(left), let b = number(right) else {
                throw TemplateError("cannot apply `\(op.rawValue)` to a \(left.typeName) and a \(right.typeName)")
            }
            switch op {
            case .plus: return .double(a + b)
            case .minus: return .double(a - b)
            case .times: return .double(a * b)
            case .divide:
                guard b != 0 else { throw TemplateError("division by zero") }
                return .double(a / b)
            case .floorDivide:
                guard b != 0 else { throw TemplateError("division by zero") }
                return .double((a / b).rounded(.down))
            case .modulo:
                guard b != 0 else { throw TemplateError("division by zero") }
                return .double(a - (a / b).rounded(.down) * b)
            default: throw TemplateError("cannot apply `\(op.rawValue)`")
            }
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
