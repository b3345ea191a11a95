/// The one boolean grammar: step arguments (at load time and after rendering), YAML plain scalars and the
/// `bool` filter all read a boolean the same way.
extension Value {
    /// `true`, `yes`, `on`, `1` and `false`, `no`, `off`, `0`, in any case; nil for any other text.
    public static func boolean(fromText text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    /// A boolean, the integers 0 and 1, or text in the boolean grammar; nil for anything else.
    public var booleanValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .string(let s): return Value.boolean(fromText: s)
        default: return nil
        }
    }
}
