import OrderedCollections

/// The one check of a step's arguments against its kind's schema: unknown names (with a did-you-mean), types,
/// required and exclusive arguments. It runs on `Value`s, at load time on the arguments as written (values
/// holding a template are left for later) and at run time on the arguments rendered for a host, and returns
/// them in normal form (see `ArgType.normalizedScalar`): the kind reads values already checked.
public struct ArgumentCheck {
    /// Strings to leave unchecked until they are rendered (templates, at load time).
    let isDeferred: @Sendable (String) -> Bool
    public private(set) var problems: [ArgProblem] = []

    public init(deferring isDeferred: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.isDeferred = isDeferred
    }

    /// The arguments of a step of kind `kind` in normal form. `defaulted` names arguments the play's
    /// `defaults:` supply (not missing here); `fromDefaults` names arguments only the defaults gave, which
    /// a kind without them ignores.
    public mutating func arguments(
        _ value: Value, schema: ArgSchema, kind: String, defaulted: Set<String> = [],
        fromDefaults: Set<String> = []
    ) -> OrderedDictionary<String, Value> {
        if let entries = value.mapValue {
            return object(entries, schema: schema, path: kind, at: [], defaulted: defaulted, fromDefaults: fromDefaults)
        }
        if value.isNull && schema.fields.allSatisfy({ !$0.required || defaulted.contains($0.name) }) && schema.oneRequired.isEmpty {
            return object([:], schema: schema, path: kind, at: [], defaulted: defaulted)
        }
        if let freeForm = schema.freeForm, !value.isNull {
            return object([freeForm: value], schema: schema, path: kind, at: [], defaulted: defaulted, fromDefaults: fromDefaults)
        }
        let hint = value.listValue == nil ? "arguments: \(schema.fields.map(\.name).joined(separator: ", "))" : nil
        problems.append(ArgProblem("`\(kind)` takes a map of arguments, found a \(value.typeName)", at: [], hint: hint))
        return [:]
    }

    mutating func object(
        _ entries: OrderedDictionary<String, Value>, schema: ArgSchema, path: String, at places: [ArgProblem.Place],
        defaulted: Set<String>, fromDefaults: Set<String> = []
    ) -> OrderedDictionary<String, Value> {
        var normal = OrderedDictionary<String, Value>()
        for (name, value) in entries {
            let place = places + [.key(name)]
            guard let field = schema.field(name) else {
                if fromDefaults.contains(name) { continue }
                problems.append(
                    ArgProblem(
                        "`\(path)` has no argument `\(name)`", at: place, atKey: true,
                        hint: DidYouMean.hint(for: name, among: schema.fields.map(\.name))
                            ?? "arguments: \(schema.fields.map(\.name).joined(separator: ", "))"))
                continue
            }
            if value.isNull {
                // (`dest: ~` is no destination: the step would fail on every host)
                if field.required, !defaulted.contains(name) {
                    problems.append(ArgProblem("`\(path).\(name)` is required, found null", at: place))
                }
                normal[name] = value
                continue
            }
            if field.required, value == .string("") || value == .list([]) {
                problems.append(ArgProblem("`\(path).\(name)` is required, found an empty \(value.typeName)", at: place))
                continue
            }
            // The play's `defaults:` merge into maps key by key: what they give is missing nowhere inside.
            normal[name] = check(
                value, type: field.type, path: "\(path).\(name)", at: place, secret: field.secret,
                partial: defaulted.contains(name))
        }
        for field in schema.fields where field.required && entries[field.name] == nil && !defaulted.contains(field.name) {
            problems.append(ArgProblem("`\(path)` is missing the required argument `\(field.name)`", at: places))
        }
        // A null argument is an absent one, as the kinds read it.
        let given = Set(entries.filter { !$0.value.isNull }.keys)
        for group in schema.mutuallyExclusive {
            let present = group.filter(given.contains)
            if present.count > 1 {
                problems.append(ArgProblem("`\(path)` takes only one of \(ArgumentCheck.names(group)), found \(present.count)", at: places))
            }
        }
        for group in schema.oneRequired where !group.contains(where: { given.contains($0) || defaulted.contains($0) }) {
            problems.append(ArgProblem("`\(path)` needs one of \(ArgumentCheck.names(group))", at: places))
        }
        for field in schema.fields where normal[field.name]?.isNull ?? true {
            if let value = field.defaultValue { normal[field.name] = value }
        }
        return normal
    }

    /// One value in normal form; a wrong one is returned as given, with a problem recorded.
    /// `partial`: the value is merged with the play's defaults, which may supply any of its required fields.
    mutating func check(
        _ value: Value, type: ArgType, path: String, at places: [ArgProblem.Place], secret: Bool,
        partial: Bool = false
    ) -> Value {
        if case .string(let text) = value, isDeferred(text) { return value }
        func wrong() -> Value {
            problems.append(ArgumentCheck.mismatch(value, type: type, path: path, at: places, secret: secret))
            return value
        }
        switch type {
        case .any:
            return value
        case .list(let item):
            if let items = value.listValue {
                return .list(
                    items.enumerated().map { index, element in
                        check(element, type: item, path: "\(path)[\(index)]", at: places + [.index(index)], secret: secret)
                    })
            }
            // A single item is a one-item list.
            return value.mapValue != nil && item.isScalar ? wrong() : check(value, type: item, path: path, at: places, secret: secret)
        case .map(let item):
            guard let entries = value.mapValue else { return wrong() }
            var normal = OrderedDictionary<String, Value>()
            for (name, element) in entries {
                normal[name] = check(element, type: item, path: "\(path).\(name)", at: places + [.key(name)], secret: secret)
            }
            return .map(normal)
        case .object(let schema):
            guard let entries = value.mapValue else { return wrong() }
            return .map(
                object(
                    entries, schema: schema, path: path, at: places,
                    defaulted: partial ? Set(schema.fields.map(\.name)) : []))
        default:
            return type.normalizedScalar(value) ?? wrong()
        }
    }

    /// What is wrong with a value that is not of its type (never the value of a secret).
    static func mismatch(_ value: Value, type: ArgType, path: String, at places: [ArgProblem.Place], secret: Bool) -> ArgProblem {
        let shown = secret || value.isNull ? "" : " `\(value)`"
        let expected = withArticle(type.description)
        switch type {
        case .mode where value.scalarText != nil && !value.isNull:
            return ArgProblem("`\(path)` must be a file mode in octal digits such as \"0644\", found\(shown)", at: places)
        case .choice(let words) where value.scalarText != nil && !value.isNull:
            let text = value.scalarText ?? ""
            return ArgProblem(
                "`\(path)` must be \(type.description), found\(shown)", at: places,
                hint: secret ? nil : DidYouMean.hint(for: text, among: words))
        case .intRange where ArgType.int.normalizedScalar(value) != nil:
            return ArgProblem("`\(path)` must be \(expected), found\(shown)", at: places)
        case .absolutePath where value.scalarText != nil && !value.isNull:
            return ArgProblem("`\(path)` must be an absolute path (starting with `/`), found\(shown)", at: places)
        default:
            return ArgProblem("`\(path)` must be \(expected), found \(withArticle(value.typeName))\(shown)", at: places)
        }
    }

    /// `an integer`, `a string`.
    static func withArticle(_ noun: String) -> String {
        (noun.first.map { "aeiou".contains($0) } == true ? "an " : "a ") + noun
    }

    /// `` `a`, `b` ``: argument names as messages and `quorum doc` quote them.
    public static func names(_ group: [String]) -> String { group.map { "`\($0)`" }.joined(separator: ", ") }
}
