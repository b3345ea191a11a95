import Foundation
import OrderedCollections
import QuorumValues

/// What filters, tests and methods share: conversions with their error messages, JSON, percent-encoding,
/// release versions, `map`, and the methods (`x.items()`, `s.startswith('a')`).
package enum TemplateFilters {
    static let methodNames: Set<String> = [
        "items", "keys", "values", "get", "split", "startswith", "endswith", "strip", "lower", "upper", "replace"
    ]

    /// `map('filter', args…)`, `map(attribute='a.b')`, `map('extract', container[, key])`.
    static func map(_ call: FunctionCall) throws -> Value {
        let (arguments, keywords) = (call.arguments, call.keywords)
        let items = try list(call.input, for: "map")
        if let attribute = keywords["attribute"] {
            guard arguments.isEmpty, keywords.count == 1 else { throw TemplateError("`map(attribute=…)` takes nothing else") }
            let path = try text(attribute, for: "map").split(separator: ".").map(String.init)
            return .list(
                try items.enumerated().map { offset, item in
                    var current = item
                    for key in path {
                        guard let next = current[key] else {
                            throw TemplateError(
                                "undefined variable `[\(offset)].\(path.joined(separator: "."))`: item \(offset) has no `\(key)`",
                                undefinedVariable: path.joined(separator: "."))
                        }
                        current = next
                    }
                    return current
                })
        }
        guard let first = arguments.first, case .string(let filter) = first else {
            throw TemplateError("`map` needs a filter name or `attribute=`")
        }
        if let unexpected = keywords.keys.first { throw TemplateError("`map` takes no keyword argument `\(unexpected)` here") }
        let rest = Array(arguments.dropFirst())
        if filter == "extract" {
            guard let container = rest.first else { throw TemplateError("`map('extract', …)` needs a container") }
            return .list(
                try items.map { item in
                    guard let key = item.scalarText,
                        let found = container[key]
                            ?? container.listValue.flatMap({ list in
                                if case .int(let i) = item, i >= 0, i < list.count { return list[i] } else { return nil }
                            })
                    else {
                        throw TemplateError("undefined variable: `map('extract')` found no `\(item.description)`", undefinedVariable: item.description)
                    }
                    guard rest.count > 1, let subkey = rest[1].scalarText else { return found }
                    guard let value = found[subkey] else {
                        throw TemplateError(
                            "undefined variable `['\(item.description)'].\(subkey)`: `\(item.description)` has no key `\(subkey)`",
                            undefinedVariable: "\(item.description).\(subkey)")
                    }
                    return value
                })
        }
        guard TemplateFunctions.isMappable(filter) else {
            throw TemplateError("`map` cannot apply `\(filter)`")
        }
        return .list(try items.map { try TemplateFunctions.apply(filter, $0, rest, [:], call.evaluator) })
    }

    // MARK: Methods

    static func applyMethod(_ name: String, on value: Value, arguments: [Value]) throws -> Value {
        switch (name, value) {
        case ("items", .map(let map)): return .list(map.map { .list([.string($0.key), $0.value]) })
        case ("keys", .map(let map)): return .list(map.keys.map(Value.string))
        case ("values", .map(let map)): return .list(Array(map.values))
        case ("get", .map(let map)):
            guard let key = arguments.first?.scalarText else { throw TemplateError("`get()` needs a key") }
            return map[key] ?? (arguments.count > 1 ? arguments[1] : .null)
        case ("split", .string), ("lower", .string), ("upper", .string), ("replace", .string):
            return try TemplateFunctions.apply(name, value, arguments, [:], TemplateEvaluator(scope: TemplateScope(variables: [:])))
        case ("strip", .string(let s)): return .string(s.trimmingWhitespace)
        case ("startswith", .string(let s)):
            return .bool(s.hasPrefix(try text(arguments.first ?? .null, for: name)))
        case ("endswith", .string(let s)):
            return .bool(s.hasSuffix(try text(arguments.first ?? .null, for: name)))
        default:
            throw TemplateError("a \(value.typeName) has no method `\(name)()`")
        }
    }

    // MARK: Versions

    /// Compares release versions component by component as integers: `2026.10` > `2026.9`, `2026.1` == `2026.1.0`.
    /// Components that are not integers compare as text. Operators: `lt le gt ge eq ne` or `< <= > >= == !=`.
    static func versionCompare(_ left: Value, _ right: Value, op: String) throws -> Bool {
        let order = try compareVersions(versionText(left), versionText(right))
        switch op {
        case "lt", "<": return order < 0
        case "le", "<=": return order <= 0
        case "gt", ">": return order > 0
        case "ge", ">=": return order >= 0
        case "eq", "==", "=": return order == 0
        case "ne", "!=", "<>": return order != 0
        default: throw TemplateError("unknown version operator `\(op)` (use lt, le, gt, ge, eq, ne or <, <=, >, >=, ==, !=)")
        }
    }

    static func compareVersions(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".", omittingEmptySubsequences: false)
        let right = b.split(separator: ".", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : "0"
            let y = index < right.count ? right[index] : "0"
            if let i = Int(x), let j = Int(y) {
                if i != j { return i < j ? -1 : 1 }
            } else if x != y {
                return x < y ? -1 : 1
            }
        }
        return 0
    }

    private static func versionText(_ value: Value) throws -> String {
        switch value {
        case .string(let s):
            let trimmed = s.trimmingWhitespace
            let version = trimmed.hasPrefix("v") ? String(trimmed.dropFirst()) : trimmed
            guard let first = version.first, first.isASCII, first.isNumber else {
                throw TemplateError("\(s.quotedJSON) is not a version (expected digits and dots, such as \"2026.1\")")
            }
            return version
        case .int, .double:
            return value.description
        default:
            throw TemplateError("a \(value.typeName) is not a version")
        }
    }

    // MARK: Helpers

    static func text(_ value: Value, for filter: String) throws -> String {
        guard let text = value.scalarText, !value.isNull else {
            throw TemplateError("filter `\(filter)` needs a string, not a \(value.typeName)")
        }
        return text
    }

    static func list(_ value: Value, for filter: String) throws -> [Value] {
        guard case .list(let items) = value else {
            throw TemplateError("filter `\(filter)` needs a list, not a \(value.typeName)")
        }
        return items
    }

    static func integer(_ value: Value, for filter: String) throws -> Int {
        switch value {
        case .int(let i): return i
        case .double(let d) where d.isFinite && abs(d) < 9.2e18: return Int(d)
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            let trimmed = s.trimmingWhitespace
            if let i = Int(trimmed) { return i }
            if let d = Double(trimmed), d.isFinite, abs(d) < 9.2e18 { return Int(d) }
        default: break
        }
        throw TemplateError("filter `\(filter)` cannot convert the \(value.typeName) \(value.quotedDescription) to an integer")
    }

    /// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~` (also `/`, unlike Jinja, so a password is safe
    /// inside a URL such as `mysql+pymysql://user:{{ pw|urlencode }}@host/db`).
    package static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// JSON text; maps keep their order. `indent` nil gives one line with `, ` and `: ` separators.
    static func json(_ value: Value, indent: Int?, level: Int = 0) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return s.quotedJSON
        case .list(let items):
            if items.isEmpty { return "[]" }
            guard let indent else { return "[" + items.map { json($0, indent: nil) }.joined(separator: ", ") + "]" }
            let pad = String(repeating: " ", count: indent * (level + 1))
            return "[\n" + items.map { pad + json($0, indent: indent, level: level + 1) }.joined(separator: ",\n")
                + "\n" + String(repeating: " ", count: indent * level) + "]"
        case .map(let map):
            if map.isEmpty { return "{}" }
            guard let indent else {
                return "{" + map.map { $0.key.quotedJSON + ": " + json($0.value, indent: nil) }.joined(separator: ", ") + "}"
            }
            let pad = String(repeating: " ", count: indent * (level + 1))
            return "{\n" + map.map { pad + $0.key.quotedJSON + ": " + json($0.value, indent: indent, level: level + 1) }.joined(separator: ",\n")
                + "\n" + String(repeating: " ", count: indent * level) + "}"
        }
    }
}
