/// Jinja-like templating for playbooks and files, strict: an undefined variable is an error naming the
/// variable, the file and the line — never an empty string. No HTML escaping.
/// (Interface only; the implementation on Stencil lands with the templating work.)
public struct TemplateRenderer: Sendable {
    public init() {}

    /// Renders `text`; `location` is where the text is written (a playbook value or a template file's start).
    public func render(_ text: String, at location: SourceLocation, variables: Variables) throws -> String {
        throw TemplateError(message: "templating is not built yet", location: location)
    }

    /// Renders every string in a value tree. A string that is exactly one `{{ expression }}` keeps the
    /// expression's own type (a list stays a list, a number a number), as in Ansible.
    public func renderValue(_ value: Value, at location: SourceLocation, variables: Variables) throws -> Value {
        throw TemplateError(message: "templating is not built yet", location: location)
    }

    /// Evaluates a condition written without braces (`when: magnum_release is version('2026.1', '<=')`).
    public func evaluate(_ condition: String, at location: SourceLocation, variables: Variables) throws -> Bool {
        throw TemplateError(message: "templating is not built yet", location: location)
    }

    /// True when `text` contains template syntax (`{{`, `{%`).
    public static func isTemplate(_ text: String) -> Bool { text.contains("{{") || text.contains("{%") }
}

/// A template that cannot be parsed or rendered, with where.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?
    /// The undefined variable, when that is the problem.
    public var undefinedVariable: String?

    public init(message: String, location: SourceLocation?, undefinedVariable: String? = nil) {
        self.message = message
        self.location = location
        self.undefinedVariable = undefinedVariable
    }

    public var description: String {
        (location.map { "\($0): " } ?? "") + message
    }
}
