import Foundation
import OrderedCollections
import QuorumValues

/// The filters (`x|name`), tests (`x is name`) and methods (`x.name()`) templates may use.
/// Filter names are checked when a template is parsed: an unknown filter is an error with its line.
package enum TemplateFilters {
    static let filterNames: [String] = [
        "default", "d", "defined", "join", "upper", "lower", "uppercase", "lowercase", "capitalize", "quote",
        "to_json", "to_nice_json", "replace", "int", "float", "string", "bool", "first", "last", "length", "count",
        "urlencode", "split", "trim", "sort", "unique", "map",
        "version_lt", "version_le", "version_gt", "version_ge", "version_eq", "version_ne", "version_compare",
    ]
    static let testNames: [String] = [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping",
        "sequence", "iterable", "true", "false", "even", "odd", "version", "version_compare",
    ]
    static let methodNames: Set<String> = [
        "items", "keys", "values", "get", "split", "startswith", "endswith", "strip", "lower", "upper", "replace",
    ]

    private static let filterSet = Set(filterNames)
    private static let testSet = Set(testNames)

    static func isKnownFilter(_ name: String) -> Bool { filterSet.contains(name) }
    static func isKnownTest(_ name: String) -> Bool { testSet.contains(name) }

    // MARK: Filters

    static func applyFilter(
        _ name: String, input: TemplateExpr, arguments argumentExpressions: [TemplateExpr],
        keywords keywordExpressions: [(String, TemplateExpr)], evaluator: TemplateEvaluator
    ) throws -> Value {
        // The escape hatches look at the input without requiring it, and evaluate their fallback lazily.
        switch name {
        case "default", "d":
            let resolved = try evaluator.resolve(input)
            let onFalsy = try argumentExpressions.count > 1 ? evaluator.truth(argumentExpressions[1]) : false
            if case .value(let value) = resolved, !value.isNull, !onFalsy || value.isTruthy { return value }
            return try argumentExpressions.first.map(evaluator.value) ?? .string("")
        case "defined":
            return .bool(try evaluator.resolve(input).isDefined)
        default:
            break
        }
        let value = try evaluator.value(input)
        let arguments = try argumentExpressions.map(evaluator.value)
        var keywords: [String: Value] = [:]
        for (key, expression) in keywordExpressions { keywords[key] = try evaluator.value(expression) }
        return try apply(name, value, arguments, keywords, evaluator)
    }

    static func apply(_ name: String, _ value: Value, _ arguments: [Value], _ keywords: [String: Value], _ evaluator: TemplateEvaluator) throws -> Value {
        func argument(_ index: Int, _ label: String) throws -> Value {
            guard index < arguments.count else { throw TemplateError("filter `\(name)` needs its \(label) argument") }
            return arguments[index]
        }
        func maxArguments(_ count: Int) throws {
            if arguments.count > count {
                throw TemplateError("filter `\(name)` takes at most \(count) argument\(count == 1 ? "" : "s"), got \(arguments.count)")
            }
        }
        if name != "map", let unexpected = keywords.keys.sorted().first {
            throw TemplateError("filter `\(name)` takes no keyword argument `\(unexpected)`")
        }
        switch name {
        case "join":
            try maxArguments(1)
            let separator = try arguments.first.map { try text($0, for: name) } ?? ""
            return .string(try list(value, for: name).map(\.description).joined(separator: separator))
        case "upper", "uppercase":
            try maxArguments(0)
            return .string(try text(value, for: name).uppercased())
        case "lower", "lowercase":
            try maxArguments(0)
            return .string(try text(value, for: name).lowercased())
        case "capitalize":
            try maxArguments(0)
            let string = try text(value, for: name)
            return .string(string.prefix(1).uppercased() + string.dropFirst().lowercased())
        case "quote":
            try maxArguments(0)
            if case .list(let items) = value {
                return .string(Shell.join(try items.map { try text($0, for: name) }))
            }
            return .string(Shell.quote(try text(value, for: name)))
        case "to_json":
            try maxArguments(0)
            return .string(json(value, indent: nil))
        case "to_nice_json":
            try maxArguments(1)
            let width = try arguments.first.map { try integer($0, for: name) } ?? 4
            return .string(json(value, indent: width))
        case "replace":
            try maxArguments(2)
            let old = try text(argument(0, "first (old text)"), for: name)
            let new = try text(argument(1, "second (new text)"), for: name)
            guard !old.isEmpty else { throw TemplateError("filter `replace` needs a non-empty text to replace") }
            return .string(try text(value, for: name).replacingOccurrences(of: old, with: new))
        case "int":
            try maxArguments(0)
            return .int(try integer(value, for: name))
        case "float":
            try maxArguments(0)
            switch value {
            case .int(let i): return .double(Double(i))
            case .double: return value
            case .string(let s):
                if let d = Double(s.trimmingWhitespace) { return .double(d) }
            default: break
            }
            throw TemplateError("filter `float` cannot convert the \(value.typeName) \(value.quotedDescription)")
        case "string":
            try maxArguments(0)
            return .string(value.description)
        case "bool":
            try maxArguments(0)
            switch value {
            case .bool: return value
            case .int(let i): return .bool(i != 0)
            case .string(let s):
                switch s.trimmingWhitespace.lowercased() {
                case "true", "yes", "on", "1", "y": return .bool(true)
                case "false", "no", "off", "0", "n", "": return .bool(false)
                default: break
                }
            case .null: return .bool(false)
            default: break
            }
            throw TemplateError("filter `bool` cannot convert the \(value.typeName) \(value.quotedDescription)")
        case "first", "last":
            try maxArguments(0)
            switch value {
            case .list(let items):
                guard let item = name == "first" ? items.first : items.last else {
                    throw TemplateError("filter `\(name)` on an empty list")
                }
                return item
            case .string(let s):
                guard let c = name == "first" ? s.first : s.last else { throw TemplateError("filter `\(name)` on an empty string") }
                return .string(String(c))
            default:
                throw TemplateError("filter `\(name)` needs a list or string, not a \(value.typeName)")
            }
        case "length", "count":
            try maxArguments(0)
            switch value {
            case .list(let items): return .int(items.count)
            case .map(let map): return .int(map.count)
            case .string(let s): return .int(s.count)
            default: throw TemplateError("filter `\(name)` needs a list, map or string, not a \(value.typeName)")
            }
        case "urlencode":
            try maxArguments(0)
            if case .map(let map) = value {
                return .string(try map.map { "\(percentEncode($0.key))=\(percentEncode(try text($0.value, for: name)))" }.joined(separator: "&"))
            }
            return .string(percentEncode(try text(value, for: name)))
        case "split":
            try maxArguments(1)
            let string = try text(value, for: name)
            if let separator = try arguments.first.map({ try text($0, for: name) }), !separator.isEmpty {
                return .list(string.components(separatedBy: separator).map(Value.string))
            }
            return .list(string.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        case "trim":
            try maxArguments(0)
            return .string(try text(value, for: name).trimmingWhitespace)
        case "sort":
            try maxArguments(0)
            return .list(try list(value, for: name).sorted { a, b in (try? TemplateOperators.compare(a, b, .less)) ?? 0 < 0 })
        case "unique":
            try maxArguments(0)
            var seen: [Value] = []
            for item in try list(value, for: name) where !seen.contains(where: { TemplateOperators.equal($0, item) }) { seen.append(item) }
            return .list(seen)
        case "map":
            return try map(value, arguments, keywords, evaluator)
        case "version_lt", "version_le", "version_gt", "version_ge", "version_eq", "version_ne":
            try maxArguments(1)
            let op = String(name.dropFirst("version_".count))
            return .bool(try versionCompare(value, try argument(0, "version"), op: op))
        case "version_compare":
            try maxArguments(2)
            let op = try arguments.count > 1 ? text(arguments[1], for: name) : "eq"
            return .bool(try versionCompare(value, try argument(0, "version"), op: op))
        default:
            throw TemplateError("unknown filter `\(name)`")
        }
    }

    /// `map('filter', args…)`, `map(attribute='a.b')`, `map('extract', container[, key])`.
    private static func map(_ value: Value, _ arguments: [Value], _ keywords: [String: Value], _ evaluator: TemplateEvaluator) throws -> Value {
        let items = try list(value, for: "map")
        if let attribute = keywords["attribute"] {
            guard arguments.isEmpty, keywords.count == 1 else { throw TemplateError("`map(attribute=…)` takes nothing else") }
            let path = try text(attribute, for: "map").split(separator: ".").map(String.init)
            return .list(try items.enumerated().map { offset, item in
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
            return .list(try items.map { item in
                guard let key = item.scalarText, let found = container[key] ?? container.listValue.flatMap({ list in
                    if case .int(let i) = item, i >= 0, i < list.count { return list[i] } else { return nil }
                }) else {
                    throw TemplateError("undefined variable: `map('extract')` found no `\(item.description)`", undefinedVariable: item.description)
                }
                guard rest.count > 1, let subkey = rest[1].scalarText else { return found }
                guard let value = found[subkey] else {
                    throw TemplateError("undefined variable `['\(item.description)'].\(subkey)`: `\(item.description)` has no key `\(subkey)`",
                                            undefinedVariable: "\(item.description).\(subkey)")
                }
                return value
            })
        }
        guard isKnownFilter(filter), !["default", "d", "defined", "map"].contains(filter) else {
            throw TemplateError("`map` cannot apply `\(filter)`")
        }
        return .list(try items.map { try apply(filter, $0, rest, [:], evaluator) })
    }

    // MARK: Tests

    static func applyTest(_ name: String, input: Resolved, arguments: [Value], evaluator: TemplateEvaluator) throws -> Bool {
        switch name {
        case "defined": return input.isDefined
        case "undefined": return !input.isDefined
        default: break
        }
        let value = try evaluator.require(input)
        switch name {
        case "none": return value.isNull
        case "string": return value.stringValue != nil
        case "number":
            if case .int = value { return true }
            if case .double = value { return true }
            return false
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "mapping": return value.mapValue != nil
        case "sequence", "iterable": return value.listValue != nil || value.stringValue != nil || value.mapValue != nil
        case "true": return value == .bool(true)
        case "false": return value == .bool(false)
        case "even", "odd":
            guard case .int(let i) = value else { throw TemplateError("test `\(name)` needs an integer, not a \(value.typeName)") }
            return (i % 2 == 0) == (name == "even")
        case "version", "version_compare":
            guard let other = arguments.first else { throw TemplateError("test `version` needs a version to compare with") }
            let op = try arguments.count > 1 ? text(arguments[1], for: "version") : "eq"
            return try versionCompare(value, other, op: op)
        default:
            throw TemplateError("unknown test `\(name)`")
        }
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
            return try apply(name, value, arguments, [:], TemplateEvaluator(scope: TemplateScope(variables: [:])))
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
