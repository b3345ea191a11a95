import OrderedCollections
import QuorumValues

/// Ansible's `combine(*maps, recursive=false, list_merge='replace')`: later maps win; `recursive` merges
/// maps inside maps; `list_merge` says what happens to two lists under one key.
enum Combine {
    private static let listMerges: Set<String> = ["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"]

    static func apply(_ call: FunctionCall) throws -> Value {
        let recursive = try call.flag(call.keywords["recursive"], "recursive")
        let listMerge = try call.keywords["list_merge"].map(call.text) ?? "replace"
        guard listMerges.contains(listMerge) else {
            throw TemplateError("filter `combine`: `list_merge` is one of \(listMerges.sorted().joined(separator: ", ")), not `\(listMerge)`")
        }
        // As in Ansible, a list of maps among the arguments counts as those maps.
        var maps = [try call.map(call.input)]
        for argument in call.arguments {
            for item in argument.listValue ?? [argument] { maps.append(try call.map(item)) }
        }
        var result = maps[0]
        for map in maps.dropFirst() { result = merge(result, map, recursive: recursive, listMerge: listMerge) }
        return .map(result)
    }

    private static func merge(
        _ base: OrderedDictionary<String, Value>, _ other: OrderedDictionary<String, Value>,
        recursive: Bool, listMerge: String
    ) -> OrderedDictionary<String, Value> {
        var result = base
        for (key, new) in other {
            switch (result[key], new) {
            case (.map(let old)?, .map(let newMap)) where recursive:
                result[key] = .map(merge(old, newMap, recursive: true, listMerge: listMerge))
            case (.list(let old)?, .list(let newList)):
                result[key] = .list(lists(old, newList, listMerge))
            default:
                result[key] = new
            }
        }
        return result
    }

    private static func lists(_ old: [Value], _ new: [Value], _ listMerge: String) -> [Value] {
        switch listMerge {
        case "keep": return old
        case "append": return old + new
        case "prepend": return new + old
        case "append_rp": return old.filter { !new.contains($0) } + new
        case "prepend_rp": return new + old.filter { !new.contains($0) }
        default: return new
        }
    }
}
