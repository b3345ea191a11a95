import OrderedCollections
import QuorumValues

/// Jinja-like templating for playbooks and files, strict: an undefined variable is an error naming the
/// variable, the file and the line — never an empty string. No HTML escaping.
///
/// Quorum's own engine: `TemplateScanner` cuts the text into tags, `TemplateParser` builds an immutable
/// tree (`TemplateNode`) that `TemplateCache` shares, and each render walks it with its own scope. The
/// expression language inside the tags (`TemplateExpr`) keeps values as `Value`s (exact integers, ordered
/// maps, null vs undefined).
///
/// Syntax summary (see `TemplateFunctions` for the filters and tests):
/// - `{{ x }}`, `{{ a.b }}`, `{{ a['b'] }}`, `{{ hostvars[h].ansible_host }}`, `{{ list.0 }}`, `{{ list[-1] }}`
/// - operators: `== != < <= > >= in not in and or not ~ + - * / // %`, `a if c else b`, `[list]`, `{map}`
/// - filters, Jinja or Stencil style: `x|default('y')`, `x|default:"y"`, `x|join(', ')`, `x|join:", "`
/// - tests: `x is defined`, `x is not defined`, `v is version('2026.1', '<=')`
/// - tags: `{% if %}{% elif %}{% else %}{% endif %}`, `{% for x in xs %}…{% else %}…{% endfor %}`,
///   `{% for k, v in map %}` (written order), `{% set x = … %}`, `{% include 'file.j2' %}` (template files
///   only, see `TemplateLoader`), `{% raw %}…{% endraw %}`, comments `{# #}`
/// - whitespace: a line holding only `{% %}`/`{# #}` tags vanishes with its newline; `{%-`/`-%}` strip more.
public struct TemplateRenderer: Sendable {
    public init() {}

    /// Renders `text`; `location` is where the text is written (a playbook value or a template file's start).
    /// An error's location is the line (and column) of the failing tag inside the text, or inside the
    /// included file. `includes` finds the files `{% include %}` names; without it, `include` is an error.
    public func render(
        _ text: String, at location: SourceLocation, variables: Variables,
        includes: (any TemplateLoader)? = nil
    ) throws -> String {
        guard Self.hasTemplateSyntax(text) else { return text }
        do {
            let nodes = try TemplateCache.shared.template(text)
            return try NodeRenderer(scope: TemplateScope(variables: variables), includes: includes, chain: [location.file]).render(nodes)
        } catch {
            throw error.located(at: location)
        }
    }

    /// Renders every string in a value tree. A string that is exactly one `{{ expression }}` keeps the
    /// expression's own type (a list stays a list, a number a number), as in Ansible. Map keys are rendered
    /// as text. Rendered results are never rendered again.
    public func renderValue(_ value: Value, at location: SourceLocation, variables: Variables) throws -> Value {
        switch value {
        case .string(let text):
            guard Self.hasTemplateSyntax(text) else { return value }
            if let expression = try singleExpression(text, at: location) {
                do {
                    return try TemplateEvaluator(scope: TemplateScope(variables: variables)).value(expression.0)
                } catch {
                    throw error.placed(at: expression.1.position).located(at: location)
                }
            }
            return .string(try render(text, at: location, variables: variables))
        case .list(let items):
            return .list(try items.map { try renderValue($0, at: location, variables: variables) })
        case .map(let map):
            var result = OrderedDictionary<String, Value>()
            for (key, item) in map {
                let renderedKey = Self.hasTemplateSyntax(key) ? try render(key, at: location, variables: variables) : key
                result[renderedKey] = try renderValue(item, at: location, variables: variables)
            }
            return .map(result)
        default:
            return value
        }
    }

    /// Evaluates a condition written without braces (`when: magnum_release is version('2026.1', '<=')`).
    /// An undefined variable is an error; guard with `x is defined` or `x|default(…)`.
    public func evaluate(_ condition: String, at location: SourceLocation, variables: Variables) throws -> Bool {
        let expression = try parseCondition(condition, at: location)
        do {
            return try TemplateEvaluator(scope: TemplateScope(variables: variables)).truth(expression)
        } catch {
            throw error.placed(at: .start).located(at: location)
        }
    }

    /// Parses `text` without rendering it: syntax errors (unclosed tags, unknown filters or tags) with their line.
    public func check(_ text: String, at location: SourceLocation) throws {
        guard Self.hasTemplateSyntax(text) else { return }
        do {
            _ = try TemplateCache.shared.template(text)
        } catch {
            throw error.located(at: location)
        }
    }

    /// Parses a condition without evaluating it.
    public func checkCondition(_ condition: String, at location: SourceLocation) throws {
        _ = try parseCondition(condition, at: location)
    }

    /// The top-level variable names `text` refers to; names its own `for` loops and `set` tags bind are
    /// left out. A text that does not parse gives the names found in the output tags that do (use `check`).
    public func referencedNames(in text: String) -> Set<String> {
        Set(TemplateReferences.uses(in: text, honouringGuards: false).map(\.name))
    }

    /// Like `referencedNames(in:)`, minus the names that are only used guarded: as the input of
    /// `default`/`d`/`defined`, tested with `is defined`/`is undefined`, inside `{% if x is defined %}` or the
    /// `else` of `{% if x is undefined %}`, after `x is defined and …`, in `… if x is defined else …`
    /// (see `TemplateReferences`). Nothing is assumed about any variable: the static check itself also
    /// decides guards from what the inventory and playbooks define (`StaticChecker`).
    public func requiredNames(in text: String) -> Set<String> {
        Set(TemplateReferences.uses(in: text, honouringGuards: true).map(\.name))
    }

    /// The top-level variable names a condition refers to.
    public func referencedNames(inCondition condition: String) -> Set<String> {
        guard let expression = try? TemplateCache.shared.expression(condition) else { return [] }
        return Set(TemplateReferences.uses(in: expression, honouringGuards: false).map(\.name))
    }

    /// True when `text` contains template syntax (`{{`, `{%`).
    public static func isTemplate(_ text: String) -> Bool { text.contains("{{") || text.contains("{%") }

    static func hasTemplateSyntax(_ text: String) -> Bool { isTemplate(text) || text.contains("{#") }

    /// The expression when `text` is exactly one `{{ expression }}`, blanks around it allowed.
    private func singleExpression(_ text: String, at location: SourceLocation) throws -> (TemplateExpr, TemplateSegment)? {
        let segments: [TemplateSegment]
        do {
            segments = try TemplateScanner.scan(text)
        } catch {
            throw error.located(at: location)
        }
        let tags = segments.filter { $0.kind != .text }
        guard tags.count == 1, let output = tags.first, output.kind == .output,
            segments.allSatisfy({ $0.kind != .text || $0.content.allSatisfy(\.isWhitespace) })
        else { return nil }
        do {
            return (try TemplateCache.shared.expression(output.content), output)
        } catch {
            throw TemplateError("`\(output.content)`: \(error.message)", at: output.position).located(at: location)
        }
    }

    private func parseCondition(_ condition: String, at location: SourceLocation) throws -> TemplateExpr {
        if Self.isTemplate(condition) {
            throw TemplateError(message: "a condition is written without `{{ }}` or `{% %}`: `\(condition)`", location: location)
        }
        do {
            return try TemplateCache.shared.expression(condition)
        } catch {
            throw TemplateError(message: "condition `\(condition)`: \(error.message)", location: location)
        }
    }
}
