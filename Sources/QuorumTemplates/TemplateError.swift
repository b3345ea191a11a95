import QuorumValues

/// A template that cannot be parsed or rendered, with where: the one error type of templating.
///
/// Inside the engine a problem starts without a place (an expression does not know its tag); the tag that
/// failed gives it its `position` within the template text, and the public entry points anchor that to
/// the file (`located(at:)`). An error already located (in an included file) keeps its location.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?
    /// The undefined variable, when that is the problem.
    public var undefinedVariable: String?
    /// Line and column within the template text, once the failing tag is known.
    var position: TemplatePosition?

    public init(message: String, location: SourceLocation?, undefinedVariable: String? = nil) {
        self.message = message
        self.location = location
        self.undefinedVariable = undefinedVariable
    }

    init(_ message: String, undefinedVariable: String? = nil, at position: TemplatePosition? = nil) {
        self.message = message
        self.undefinedVariable = undefinedVariable
        self.position = position
    }

    public var description: String {
        (location.map { "\($0): " } ?? "") + message
    }
}

/// A 1-based line and column within a template's text.
struct TemplatePosition: Sendable, Hashable {
    var line: Int
    var column: Int

    static let start = TemplatePosition(line: 1, column: 1)
}

extension Error {
    /// The error as a `TemplateError` at `position`, unless it already has a place of its own.
    func placed(at position: TemplatePosition) -> TemplateError {
        guard var error = self as? TemplateError else { return TemplateError("\(self)", at: position) }
        if error.position == nil, error.location == nil { error.position = position }
        return error
    }

    /// The error as a `TemplateError` located in the file: line 1 of the text is `location.line`.
    func located(at location: SourceLocation) -> TemplateError {
        guard var error = self as? TemplateError else { return TemplateError(message: "\(self)", location: location) }
        if error.location == nil {
            error.location = error.position.map { location.within(line: $0.line, column: $0.column) } ?? location
        }
        return error
    }
}

extension SourceLocation {
    /// Where line `line`, column `column` of a text written here is: line 1 goes on from this column.
    package func within(line: Int, column: Int) -> SourceLocation {
        var location = self
        if line <= 1 {
            location.column = self.column + column - 1
        } else {
            location.line = self.line + line - 1
            location.column = column
        }
        return location
    }
}
