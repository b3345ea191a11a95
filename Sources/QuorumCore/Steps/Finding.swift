/// Something worth an operator's attention that is not drift: e.g. an option a current release removed or
/// deprecated, still set in a controller's configuration file. Findings never carry an option's value.
public struct Finding: Sendable, Equatable, Hashable, Codable {
    public enum Severity: String, Sendable, Codable {
        case warning
    }

    public var severity: Severity
    /// The file the finding is about.
    public var file: String
    /// What it is about, e.g. `[DEFAULT] rabbit_hosts`.
    public var subject: String
    /// What is wrong and what to do, without the option's value.
    public var message: String
    /// What to use instead, e.g. `[DEFAULT] transport_url`; nil when the option has no replacement.
    @ExplicitNull public var replacement: String?

    public init(severity: Severity = .warning, file: String, subject: String, message: String, replacement: String?) {
        self.severity = severity
        self.file = file
        self.subject = subject
        self.message = message
        self.replacement = replacement
    }

    /// Findings are the same finding when they name the same subject in the same file (of one host).
    public var key: String { file + "\u{0}" + subject }
}
