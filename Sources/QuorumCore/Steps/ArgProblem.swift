/// One thing wrong with a step's arguments, and where: a path from the arguments' root, which the loader
/// turns into the file:line:col of the YAML node and the run time into a `StepFailure`.
public struct ArgProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Place: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public var message: String
    public var hint: String?
    /// The value at fault (or, with `atKey`, the key of the last place).
    public var path: [Place]
    /// The problem is the key itself (an unknown argument), not its value.
    public var atKey: Bool

    public init(_ message: String, at path: [Place], atKey: Bool = false, hint: String? = nil) {
        self.message = message
        self.hint = hint
        self.path = path
        self.atKey = atKey
    }

    public var description: String { message }
}
