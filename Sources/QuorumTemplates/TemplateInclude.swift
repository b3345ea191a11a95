import QuorumValues

/// Where `{% include 'name' %}` finds templates. QuorumCore's `FileResolver` is one: included files are
/// looked up like the `template` step's `src`.
public protocol TemplateLoader: Sendable {
    /// The template `name` names: its path (where its errors are located, and how cycles are seen) and text.
    func loadTemplate(_ name: String) throws -> LoadedTemplate
}

/// A template file read by a `TemplateLoader`.
public struct LoadedTemplate: Sendable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}

extension NodeRenderer {
    /// The included file rendered with this render's variables (`set` inside it stays inside it). Its
    /// errors are located in its own file; a file that includes itself, directly or not, is an error.
    func include(_ nameExpression: TemplateExpr, at position: TemplatePosition) throws -> String {
        let loaded: LoadedTemplate
        do {
            let name = try TemplateEvaluator(scope: scope).value(nameExpression)
            guard case .string(let text) = name else {
                throw TemplateError("`include` needs a file name (a string), not a \(name.typeName)")
            }
            guard let includes else {
                throw TemplateError("`{% include %}` works in template files (the `template` step's `src`), not here")
            }
            loaded = try includes.loadTemplate(text)
            if chain.contains(loaded.path) {
                throw TemplateError("include cycle: \((chain + [loaded.path]).joined(separator: " → "))")
            }
        } catch {
            throw error.placed(at: position)
        }
        do {
            let nodes = try TemplateCache.shared.template(loaded.text)
            scope.push([:])
            defer { scope.pop() }
            return try NodeRenderer(scope: scope, includes: includes, chain: chain + [loaded.path]).render(nodes)
        } catch {
            throw error.located(at: SourceLocation(file: loaded.path, line: 1, column: 1))
        }
    }
}
