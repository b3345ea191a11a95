import Foundation

/// Builds shell command lines. Every value that reaches a remote shell goes through `quote`; nothing is
/// ever pasted into a command unquoted.
public enum Shell {
    /// `value` as one single-quoted shell word: `it's` → `'it'\''s'`. Safe for any bytes, including
    /// newlines, `$(…)`, backticks and backslashes.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty, value.utf8.allSatisfy({ safeBytes.contains($0) }) { return value }
        // No `'` byte, nothing to replace (Foundation's search is slow, and most values have none).
        guard value.utf8.contains(UInt8(ascii: "'")) else { return "'" + value + "'" }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A command line from an argument vector, each argument quoted.
    public static func join(_ arguments: [String]) -> String {
        arguments.map(quote).joined(separator: " ")
    }

    private static let safeBytes: Set<UInt8> = Set(
        Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%".utf8)
    )
}
