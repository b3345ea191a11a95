import QuorumValues
import Stencil

/// A located template problem, relative to the template text (line 1 = the text's first line).
struct TemplateFailure: Error {
    var message: String
    var line: Int
    var column: Int
    var undefinedVariable: String?

    init(message: String, line: Int, column: Int, undefinedVariable: String? = nil) {
        self.message = message
        self.line = line
        self.column = column
        self.undefinedVariable = undefinedVariable
    }

    init(_ message: String, at segment: TemplateSegment, undefinedVariable: String? = nil) {
        self.message = message
        self.line = segment.line
        self.column = segment.column
        self.undefinedVariable = undefinedVariable
    }

    init(_ error: any Error, at segment: TemplateSegment) {
        if let failure = error as? TemplateFailure {
            self = failure
        } else if let evalError = error as? TemplateEvalError {
            self.init(evalError.message, at: segment, undefinedVariable: evalError.undefinedVariable)
        } else {
            self.init("\(error)", at: segment)
        }
    }
}

/// A parsed template: Stencil nodes (Quorum's tags plus Stencil's `TextNode`s), immutable once built.
struct CompiledTemplate {
    static let scopeKey = "__quorum_scope"
    static let outputTag = "__quorum_output"

    let nodes: [any NodeType]
    /// Kept so a render does not build a fresh `Environment` (and Stencil's default extension) each time.
    let environment: Environment

    /// Scans, trims and parses `text` with a Stencil `TokenParser` whose tags are Quorum's.
    static func compile(_ text: String) throws(TemplateFailure) -> CompiledTemplate {
        let segments: [TemplateSegment]
        do {
            segments = TemplateScanner.trim(try TemplateScanner.scan(text))
        } catch {
            throw TemplateFailure(message: error.message, line: error.line, column: error.column)
        }
        let state = ParseState()
        let environment = Environment(extensions: [QuorumTags.extension(state)], trimBehaviour: .nothing)
        // Stencil's `SourceMap` has no public initialiser; borrow one from a lexed token.
        guard let sourceMap = Template(templateString: " ", environment: environment).tokens.first?.sourceMap else {
            throw TemplateFailure(message: "internal error: Stencil produced no token", line: 1, column: 1)
        }
        var tokens: [Token] = []
        tokens.reserveCapacity(segments.count)
        for var segment in segments {
            let token: Token
            switch segment.kind {
            case .text:
                token = .text(value: segment.content, at: sourceMap)
            case .comment:
                token = .comment(value: "", at: sourceMap)
            case .output:
                token = .block(value: outputTag, at: sourceMap)
            case .block:
                let (name, rest) = splitTag(segment.content)
                guard !name.isEmpty else { throw TemplateFailure("`{% \(segment.content) %}`: expected a tag name", at: segment) }
                token = .block(value: name, at: sourceMap)
                segment.content = rest
                segment.tagName = name
            }
            // No Stencil trimming: Quorum's whitespace rules were applied by `TemplateScanner.trim`.
            token.whitespace = nil
            state.segments[ObjectIdentifier(token)] = segment
            tokens.append(token)
        }
        do {
            return CompiledTemplate(nodes: try TokenParser(tokens: tokens, environment: environment).parse(), environment: environment)
        } catch {
            if let failure = state.failure { throw failure }
            if let syntax = error as? TemplateSyntaxError, let token = syntax.token, let segment = state.segments[ObjectIdentifier(token)] {
                var reason = syntax.reason
                if reason.hasPrefix("Unknown template tag") {
                    reason = "unknown tag `{% \(segment.tagName) %}` (supported: if/elif/else/endif, for/else/endfor, set)"
                }
                throw TemplateFailure(reason, at: segment)
            }
            throw TemplateFailure(message: "\(error)", line: 1, column: 1)
        }
    }

    func render(_ variables: Variables) throws(TemplateFailure) -> String {
        let scope = TemplateScope(variables: variables)
        let context = Context(dictionary: [Self.scopeKey: scope], environment: environment)
        do {
            return try QuorumTags.render(nodes, context)
        } catch let failure as TemplateFailure {
            throw failure
        } catch {
            throw TemplateFailure(message: "\(error)", line: 1, column: 1)
        }
    }

    /// `if x > 1` → (`if`, `x > 1`).
    static func splitTag(_ content: String) -> (String, String) {
        let name = content.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
        return (String(name), String(content.dropFirst(name.count)).trimmingWhitespace)
    }
}

/// What the tag parsers share while one template is parsed.
final class ParseState {
    var segments: [ObjectIdentifier: TemplateSegment] = [:]
    var failure: TemplateFailure?

    func segment(_ token: Token) -> TemplateSegment {
        segments[ObjectIdentifier(token)] ?? TemplateSegment(kind: .block, content: token.contents, line: 1, column: 1)
    }

    /// Records the failure (Stencil's parser rewraps errors) and returns it to throw.
    func fail(_ failure: TemplateFailure) -> TemplateFailure {
        if self.failure == nil { self.failure = failure }
        return failure
    }

    func expression(_ text: String, _ segment: TemplateSegment) throws -> TemplateExpr {
        do {
            return try ExprParser.parse(text)
        } catch {
            throw fail(TemplateFailure("`\(text)`: \(error.message)", at: segment))
        }
    }
}

/// Quorum's tags, registered in a Stencil `Extension`; they override Stencil's own `if` and `for`.
enum QuorumTags {
    static func `extension`(_ state: ParseState) -> Extension {
        let tags = Extension()
        tags.registerTag(CompiledTemplate.outputTag) { _, token in
            let segment = state.segment(token)
            return OutputNode(expression: try state.expression(segment.content, segment), segment: segment)
        }
        tags.registerTag("if") { parser, token in try IfNode.parse(parser, token, state) }
        tags.registerTag("for") { parser, token in try ForNode.parse(parser, token, state) }
        tags.registerTag("set") { _, token in try SetNode.parse(token, state) }
        for name in ["elif", "else", "endif", "endfor", "empty"] {
            tags.registerTag(name) { _, token in
                throw state.fail(TemplateFailure("`{% \(name) %}` without an open `{% if %}` or `{% for %}`", at: state.segment(token)))
            }
        }
        for name in ["include", "extends", "block", "filter", "ifnot", "now", "break", "continue", "endset"] {
            tags.registerTag(name) { _, token in
                throw state.fail(TemplateFailure("the `{% \(name) %}` tag is not supported (supported: if/elif/else/endif, for/else/endfor, set)",
                                                 at: state.segment(token)))
            }
        }
        return tags
    }

    /// Renders nodes without Stencil's `renderNodes`, which would rewrap Quorum's located errors.
    static func render(_ nodes: [any NodeType], _ context: Context) throws -> String {
        var output = ""
        for node in nodes { output += try node.render(context) }
        return output
    }

    static func scope(_ context: Context) throws -> TemplateScope {
        guard let scope = context[CompiledTemplate.scopeKey] as? TemplateScope else {
            throw TemplateEvalError(message: "internal error: no variables in the template context")
        }
        return scope
    }
}

/// `{{ expression }}`: the value's text (lists and maps JSON-like, null empty), never escaped.
final class OutputNode: NodeType {
    let expression: TemplateExpr
    let segment: TemplateSegment
    var token: Token? { nil }

    init(expression: TemplateExpr, segment: TemplateSegment) {
        self.expression = expression
        self.segment = segment
    }

    func render(_ context: Context) throws -> String {
        do {
            return try TemplateEvaluator(scope: QuorumTags.scope(context)).value(expression).description
        } catch {
            throw TemplateFailure(error, at: segment)
        }
    }
}

/// `{% if %}…{% elif %}…{% else %}…{% endif %}`. A condition on an undefined variable is an error, not false.
final class IfNode: NodeType {
    struct Branch {
        var condition: TemplateExpr?
        var segment: TemplateSegment
        var nodes: [any NodeType]
    }

    let branches: [Branch]
    var token: Token? { nil }

    init(branches: [Branch]) { self.branches = branches }

    static func parse(_ parser: TokenParser, _ token: Token, _ state: ParseState) throws -> any NodeType {
        let opening = state.segment(token)
        var condition: TemplateExpr? = try state.expression(opening.content, opening)
        var segment = opening
        var branches: [Branch] = []
        while true {
            let nodes = try parser.parse(until(["elif", "else", "endif"]))
            branches.append(Branch(condition: condition, segment: segment, nodes: nodes))
            guard let next = parser.nextToken() else {
                throw state.fail(TemplateFailure("`{% if %}` is never closed (expected `{% endif %}`)", at: opening))
            }
            let nextSegment = state.segment(next)
            switch nextSegment.tagName {
            case "endif":
                return IfNode(branches: branches)
            case "elif", "else":
                if condition == nil {
                    throw state.fail(TemplateFailure("`{% \(nextSegment.tagName) %}` after `{% else %}`", at: nextSegment))
                }
                condition = nextSegment.tagName == "elif" ? try state.expression(nextSegment.content, nextSegment) : nil
                segment = nextSegment
            default:
                throw state.fail(TemplateFailure("unexpected `{% \(nextSegment.tagName) %}`", at: nextSegment))
            }
        }
    }

    func render(_ context: Context) throws -> String {
        let evaluator = TemplateEvaluator(scope: try QuorumTags.scope(context))
        for branch in branches {
            if let condition = branch.condition {
                let truth: Bool
                do { truth = try evaluator.truth(condition) } catch { throw TemplateFailure(error, at: branch.segment) }
                if !truth { continue }
            }
            return try QuorumTags.render(branch.nodes, context)
        }
        return ""
    }
}

/// `{% for x in list %}`, `{% for k, v in map %}` (the map's written order), `{% for a, b in pairs %}`,
/// optional `if cond` / `where cond` filter, `{% else %}` / `{% empty %}` for no items.
/// Inside: `loop.index` (from 1), `loop.index0`, `loop.revindex`, `loop.revindex0`, `loop.first`,
/// `loop.last`, `loop.length`, and Stencil's `forloop.counter`, `forloop.counter0`, `forloop.first`,
/// `forloop.last`, `forloop.length`.
final class ForNode: NodeType {
    let targets: [String]
    let iterable: TemplateExpr
    let filter: TemplateExpr?
    let nodes: [any NodeType]
    let emptyNodes: [any NodeType]
    let segment: TemplateSegment
    var token: Token? { nil }

    init(targets: [String], iterable: TemplateExpr, filter: TemplateExpr?, nodes: [any NodeType], emptyNodes: [any NodeType], segment: TemplateSegment) {
        self.targets = targets
        self.iterable = iterable
        self.filter = filter
        self.nodes = nodes
        self.emptyNodes = emptyNodes
        self.segment = segment
    }

    static func parse(_ parser: TokenParser, _ token: Token, _ state: ParseState) throws -> any NodeType {
        let segment = state.segment(token)
        var targets: [String] = []
        let iterable: TemplateExpr
        var filter: TemplateExpr?
        do {
            var expression = try ExprParser(segment.content)
            repeat { targets.append(try expression.identifier()) } while expression.accept(",")
            try expression.expectKeyword("in")
            iterable = try expression.expression(conditional: false)
            if expression.acceptKeyword("if") || expression.acceptKeyword("where") {
                filter = try expression.expression()
            }
            try expression.expectEnd()
        } catch {
            throw state.fail(TemplateFailure("`{% for \(segment.content) %}`: \(error.message) (syntax: `for x in list`, `for k, v in map`)", at: segment))
        }
        let nodes = try parser.parse(until(["else", "empty", "endfor"]))
        var emptyNodes: [any NodeType] = []
        var next = parser.nextToken()
        if let token = next, ["else", "empty"].contains(state.segment(token).tagName) {
            emptyNodes = try parser.parse(until(["endfor"]))
            next = parser.nextToken()
        }
        guard let closing = next, state.segment(closing).tagName == "endfor" else {
            throw state.fail(TemplateFailure("`{% for %}` is never closed (expected `{% endfor %}`)", at: segment))
        }
        return ForNode(targets: targets, iterable: iterable, filter: filter, nodes: nodes, emptyNodes: emptyNodes, segment: segment)
    }

    func render(_ context: Context) throws -> String {
        let scope = try QuorumTags.scope(context)
        let evaluator = TemplateEvaluator(scope: scope)
        var frames: [[String: Value]] = []
        do {
            let items: [Value]
            switch try evaluator.value(iterable) {
            case .list(let list):
                items = list
            case .map(let map):
                items = targets.count == 1 ? map.keys.map(Value.string) : map.map { .list([.string($0.key), $0.value]) }
            case let other:
                throw TemplateEvalError(message: "`for` needs a list or a map, but `\(evaluator.describe(iterable))` is a \(other.typeName)")
            }
            for item in items {
                let frame = try bind(item)
                if let filter {
                    scope.push(frame)
                    defer { scope.pop() }
                    if try !evaluator.truth(filter) { continue }
                }
                frames.append(frame)
            }
        } catch {
            throw TemplateFailure(error, at: segment)
        }
        if frames.isEmpty { return try QuorumTags.render(emptyNodes, context) }
        var output = ""
        let count = frames.count
        for (index, var frame) in frames.enumerated() {
            frame["loop"] = .map([
                ("index", .int(index + 1)), ("index0", .int(index)), ("revindex", .int(count - index)),
                ("revindex0", .int(count - index - 1)), ("first", .bool(index == 0)), ("last", .bool(index == count - 1)),
                ("length", .int(count)),
            ])
            frame["forloop"] = .map([
                ("counter", .int(index + 1)), ("counter0", .int(index)), ("first", .bool(index == 0)),
                ("last", .bool(index == count - 1)), ("length", .int(count)),
            ])
            scope.push(frame)
            defer { scope.pop() }
            output += try QuorumTags.render(nodes, context)
        }
        return output
    }

    private func bind(_ item: Value) throws -> [String: Value] {
        guard targets.count > 1 else { return [targets[0]: item] }
        guard case .list(let parts) = item, parts.count >= targets.count else {
            throw TemplateEvalError(message: "cannot unpack a \(item.typeName) into \(targets.joined(separator: ", "))")
        }
        var frame: [String: Value] = [:]
        for (name, part) in zip(targets, parts) { frame[name] = part }
        return frame
    }
}

/// `{% set name = expression %}`: visible after it, in the current loop iteration or the whole template.
final class SetNode: NodeType {
    let name: String
    let expression: TemplateExpr
    let segment: TemplateSegment
    var token: Token? { nil }

    init(name: String, expression: TemplateExpr, segment: TemplateSegment) {
        self.name = name
        self.expression = expression
        self.segment = segment
    }

    static func parse(_ token: Token, _ state: ParseState) throws -> any NodeType {
        let segment = state.segment(token)
        do {
            var parser = try ExprParser(segment.content)
            let name = try parser.identifier()
            try parser.expect("=")
            let expression = try parser.expression()
            try parser.expectEnd()
            return SetNode(name: name, expression: expression, segment: segment)
        } catch {
            throw state.fail(TemplateFailure("`{% set \(segment.content) %}`: \(error.message) (syntax: `set name = expression`)", at: segment))
        }
    }

    func render(_ context: Context) throws -> String {
        let scope = try QuorumTags.scope(context)
        do {
            scope.set(name, try TemplateEvaluator(scope: scope).value(expression))
        } catch {
            throw TemplateFailure(error, at: segment)
        }
        return ""
    }
}
