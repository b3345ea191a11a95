import Foundation
import QuorumCore

/// How a difference reads in text, shared by the run's console lines and the audit's report: a unified
/// diff for files, `subject: before → after` for fields, `subject: ******** → ******** (differs)` for
/// secrets (never the value).
public enum DiffText {
    /// One line of a rendered difference, with what it shows (for colour).
    public enum Kind: Sendable { case plain, added, removed }

    public static func lines(_ diff: Diff) -> [(text: String, kind: Kind)] {
        if diff.secret {
            return [("\(diff.subject): \(SecretRedactor.mask) → \(SecretRedactor.mask) \(secretState(diff))", .plain)]
        }
        if diff.isFile {
            let body = UnifiedDiff.render(before: diff.before, after: diff.after, path: diff.subject)
            return body.split(separator: "\n").map { part in
                let line = String(part)
                if line.hasPrefix("+") && !line.hasPrefix("+++") { return (line, .added) }
                if line.hasPrefix("-") && !line.hasPrefix("---") { return (line, .removed) }
                return (line, .plain)
            }
        }
        return [("\(diff.subject): \(field(diff.before)) → \(field(diff.after))", .plain)]
    }

    /// A field's value on one line: `(absent)` when missing, line breaks (an option written twice, a
    /// multi-line value) shown as ` ↵ `.
    static func field(_ value: String?) -> String {
        guard let value else { return "(absent)" }
        return value.replacingOccurrences(of: "\n", with: " ↵ ")
    }

    /// For a secret field: whether it is being set, removed, or differs.
    public static func secretState(_ diff: Diff) -> String {
        diff.before == nil ? "(set)" : diff.after == nil ? "(removed)" : "(differs)"
    }
}
