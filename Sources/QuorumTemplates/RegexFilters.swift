import Foundation
import QuorumValues

/// `regex_replace` and the `match`/`search` tests, with Python's syntax: `(?P<name>…)`, `(?P=name)` in
/// patterns, `\1`, `\g<1>`, `\g<name>` in replacements.
enum RegexFilters {
    /// `regex_replace(pattern, replacement='', ignorecase=false, multiline=false, count=0)`.
    static func replace(_ call: FunctionCall) throws -> Value {
        let text = try call.text(call.input)
        let pattern = try call.text(call.argument(0, "pattern"))
        let replacement = try call.option(1, "replacement").map(call.text) ?? ""
        let expression = try compile(
            pattern, call, ignoreCase: call.flag(call.keywords["ignorecase"], "ignorecase"),
            multiline: call.flag(call.keywords["multiline"], "multiline"))
        let template = try Replacement(replacement, call)
        let limit = try call.keywords["count"].map(call.integer) ?? 0
        let source = text as NSString
        var output = ""
        var last = 0
        for (number, match) in expression.matches(in: text, range: NSRange(location: 0, length: source.length)).enumerated() {
            if limit > 0, number >= limit { break }
            output += source.substring(with: NSRange(location: last, length: match.range.location - last))
            output += try template.expand(match, in: source, expression, call)
            last = match.range.location + match.range.length
        }
        return .string(output + source.substring(from: last))
    }

    /// `x is match(pattern)` (at the start) and `x is search(pattern)` (anywhere); then `ignorecase`, `multiline`.
    static func test(_ call: FunctionCall, anchored: Bool) throws -> Bool {
        let text = try call.text(call.input)
        let pattern = try call.text(call.argument(0, "pattern"))
        let expression = try compile(
            pattern, call, ignoreCase: call.flag(call.option(1, "ignorecase"), "ignorecase"),
            multiline: call.flag(call.option(2, "multiline"), "multiline"))
        let range = NSRange(location: 0, length: (text as NSString).length)
        return expression.firstMatch(in: text, options: anchored ? .anchored : [], range: range) != nil
    }

    private static func compile(_ pattern: String, _ call: FunctionCall, ignoreCase: Bool, multiline: Bool) throws -> NSRegularExpression {
        let icu = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
            .replacingOccurrences(of: #"\(\?P=(\w+)\)"#, with: #"\\k<$1>"#, options: .regularExpression)
        var options: NSRegularExpression.Options = []
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        do {
            return try NSRegularExpression(pattern: icu, options: options)
        } catch {
            throw TemplateError("\(call.noun) `\(call.name)`: `\(pattern)` is not a valid regular expression")
        }
    }

    /// A Python replacement template, parsed once: text and group references.
    private struct Replacement {
        enum Part {
            case text(String)
            case group(Int)
            case named(String)
        }

        var parts: [Part] = []

        init(_ template: String, _ call: FunctionCall) throws {
            var text = ""
            var characters = template[...]
            while let character = characters.popFirst() {
                guard character == "\\", let next = characters.popFirst() else {
                    text.append(character)
                    continue
                }
                switch next {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "\\": text.append("\\")
                case "g":
                    guard characters.first == "<", let close = characters.firstIndex(of: ">") else {
                        throw TemplateError("filter `\(call.name)`: `\\g` needs `<group>` in the replacement")
                    }
                    let reference = String(characters[characters.index(after: characters.startIndex)..<close])
                    characters = characters[characters.index(after: close)...]
                    parts.append(.text(text))
                    text = ""
                    parts.append(Int(reference).map(Part.group) ?? .named(reference))
                case let digit where digit.isASCII && digit.isNumber:
                    var number = String(digit)
                    if let second = characters.first, second.isASCII, second.isNumber {
                        number.append(second)
                        characters.removeFirst()
                    }
                    parts.append(.text(text))
                    text = ""
                    parts.append(.group(Int(number) ?? 0))
                default:
                    text.append(character)
                    text.append(next)
                }
            }
            parts.append(.text(text))
        }

        func expand(_ match: NSTextCheckingResult, in source: NSString, _ expression: NSRegularExpression, _ call: FunctionCall) throws -> String {
            try parts.map { part in
                let range: NSRange
                switch part {
                case .text(let text): return text
                case .group(let number):
                    guard number <= expression.numberOfCaptureGroups else {
                        throw TemplateError("filter `\(call.name)`: the pattern has no group \(number)")
                    }
                    range = match.range(at: number)
                case .named(let name):
                    range = match.range(withName: name)
                }
                // A group that took no part in the match gives an empty text, as in Python 3.5+.
                return range.location == NSNotFound ? "" : source.substring(with: range)
            }.joined()
        }
    }
}
