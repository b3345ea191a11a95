/// Checks a step's arguments against its kind's schema when the playbook loads: unknown names (with a
/// did-you-mean), wrong types, missing required arguments. Values holding a template are checked after
/// rendering instead, when the step runs.
enum ArgumentValidator {
    /// `defaulted` names arguments a play's `defaults:` may supply, so they do not count as missing here.
    static func validate(_ node: SourceNode, schema: ArgSchema, kind: String, defaulted: Set<String> = [],
                         diagnostics: inout DiagnosticCollector) {
        if case .scalar(let scalar) = node.kind {
            if scalar.isNull && schema.fields.allSatisfy({ !$0.required }) && schema.oneRequired.isEmpty { return }
            if let freeForm = schema.freeForm, scalar.scalarText != nil, !scalar.isNull {
                _ = freeForm
                return
            }
            diagnostics.error("`\(kind)` takes a map of arguments, found a \(node.shapeName)", at: node.location,
                              hint: "arguments: \(schema.fields.map(\.name).joined(separator: ", "))")
            return
        }
        guard let entries = node.entries else {
            diagnostics.error("`\(kind)` takes a map of arguments, found a \(node.shapeName)", at: node.location)
            return
        }
        validateObject(entries, at: node.location, schema: schema, path: kind, defaulted: defaulted, diagnostics: &diagnostics)
    }

    static func validateObject(_ entries: [SourceNode.Entry], at location: SourceLocation, schema: ArgSchema, path: String,
                               defaulted: Set<String>, diagnostics: inout DiagnosticCollector) {
        let given = Set(entries.map(\.name))
        for entry in entries {
            guard let field = schema.field(entry.name) else {
                diagnostics.error("`\(path)` has no argument `\(entry.name)`", at: entry.key.location,
                                  hint: DidYouMean.hint(for: entry.name, among: schema.fields.map(\.name))
                                    ?? "arguments: \(schema.fields.map(\.name).joined(separator: ", "))")
                continue
            }
            if field.required, !defaulted.contains(field.name), case .scalar(.null) = entry.value.kind {
                // (`dest: ~` is no destination: the step would fail on every host)
                diagnostics.error("`\(path).\(entry.name)` is required, found null", at: entry.value.location)
                continue
            }
            check(entry.value, type: field.type, path: "\(path).\(entry.name)", diagnostics: &diagnostics)
        }
        for field in schema.fields where field.required && !given.contains(field.name) && !defaulted.contains(field.name) {
            diagnostics.error("`\(path)` is missing the required argument `\(field.name)`", at: location)
        }
        for group in schema.mutuallyExclusive {
            let present = group.filter(given.contains)
            if present.count > 1 {
                diagnostics.error("`\(path)` takes only one of \(group.map { "`\($0)`" }.joined(separator: ", ")), found \(present.count)",
                                  at: location)
            }
        }
        for group in schema.oneRequired where !group.contains(where: { given.contains($0) || defaulted.contains($0) }) {
            diagnostics.error("`\(path)` needs one of \(group.map { "`\($0)`" }.joined(separator: ", "))", at: location)
        }
    }

    static func check(_ node: SourceNode, type: ArgType, path: String, diagnostics: inout DiagnosticCollector) {
        if case .string(let s) = node.scalar, TemplateRenderer.isTemplate(s) { return }
        if case .scalar(.null) = node.kind { return }
        func wrong() {
            diagnostics.error("`\(path)` must be a \(type.description), found a \(node.shapeName) `\(node.value)`", at: node.location)
        }
        switch type {
        case .any:
            return
        case .string:
            if node.scalar == nil { wrong() }
        case .int:
            switch node.scalar {
            case .int: return
            case .string(let s) where Int(s) != nil: return
            default: wrong()
            }
        case .number:
            switch node.scalar {
            case .int, .double: return
            case .string(let s) where Double(s) != nil: return
            default: wrong()
            }
        case .bool:
            switch node.scalar {
            case .bool: return
            case .string(let s) where ["true", "false", "yes", "no"].contains(s.lowercased()): return
            default: wrong()
            }
        case .mode:
            guard let scalar = node.scalar, Arguments.parseMode(scalar) != nil else {
                diagnostics.error("`\(path)` must be a file mode in octal digits such as \"0644\", found `\(node.value)`", at: node.location)
                return
            }
        case .choice(let words):
            guard let text = node.scalar?.scalarText else { return wrong() }
            if !words.contains(text) {
                diagnostics.error("`\(path)` must be \(type.description), found `\(text)`", at: node.location,
                                  hint: DidYouMean.hint(for: text, among: words))
            }
        case .list(let item):
            if let items = node.items {
                for (index, element) in items.enumerated() {
                    check(element, type: item, path: "\(path)[\(index)]", diagnostics: &diagnostics)
                }
            } else if node.entries != nil {
                wrong()
            } else {
                check(node, type: item, path: path, diagnostics: &diagnostics)
            }
        case .map(let item):
            guard let entries = node.entries else { return wrong() }
            for entry in entries {
                check(entry.value, type: item, path: "\(path).\(entry.name)", diagnostics: &diagnostics)
            }
        case .object(let schema):
            guard let entries = node.entries else { return wrong() }
            validateObject(entries, at: node.location, schema: schema, path: path, defaulted: [], diagnostics: &diagnostics)
        }
    }
}
