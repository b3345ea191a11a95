import Foundation
import OrderedCollections
import QuorumValues

extension TemplateFunctions {
    /// The filters operators meet when porting kolla or OpenStack-Ansible templates, with Jinja2/Ansible
    /// semantics, but strict: a wrong argument type is an error, not a guess. Messages never quote the
    /// input (it may be a secret): only the template's own text (a pattern, a name).
    static let ansibleFilters: [TemplateFunction] = [
        TemplateFunction("regex_replace", maxArguments: 2, keywords: ["ignorecase", "multiline", "count"], .filter(RegexFilters.replace)),
        TemplateFunction(
            "b64encode", maxArguments: 0,
            .filter { call in
                .string(Data(try call.text(call.input).utf8).base64EncodedString())
            }),
        TemplateFunction(
            "b64decode", maxArguments: 0,
            .filter { call in
                guard let data = Data(base64Encoded: try call.text(call.input), options: .ignoreUnknownCharacters) else {
                    throw TemplateError("filter `b64decode`: the input is not base64")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw TemplateError("filter `b64decode`: the decoded bytes are not UTF-8 text")
                }
                return .string(text)
            }),
        TemplateFunction("combine", keywords: ["recursive", "list_merge"], .filter(Combine.apply)),
        TemplateFunction(
            "dict2items", maxArguments: 0, keywords: ["key_name", "value_name"],
            .filter { call in
                let (key, value) = try itemNames(call)
                return .list(try call.map(call.input).map { .map([(key, .string($0.key)), (value, $0.value)]) })
            }),
        TemplateFunction(
            "items2dict", maxArguments: 0, keywords: ["key_name", "value_name"],
            .filter { call in
                let (key, value) = try itemNames(call)
                var map = OrderedDictionary<String, Value>()
                for (offset, item) in try call.list(call.input).enumerated() {
                    guard let name = item[key], let text = name.scalarText, !name.isNull, let found = item[value] else {
                        throw TemplateError("filter `items2dict`: item \(offset) needs `\(key)` (a string) and `\(value)`")
                    }
                    map[text] = found
                }
                return .map(map)
            }),
        TemplateFunction("selectattr", keywords: [], .filter { try Selection.attribute($0, keeping: true) }),
        TemplateFunction("rejectattr", keywords: [], .filter { try Selection.attribute($0, keeping: false) }),
        TemplateFunction("select", keywords: [], .filter { try Selection.items($0, keeping: true) }),
        TemplateFunction("reject", keywords: [], .filter { try Selection.items($0, keeping: false) }),
        TemplateFunction("indent", maxArguments: 3, keywords: ["width", "first", "blank"], .filter(indent)),
        TemplateFunction("to_yaml", maxArguments: 0, .filter { call in .string(try YAMLText.text(call.input, indent: 2, flowLeaves: true)) }),
        TemplateFunction(
            "to_nice_yaml", maxArguments: 1, keywords: ["indent"],
            .filter { call in
                let width = try call.option(0, "indent").map(call.integer) ?? 4
                return .string(try YAMLText.text(call.input, indent: width, flowLeaves: false))
            }),
        TemplateFunction("min", maxArguments: 0, .filter(extreme)),
        TemplateFunction("max", maxArguments: 0, .filter(extreme)),
        TemplateFunction(
            "flatten", maxArguments: 1, keywords: ["levels", "skip_nulls"],
            .filter { call in
                let levels = try call.option(0, "levels").flatMap { $0.isNull ? nil : try call.integer($0) }
                let skipNulls = try call.keywords["skip_nulls"].map { try call.flag($0, "skip_nulls") } ?? true
                return .list(flatten(try call.list(call.input), levels: levels, skipNulls: skipNulls))
            })
    ]

    /// `key_name=` and `value_name=` of `dict2items` and `items2dict`.
    private static func itemNames(_ call: FunctionCall) throws -> (String, String) {
        (try call.keywords["key_name"].map(call.text) ?? "key", try call.keywords["value_name"].map(call.text) ?? "value")
    }

    /// Jinja's `indent(width=4, first=False, blank=False)`: every line but the first (unless `first`),
    /// blank lines left alone (unless `blank`); `width` may also be the text to indent with.
    private static func indent(_ call: FunctionCall) throws -> Value {
        let text = try call.text(call.input)
        let indention: String
        switch call.option(0, "width") {
        case nil: indention = "    "
        case .string(let given)?: indention = given
        case let width?: indention = String(repeating: " ", count: max(0, try call.integer(width)))
        }
        let first = try call.flag(call.option(1, "first"), "first")
        let blank = try call.flag(call.option(2, "blank"), "blank")
        // As Jinja does: a trailing newline stays, and is not followed by an indented empty line.
        var lines = (text + "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        let rest = lines.dropFirst().map { blank || !$0.isEmpty ? indention + $0 : $0 }
        let joined = ([lines.first ?? ""] + rest).joined(separator: "\n")
        return .string(first ? indention + joined : joined)
    }

    /// `min` / `max` of a non-empty list of numbers or of strings.
    private static func extreme(_ call: FunctionCall) throws -> Value {
        let items = try call.list(call.input)
        guard var best = items.first else { throw TemplateError("filter `\(call.name)` on an empty list") }
        let wanted = call.name == "min" ? -1 : 1
        for item in items.dropFirst() where try TemplateOperators.compare(item, best, .less) == wanted { best = item }
        return best
    }

    /// Ansible's `flatten`: nested lists into one, `levels` deep at most; nulls (and the strings `None` and
    /// `null`, as Ansible does) left out unless `skip_nulls=false`.
    private static func flatten(_ items: [Value], levels: Int?, skipNulls: Bool) -> [Value] {
        var result: [Value] = []
        for item in items {
            if skipNulls, item.isNull || item == .string("None") || item == .string("null") { continue }
            if case .list(let inner) = item, levels.map({ $0 >= 1 }) ?? true {
                result += flatten(inner, levels: levels.map { $0 - 1 }, skipNulls: skipNulls)
            } else {
                result.append(item)
            }
        }
        return result
    }
}
