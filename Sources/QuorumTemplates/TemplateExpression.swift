import Foundation
import QuorumValues

/// Quorum's Jinja-like expression language, used inside `{{ }}`, `{% if %}`, `{% for %}`, `{% set %}`
/// and in `when:` conditions. Values stay `Value` from the variables to the output (no `Any`, no `Float`),
/// so integers compare exactly and maps keep their written order.
package indirect enum TemplateExpr: Sendable {
    case literal(Value)
    case name(String)
    case member(TemplateExpr, String)
    case index(TemplateExpr, TemplateExpr)
    case list([TemplateExpr])
    case dict([(TemplateExpr, TemplateExpr)])
    case not(TemplateExpr)
    case negate(TemplateExpr)
    case and(TemplateExpr, TemplateExpr)
    case or(TemplateExpr, TemplateExpr)
    case binary(TemplateExpr, BinaryOperator, TemplateExpr)
    case filter(TemplateExpr, name: String, arguments: [TemplateExpr], keywords: [(String, TemplateExpr)])
    case test(TemplateExpr, name: String, arguments: [TemplateExpr], negated: Bool)
    case conditional(then: TemplateExpr, condition: TemplateExpr, otherwise: TemplateExpr?)
    case method(TemplateExpr, name: String, arguments: [TemplateExpr])

    package enum BinaryOperator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case `in` = "in", notIn = "not in"
        case plus = "+", minus = "-", times = "*", divide = "/", floorDivide = "//", modulo = "%", concat = "~"
    }
}

/// Tokens of the expression language.
enum ExprToken: Equatable, Sendable {
    case name(String)
    case int(Int)
    case double(Double)
    case string(String)
    case symbol(String)
    case end

    var text: String {
        switch self {
        case .name(let n): return n
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "'\(s)'"
        case .symbol(let s): return s
        case .end: return "end of expression"
        }
    }
}

enum ExprLexer {
    private static let twoCharSymbols: Set<String> = ["==", "!=", "<=", ">=", "//"]
    private static let oneCharSymbols: Set<Unicode.Scalar> = ["<", ">", "+", "-", "*", "/", "%", "~", "|", ":", ",", ".", "(", ")", "[", "]", "{", "}", "="]

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (c.value > 127 && c.properties.isAlphabetic)
    }

    static func tokenize(_ text: String) throws(TemplateError) -> [ExprToken] {
        let chars = Array(text.unicodeScalars)
        var tokens: [ExprToken] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            if isNameStart(c) {
                var j = i
                while j < chars.count, isNameStart(chars[j]) || ("0"..."9").contains(chars[j]) { j += 1 }
                tokens.append(.name(String(String.UnicodeScalarView(chars[i..<j]))))
                i = j
                continue
            }
            if ("0"..."9").contains(c) {
                var j = i
                while j < chars.count, ("0"..."9").contains(chars[j]) || chars[j] == "_" { j += 1 }
                // After a `.` (as in `list.0.name`) a number is an index, never a decimal.
                let afterDot = tokens.last == .symbol(".")
                if !afterDot, j + 1 < chars.count, chars[j] == ".", ("0"..."9").contains(chars[j + 1]) {
                    j += 1
                    while j < chars.count, ("0"..."9").contains(chars[j]) || chars[j] == "_" { j += 1 }
                    let literal = String(String.UnicodeScalarView(chars[i..<j])).replacingOccurrences(of: "_", with: "")
                    guard let value = Double(literal) else { throw TemplateError("bad number `\(literal)`") }
                    tokens.append(.double(value))
                } else {
                    let literal = String(String.UnicodeScalarView(chars[i..<j])).replacingOccurrences(of: "_", with: "")
                    guard let value = Int(literal) else { throw TemplateError("number `\(literal)` is too large") }
                    tokens.append(.int(value))
                }
                i = j
                continue
            }
            if c == "'" || c == "\"" {
                var j = i + 1
                var value = String.UnicodeScalarView()
                var closed = false
                while j < chars.count {
                    let d = chars[j]
                    if d == c {
                        closed = true
                        break
                    }
                    if d == "\\", j + 1 < chars.count {
                        j += 1
                        switch chars[j] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "\\", "'", "\"": value.append(chars[j])
                        default:
                            value.append("\\")
                            value.append(chars[j])
                        }
                    } else {
                        value.append(d)
                    }
                    j += 1
                }
                guard closed else { throw TemplateError("unterminated string literal") }
                tokens.append(.string(String(value)))
                i = j + 1
                continue
            }
            if i + 1 < chars.count {
                let pair = String(String.UnicodeScalarView([c, chars[i + 1]]))
                if Self.twoCharSymbols.contains(pair) {
                    tokens.append(.symbol(pair))
                    i += 2
                    continue
                }
            }
            if Self.oneCharSymbols.contains(c) {
                tokens.append(.symbol(String(c)))
                i += 1
                continue
            }
            throw TemplateError("unexpected character `\(c)`")
        }
        tokens.append(.end)
        return tokens
    }
}

/// Recursive-descent parser, precedence as in Jinja (lowest first): `a if b else c`, `or`, `and`, `not`,
/// comparisons and `in`, `~`, `+ -`, `* / // %`, unary `-`, filters `|` and tests `is`, then `.x`, `[x]`, `(…)`.
struct ExprParser {
    private var tokens: [ExprToken]
    private var position = 0

    private static let keywords: Set<String> = ["and", "or", "not", "in", "is", "if", "else"]

    init(_ text: String) throws(TemplateError) {
        tokens = try ExprLexer.tokenize(text)
    }

    /// Parses a whole expression and requires the end of the text after it.
    static func parse(_ text: String) throws(TemplateError) -> TemplateExpr {
        var parser = try ExprParser(text)
        guard parser.current != .end else { throw TemplateError("empty expression") }
        let expression = try parser.expression()
        try parser.expectEnd()
        return expression
    }

    var current: ExprToken { tokens[position] }
    var atEnd: Bool { current == .end }

    mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    mutating func accept(_ symbol: String) -> Bool {
        if current == .symbol(symbol) {
            advance()
            return true
        }
        return false
    }

    mutating func acceptKeyword(_ word: String) -> Bool {
        if current == .name(word) {
            advance()
            return true
        }
        return false
    }

    mutating func expect(_ symbol: String) throws(TemplateError) {
        guard accept(symbol) else { throw TemplateError("expected `\(symbol)`, found `\(current.text)`") }
    }

    mutating func expectKeyword(_ word: String) throws(TemplateError) {
        guard acceptKeyword(word) else { throw TemplateError("expected `\(word)`, found `\(current.text)`") }
    }

    func expectEnd() throws(TemplateError) {
        guard atEnd else { throw TemplateError("unexpected `\(current.text)`") }
    }

    mutating func identifier() throws(TemplateError) -> String {
        guard case .name(let name) = current, !Self.keywords.contains(name) else {
            throw TemplateError("expected a name, found `\(current.text)`")
        }
        advance()
        return name
    }

    /// A full expression, including `a if b else c` unless `conditional` is false (a `for` iterable).
    mutating func expression(conditional: Bool = true) throws(TemplateError) -> TemplateExpr {
        let value = try orExpression()
        guard conditional, acceptKeyword("if") else { return value }
        let condition = try orExpression()
        let otherwise = acceptKeyword("else") ? try expression() : nil
        return .conditional(then: value, condition: condition, otherwise: otherwise)
    }

    mutating func orExpression() throws(TemplateError) -> TemplateExpr {
        var left = try andExpression()
        while acceptKeyword("or") { left = .or(left, try andExpression()) }
        return left
    }

    mutating func andExpression() throws(TemplateError) -> TemplateExpr {
        var left = try notExpression()
        while acceptKeyword("and") { left = .and(left, try notExpression()) }
        return left
    }

    mutating func notExpression() throws(TemplateError) -> TemplateExpr {
        if acceptKeyword("not") { return .not(try notExpression()) }
        return try comparison()
    }

    mutating func comparison() throws(TemplateError) -> TemplateExpr {
        var left = try concatenation()
        while true {
            let op: TemplateExpr.BinaryOperator
            switch current {
            case .symbol("=="): op = .equal
            case .symbol("!="): op = .notEqual
            case .symbol("<"): op = .less
            case .symbol("<="): op = .lessOrEqual
            case .symbol(">"): op = .greater
            case .symbol(">="): op = .greaterOrEqual
            case .name("in"): op = .in
            case .name("not") where tokens[position + 1] == .name("in"):
                advance()
                op = .notIn
            default:
                return left
            }
            advance()
            left = .binary(left, op, try concatenation())
        }
    }

    mutating func concatenation() throws(TemplateError) -> TemplateExpr {
        var left = try additive()
        while accept("~") { left = .binary(left, .concat, try additive()) }
        return left
    }

    mutating func additive() throws(TemplateError) -> TemplateExpr {
        var left = try multiplicative()
        while true {
            if accept("+") {
                left = .binary(left, .plus, try multiplicative())
            } else if accept("-") {
                left = .binary(left, .minus, try multiplicative())
            } else {
                return left
            }
        }
    }

    mutating func multiplicative() throws(TemplateError) -> TemplateExpr {
        var left = try unary()
        while true {
            if accept("*") {
                left = .binary(left, .times, try unary())
            } else if accept("//") {
                left = .binary(left, .floorDivide, try unary())
            } else if accept("/") {
                left = .binary(left, .divide, try unary())
            } else if accept("%") {
                left = .binary(left, .modulo, try unary())
            } else {
                return left
            }
        }
    }

    mutating func unary() throws(TemplateError) -> TemplateExpr {
        if accept("-") { return .negate(try unary()) }
        if accept("+") { return try unary() }
        return try filtered(try postfix(try primary()))
    }

    /// `|filter`, `|filter(args)`, `|filter:arg,arg` (Stencil style), `is test`, `is not test(args)`.
    mutating func filtered(_ base: TemplateExpr) throws(TemplateError) -> TemplateExpr {
        var value = base
        while true {
            if accept("|") {
                let name = try identifier()
                var arguments: [TemplateExpr] = []
                var keywords: [(String, TemplateExpr)] = []
                if accept("(") {
                    (arguments, keywords) = try callArguments()
                } else if accept(":") {
                    repeat {
                        arguments.append(try postfix(try primary()))
                    } while accept(",")
                }
                guard TemplateFunctions.isKnownFilter(name) else {
                    let hint = DidYouMean.hint(for: name, among: TemplateFunctions.filterNames).map { " (\($0))" } ?? ""
                    throw TemplateError("unknown filter `\(name)`\(hint)")
                }
                value = .filter(value, name: name, arguments: arguments, keywords: keywords)
            } else if acceptKeyword("is") {
                let negated = acceptKeyword("not")
                let name: String
                if case .name(let word) = current {
                    name = word
                    advance()
                } else {
                    throw TemplateError("expected a test name after `is`, found `\(current.text)`")
                }
                var arguments: [TemplateExpr] = []
                if accept("(") {
                    let (positional, keywords) = try callArguments()
                    arguments = positional + keywords.map(\.1)
                } else {
                    switch current {
                    case .string, .int, .double:
                        arguments = [try primary()]
                    default:
                        break
                    }
                }
                guard TemplateFunctions.isKnownTest(name) else {
                    let hint = DidYouMean.hint(for: name, among: TemplateFunctions.testNames).map { " (\($0))" } ?? ""
                    throw TemplateError("unknown test `\(name)`\(hint)")
                }
                value = .test(value, name: name, arguments: arguments, negated: negated)
            } else {
                return value
            }
        }
    }

    /// Arguments after `(`, up to and including `)`: positional ones, then `name=value` ones.
    mutating func callArguments() throws(TemplateError) -> ([TemplateExpr], [(String, TemplateExpr)]) {
        var positional: [TemplateExpr] = []
        var keywords: [(String, TemplateExpr)] = []
        if accept(")") { return (positional, keywords) }
        repeat {
            if case .name(let key) = current, tokens[position + 1] == .symbol("=") {
                advance()
                advance()
                keywords.append((key, try expression()))
            } else {
                guard keywords.isEmpty else { throw TemplateError("positional argument after a keyword argument") }
                positional.append(try expression())
            }
        } while accept(",")
        try expect(")")
        return (positional, keywords)
    }

    mutating func postfix(_ base: TemplateExpr) throws(TemplateError) -> TemplateExpr {
        var value = base
        while true {
            if accept(".") {
                switch current {
                case .name(let name):
                    advance()
                    if accept("(") {
                        let (arguments, keywords) = try callArguments()
                        guard keywords.isEmpty else { throw TemplateError("`\(name)()` takes no keyword arguments") }
                        guard TemplateFilters.methodNames.contains(name) else {
                            throw TemplateError("unknown method `\(name)()` (supported: \(TemplateFilters.methodNames.sorted().joined(separator: ", ")))")
                        }
                        value = .method(value, name: name, arguments: arguments)
                    } else {
                        value = .member(value, name)
                    }
                case .int(let index):
                    advance()
                    value = .index(value, .literal(.int(index)))
                default:
                    throw TemplateError("expected a name after `.`, found `\(current.text)`")
                }
            } else if accept("[") {
                let key = try expression()
                try expect("]")
                value = .index(value, key)
            } else {
                return value
            }
        }
    }

    mutating func primary() throws(TemplateError) -> TemplateExpr {
        let token = current
        switch token {
        case .int(let i):
            advance()
            return .literal(.int(i))
        case .double(let d):
            advance()
            return .literal(.double(d))
        case .string(let s):
            advance()
            // Adjacent string literals concatenate, as in Python.
            var text = s
            while case .string(let more) = current {
                text += more
                advance()
            }
            return .literal(.string(text))
        case .name(let name):
            switch name {
            case "true", "True":
                advance()
                return .literal(.bool(true))
            case "false", "False":
                advance()
                return .literal(.bool(false))
            case "none", "None", "null":
                advance()
                return .literal(.null)
            default:
                if Self.keywords.contains(name) { throw TemplateError("unexpected `\(name)`") }
                advance()
                return .name(name)
            }
        case .symbol("("):
            advance()
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            advance()
            var items: [TemplateExpr] = []
            if !accept("]") {
                repeat {
                    if current == .symbol("]") { break }
                    items.append(try expression())
                } while accept(",")
                try expect("]")
            }
            return .list(items)
        case .symbol("{"):
            advance()
            var pairs: [(TemplateExpr, TemplateExpr)] = []
            if !accept("}") {
                repeat {
                    if current == .symbol("}") { break }
                    let key = try expression()
                    try expect(":")
                    pairs.append((key, try expression()))
                } while accept(",")
                try expect("}")
            }
            return .dict(pairs)
        case .end:
            throw TemplateError("unexpected end of expression")
        default:
            throw TemplateError("unexpected `\(token.text)`")
        }
    }
}
