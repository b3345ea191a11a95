import Foundation
import OrderedCollections
import QuorumTemplates
import Synchronization

/// Masks secret values in everything Quorum prints or writes locally (console, `--diff`, `--json`, logs,
/// errors). Secrets are registered as they become known — variables whose names mark them secret, and
/// arguments declared secret — and every outgoing text passes through `redact`. Base64 and URL-encoded
/// forms of each secret are masked too.
public final class SecretRedactor: Sendable {
    public static let mask = "********"
    /// Values shorter than this are not masked: they would blot out ordinary words.
    public static let minimumLength = 4

    /// The known secrets and their encoded forms, longest first (so a secret is masked before any part of it),
    /// with their lengths in characters beside them (counting them again at each registration was 6% of a
    /// Magnum apply's start-up).
    private let known = Mutex<(texts: [String], lengths: [Int])>(([], []))
    private var secrets: [String] { known.withLock { $0.texts } }

    public init() {}

    /// True for variable names that hold secrets by convention: `*password*`, `*passwd*`, `*secret*`,
    /// `*token*`, `*_pass`, `*_key` (but not `*_key_file`), and `transport_url`-style URLs with credentials
    /// are handled by value (see `register(url:)`).
    public static func isSecretName(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.hasSuffix("_file") || n.hasSuffix("_path") { return false }
        return ["password", "passwd", "secret", "token"].contains { TextSearch.contains(n, $0) }
            || n.hasSuffix("_pass") || n.hasSuffix("_key") || n == "pass"
    }

    /// Remembers `value` (and its encoded forms) as a secret.
    public func register(_ value: String) {
        guard value.count >= Self.minimumLength else { return }
        let forms = Self.encodedForms(of: value)
        known.withLock { known in
            for form in forms where !known.texts.contains(form) {
                let length = form.count
                guard length >= Self.minimumLength else { continue }
                // After every secret at least as long: where a stable sort by length would put it.
                let index = known.lengths.firstIndex { $0 < length } ?? known.lengths.endIndex
                known.texts.insert(form, at: index)
                known.lengths.insert(length, at: index)
            }
        }
    }

    /// `value` as it may appear once encoded: base64 (padded, unpadded, and the aligned middle parts that
    /// show whenever it is encoded inside a longer text such as `user:password` of a basic-auth header),
    /// percent-encoded the way the `urlencode` filter and URL libraries do it, shell-quoted and JSON-escaped.
    static func encodedForms(of value: String) -> [String] {
        var forms = [value]
        let bytes = Array(value.utf8)
        let base64 = Data(bytes).base64EncodedString()
        forms.append(base64)
        if base64.hasSuffix("=") { forms.append(String(base64.prefix { $0 != "=" })) }
        for shift in 0..<3 where bytes.count - shift >= Self.embeddedBase64Bytes {
            let whole = (bytes.count - shift) / 3 * 3
            forms.append(Data(bytes[shift..<(shift + whole)]).base64EncodedString())
        }
        forms.append(TemplateFilters.percentEncode(value))
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.append(encoded) }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) { forms.append(encoded) }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) { forms.append(encoded) }
        // Quoting changes the text itself only around a `'`; JSON escaping only around `\`, `"` and `/`.
        if value.contains("'") { forms.append(Shell.quote(value)) }
        let json = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        forms.append(json)
        forms.append(json.replacingOccurrences(of: "/", with: "\\/"))
        var seen = Set<String>()
        return forms.filter { seen.insert($0).inserted }
    }

    /// The shortest secret (in bytes) whose embedded base64 forms are masked: shorter ones would blot out
    /// unrelated base64 text.
    static let embeddedBase64Bytes = 6

    /// Remembers each of `values` as a secret (values read from vault files, say).
    public func register(contentsOf values: some Sequence<String>) {
        for value in values { register(value) }
    }

    /// Registers every secret found in `variables`: values of secret-named variables (recursively through
    /// maps and lists), and the password part of any URL value (`scheme://user:password@host`).
    public func register(variables: Variables) {
        for (name, value) in variables { register(value, secretByName: Self.isSecretName(name)) }
    }

    private func register(_ value: Value, secretByName: Bool) {
        switch value {
        case .string(let s):
            if secretByName { register(s) }
            registerURLPasswords(in: s)
        case .int(let i) where secretByName: register(String(i))
        case .list(let items):
            for item in items { register(item, secretByName: secretByName) }
        case .map(let map):
            for (key, item) in map { register(item, secretByName: secretByName || Self.isSecretName(key)) }
        default: break
        }
    }

    /// Registers the values of the variables named in `names` (a play's `secrets:`), whatever their names
    /// say: every scalar inside them, through lists and maps.
    public func register(declared names: Set<String>, in variables: Variables) {
        for name in names {
            guard let value = variables[name] else { continue }
            register(contentsOf: VaultFiles.secretTexts(in: value))
        }
    }

    /// Registers the password part of each `scheme://user:password@host` URL inside `text` (every host's).
    public func registerURLPasswords(in text: String) {
        for password in URLCredentials.passwords(in: text).map(String.init) where !TemplateRenderer.isTemplate(password) {
            register(password)
        }
    }

    /// `text` with every known secret replaced by `********`.
    public func redact(_ text: String) -> String {
        let list = secrets
        guard !list.isEmpty else { return text }
        var out = text
        for secret in list where TextSearch.contains(out, secret) {
            out = out.replacingOccurrences(of: secret, with: Self.mask)
        }
        return out
    }

    public func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// The two versions of a file for a diff, masked line by line. Beyond the known secrets, a line of
    /// either version is masked after its start when another line holding a secret starts the same way
    /// (`password = ` with the new password there: the old one is masked too, though no one registered
    /// it), or when it assigns a secret-named key (`db_password: …`, `admin_token=…`).
    public func redact(fileBefore before: String?, after: String?) -> (before: String?, after: String?) {
        let list = secrets
        var prefixes = Set<String>()
        for text in [before, after].compactMap({ $0 }) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let start = list.compactMap { line.range(of: $0)?.lowerBound }.min()
                if let start, line[..<start].trimmingCharacters(in: .whitespaces).count >= 2 { prefixes.insert(String(line[..<start])) }
            }
        }
        func mask(_ text: String?) -> String? {
            text.map { text in
                text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                    let redacted = redact(String(line))
                    if redacted != line { return redacted }
                    if let prefix = prefixes.first(where: { line.hasPrefix($0) && line.count > $0.count }) { return prefix + Self.mask }
                    if let value = Self.secretAssignmentValue(in: line) { return String(line[..<value]) + Self.mask }
                    return String(line)
                }.joined(separator: "\n")
            }
        }
        return (mask(before), mask(after))
    }

    /// Where the value starts in `key = value`, `key: value` or `key=value` when the key is secret-named.
    static func secretAssignmentValue(in line: Substring) -> Substring.Index? {
        guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = line[..<separator].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }), isSecretName(key) else { return nil }
        var value = line.index(after: separator)
        while value < line.endIndex, line[value] == " " || line[value] == "\t" { value = line.index(after: value) }
        return value < line.endIndex ? value : nil
    }

    /// True when `text` contains a known secret.
    public func containsSecret(_ text: String) -> Bool {
        secrets.contains { text.contains($0) }
    }
}
