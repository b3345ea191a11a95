import OrderedCollections
import QuorumCore

/// `expect_items:` of `http_check`: an assertion over a list in a JSON answer, such as "a magnum-conductor is
/// up on every controller" over Magnum's `GET /v1/mservices`:
/// `{path: mservices, match: {binary: magnum-conductor}, key: host, values: [ctl1, ctl2, ctl3], require: {state: up}}`.
/// Values compare as text, so YAML `true` matches JSON `true` and `1` matches `"1"`.
public struct ItemsExpectation: Sendable, Equatable {
    /// Dotted path to the list (`mservices`, `data.items`, a number for a list element); empty: the answer itself.
    public var path: [String]
    /// Field → value selecting the items considered.
    public var match: OrderedDictionary<String, String>
    /// The field naming each item (`host`).
    public var key: String
    /// Every one of these must have an item; nil: every item selected is checked, and there must be one.
    public var values: [String]?
    /// Field → value every considered item must have.
    public var require: OrderedDictionary<String, String>

    public static let schema = ArgSchema([
        ArgField("path", .string, "dotted path to the list in the JSON answer (e.g. mservices); none: the answer is the list"),
        ArgField("match", .map(.scalar), "field → value selecting the items considered (e.g. {binary: magnum-conductor})"),
        ArgField("key", .string, required: true, "the field naming each item (e.g. host)"),
        ArgField(
            "values", .list(.string),
            "every one of these needs a matching item (e.g. \"{{ groups.controllers }}\"); "
                + "none: every matching item is checked, and there must be one"),
        ArgField("require", .map(.scalar), "field → value each of those items must have (e.g. {state: up})")
    ])

    public init(
        path: [String] = [], match: OrderedDictionary<String, String> = [:], key: String, values: [String]? = nil,
        require: OrderedDictionary<String, String> = [:]
    ) {
        self.path = path
        self.match = match
        self.key = key
        self.values = values
        self.require = require
    }

    public init(_ map: OrderedDictionary<String, Value>) throws {
        let arguments = Arguments(map)
        func pairs(_ name: String) throws -> OrderedDictionary<String, String> {
            var out = OrderedDictionary<String, String>()
            for (field, value) in try arguments.map(name) ?? [:] {
                guard let text = value.scalarText, value.listValue == nil, value.mapValue == nil else {
                    throw StepFailure("`expect_items.\(name).\(field)` must be a plain value, got a \(value.typeName)")
                }
                out[field] = text
            }
            return out
        }
        do {
            path = (try arguments.string("path") ?? "").split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if path == [""] { path = [] }
            guard !path.contains("") else { throw StepFailure("`path` must be names joined by dots, such as mservices or data.items") }
            key = try arguments.requiredString("key")
            values = try arguments.stringList("values")
            match = try pairs("match")
            require = try pairs("require")
        } catch let failure as StepFailure {
            throw StepFailure("expect_items: " + failure.message)
        }
    }

    /// What the items are called in messages: the values `match` selects by (`magnum-conductor`), or "item".
    var label: String { match.isEmpty ? "item" : match.values.joined(separator: " ") }

    /// "magnum-conductor on ctl2", "item with name x".
    func describe(_ name: String) -> String {
        let preposition = ["host", "hostname", "node", "server"].contains(key.lowercased()) ? "on" : "with \(key)"
        return "\(label) \(preposition) \(name)"
    }

    /// What held, for the step's message: "magnum-conductor on ctl1, ctl2, ctl3: state up".
    var summary: String {
        let required = require.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let subject = values.map { describe($0.joined(separator: ", ")) } ?? "every \(label)"
        return required.isEmpty ? subject + " present" : subject + ": " + required
    }

    /// The problems found in `document`, one per item or value (empty: the expectation holds).
    public func problems(in document: Value) -> [String] {
        var current = document
        for (depth, segment) in path.enumerated() {
            let next: Value? =
                if let index = Int(segment), let list = current.listValue {
                    list.indices.contains(index) ? list[index] : nil
                } else {
                    current[segment]
                }
            guard let next else {
                return ["no `\(path[...depth].joined(separator: "."))` in the answer"]
            }
            current = next
        }
        guard let items = current.listValue else {
            let name = path.isEmpty ? "the answer" : "`\(path.joined(separator: "."))`"
            return ["\(name) is a \(current.typeName), not a list"]
        }
        let selected = items.filter { item in match.allSatisfy { field(item, $0.key) == $0.value } }
        guard let values else {
            if selected.isEmpty { return ["no \(label) in " + (path.isEmpty ? "the answer" : path.joined(separator: "."))] }
            return selected.compactMap { item in unmet(item).map { describe(field(item, key) ?? "?") + ": " + $0 } }
        }
        var problems: [String] = []
        for value in values {
            let named = selected.filter { field($0, key) == value }
            guard !named.isEmpty else {
                problems.append("no " + describe(value))
                continue
            }
            problems += named.compactMap { unmet($0).map { describe(value) + ": " + $0 } }
        }
        return problems
    }

    /// "state down (want up), disabled true (want false)", or nil when the item has every required value.
    func unmet(_ item: Value) -> String? {
        let wrong = require.compactMap { name, wanted -> String? in
            guard let actual = field(item, name) else { return "no \(name) (want \(wanted))" }
            return actual == wanted ? nil : "\(name) \(actual) (want \(wanted))"
        }
        return wrong.isEmpty ? nil : wrong.joined(separator: ", ")
    }

    /// A scalar field of an item as text; nil when absent, null, or not a scalar.
    func field(_ item: Value, _ name: String) -> String? {
        guard let value = item[name], !value.isNull, value.listValue == nil, value.mapValue == nil else { return nil }
        return value.scalarText
    }
}
