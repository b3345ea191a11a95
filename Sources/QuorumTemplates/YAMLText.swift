import OrderedCollections
import QuorumValues
import Yams

/// `to_yaml` and `to_nice_yaml`: YAML text of a value through libyaml (Yams), maps in their written order.
/// Strings that would read back as something else (`'yes'`, `'3306'`) are quoted. Unlike Ansible's (PyYAML's
/// default width of 80), long lines are never folded: a configuration value must stay on its line.
enum YAMLText {
    /// `flowLeaves`: collections that hold no collection are written inline (`[a, b]`), as `to_yaml` does.
    static func text(_ value: Value, indent: Int, flowLeaves: Bool) throws -> String {
        do {
            return try Yams.serialize(node: node(value, flowLeaves: flowLeaves), indent: indent, width: -1, allowUnicode: true)
        } catch {
            throw TemplateError("cannot write YAML: \(error)")
        }
    }

    private static func node(_ value: Value, flowLeaves: Bool) -> Node {
        switch value {
        case .null: return .scalar(.init("null", Tag(.null)))
        case .bool(let flag): return .scalar(.init(flag ? "true" : "false", Tag(.bool)))
        case .int(let number): return .scalar(.init(String(number), Tag(.int)))
        case .double(let number): return .scalar(.init(number.isFinite ? String(number) : number.isNaN ? ".nan" : number < 0 ? "-.inf" : ".inf", Tag(.float)))
        case .string(let text): return .scalar(text.represented())
        case .list(let items):
            let style: Node.Sequence.Style = flowLeaves && items.allSatisfy(isScalar) ? .flow : .block
            return .sequence(.init(items.map { node($0, flowLeaves: flowLeaves) }, .implicit, style))
        case .map(let map):
            let style: Node.Mapping.Style = flowLeaves && map.values.allSatisfy(isScalar) ? .flow : .block
            return .mapping(.init(map.map { (.scalar($0.key.represented()), node($0.value, flowLeaves: flowLeaves)) }, .implicit, style))
        }
    }

    private static func isScalar(_ value: Value) -> Bool { value.listValue == nil && value.mapValue == nil }
}
