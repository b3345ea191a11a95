/// Builds the node tree from the scanner's segments: a recursive descent over the tags, where each block
/// (`if`, `for`) parses its own body up to the tags that close it. Expressions inside the tags are
/// parsed here too, so every syntax error is found before anything renders, with the tag's position.
struct TemplateParser {
    static let supported = "if/elif/else/endif, for/else/endfor, set, include, raw/endraw"
    /// Jinja tags Quorum does not have; named as such rather than as unknown words.
    private static let unsupported: Set<String> = ["extends", "block", "filter", "ifnot", "now", "break", "continue", "endset"]
    /// Tags that only close or divide a block.
    private static let inner: Set<String> = ["elif", "else", "endif", "endfor", "empty"]

    private let segments: [TemplateSegment]
    private var index = 0

    /// Scans, trims and parses `text`.
    static func parse(_ text: String) throws(TemplateError) -> [TemplateNode] {
        var parser = TemplateParser(segments: TemplateScanner.trim(try TemplateScanner.scan(text)))
        return try parser.body(until: []).nodes
    }

    private init(segments: [TemplateSegment]) {
        self.segments = segments
    }

    /// A `{% name rest %}` tag.
    private struct Tag {
        var name: String
        var rest: String
        var position: TemplatePosition
    }

    /// Nodes up to the first tag named in `closers` (consumed and returned) or the end of the text (nil).
    private mutating func body(until closers: Set<String>) throws(TemplateError) -> (nodes: [TemplateNode], closer: Tag?) {
        var nodes: [TemplateNode] = []
        while index < segments.count {
            let segment = segments[index]
            index += 1
            switch segment.kind {
            case .text:
                nodes.append(.text(segment.content))
            case .comment:
                continue
            case .output:
                nodes.append(.output(try Self.expression(segment.content, at: segment.position), segment.position))
            case .block:
                let tag = try Self.tag(segment)
                if closers.contains(tag.name) { return (nodes, tag) }
                nodes.append(try node(tag))
            }
        }
        return (nodes, nil)
    }

    private mutating func node(_ tag: Tag) throws(TemplateError) -> TemplateNode {
        switch tag.name {
        case "if": return try conditional(tag)
        case "for": return try loop(tag)
        case "set": return try Self.assignment(tag)
        case "include": return try Self.include(tag)
        case "raw": return try verbatim(tag)
        case "endraw": throw TemplateError("`{% endraw %}` without an open `{% raw %}`", at: tag.position)
        case let name where Self.inner.contains(name):
            throw TemplateError("`{% \(name) %}` without an open `{% if %}` or `{% for %}`", at: tag.position)
        case let name where Self.unsupported.contains(name):
            throw TemplateError("the `{% \(name) %}` tag is not supported (supported: \(Self.supported))", at: tag.position)
        default:
            throw TemplateError("unknown tag `{% \(tag.name) %}` (supported: \(Self.supported))", at: tag.position)
        }
    }

    private mutating func conditional(_ opening: Tag) throws(TemplateError) -> TemplateNode {
        var branches: [TemplateBranch] = []
        var condition: TemplateExpr? = try Self.expression(opening.rest, at: opening.position)
        var position = opening.position
        while true {
            let (nodes, closer) = try body(until: ["elif", "else", "endif"])
            branches.append(TemplateBranch(condition: condition, position: position, body: nodes))
            guard let closer else { throw TemplateError("`{% if %}` is never closed (expected `{% endif %}`)", at: opening.position) }
            if closer.name == "endif" { return .conditional(branches) }
            if condition == nil { throw TemplateError("`{% \(closer.name) %}` after `{% else %}`", at: closer.position) }
            condition = closer.name == "elif" ? try Self.expression(closer.rest, at: closer.position) : nil
            position = closer.position
        }
    }

    private mutating func loop(_ opening: Tag) throws(TemplateError) -> TemplateNode {
        var targets: [String] = []
        let iterable: TemplateExpr
        var filter: TemplateExpr?
        do {
            var expression = try ExprParser(opening.rest)
            repeat { targets.append(try expression.identifier()) } while expression.accept(",")
            try expression.expectKeyword("in")
            iterable = try expression.expression(conditional: false)
            if expression.acceptKeyword("if") || expression.acceptKeyword("where") {
                filter = try expression.expression()
            }
            try expression.expectEnd()
        } catch {
            throw TemplateError("`{% for \(opening.rest) %}`: \(error.message) (syntax: `for x in list`, `for k, v in map`)", at: opening.position)
        }
        var (nodes, closer) = try body(until: ["else", "empty", "endfor"])
        var otherwise: [TemplateNode] = []
        if let divider = closer, divider.name != "endfor" {
            (otherwise, closer) = try body(until: ["endfor"])
        }
        guard closer != nil else { throw TemplateError("`{% for %}` is never closed (expected `{% endfor %}`)", at: opening.position) }
        return .loop(TemplateLoop(targets: targets, iterable: iterable, filter: filter, body: nodes, otherwise: otherwise, position: opening.position))
    }

    /// `{% raw %}…{% endraw %}`: the scanner already made everything between them one text.
    private mutating func verbatim(_ opening: Tag) throws(TemplateError) -> TemplateNode {
        guard opening.rest.isEmpty else { throw TemplateError("`{% raw \(opening.rest) %}`: `raw` takes nothing", at: opening.position) }
        let (nodes, closer) = try body(until: ["endraw"])
        guard closer != nil else { throw TemplateError("`{% raw %}` is never closed (expected `{% endraw %}`)", at: opening.position) }
        return .text(nodes.map { node in if case .text(let text) = node { text } else { "" } }.joined())
    }

    private static func assignment(_ tag: Tag) throws(TemplateError) -> TemplateNode {
        do {
            var parser = try ExprParser(tag.rest)
            let name = try parser.identifier()
            try parser.expect("=")
            let expression = try parser.expression()
            try parser.expectEnd()
            return .assignment(name: name, expression, tag.position)
        } catch {
            throw TemplateError("`{% set \(tag.rest) %}`: \(error.message) (syntax: `set name = expression`)", at: tag.position)
        }
    }

    private static func include(_ tag: Tag) throws(TemplateError) -> TemplateNode {
        do {
            return .include(try ExprParser.parse(tag.rest), tag.position)
        } catch {
            throw TemplateError("`{% include \(tag.rest) %}`: \(error.message) (syntax: `include 'file.j2'`)", at: tag.position)
        }
    }

    /// `if x > 1` → (`if`, `x > 1`).
    private static func tag(_ segment: TemplateSegment) throws(TemplateError) -> Tag {
        let name = segment.content.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
        guard !name.isEmpty else { throw TemplateError("`{% \(segment.content) %}`: expected a tag name", at: segment.position) }
        return Tag(name: String(name), rest: String(segment.content.dropFirst(name.count)).trimmingWhitespace, position: segment.position)
    }

    private static func expression(_ text: String, at position: TemplatePosition) throws(TemplateError) -> TemplateExpr {
        do {
            return try ExprParser.parse(text)
        } catch {
            throw TemplateError("`\(text)`: \(error.message)", at: position)
        }
    }
}
