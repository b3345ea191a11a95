import Foundation
import Synchronization

/// Masks secret values in everything Quorum prints or writes locally (console, `--diff`, `--json`, logs,
/// errors). Secrets are registered as they become known — variables whose names mark them secret, and
/// arguments declared secret — and every outgoing text passes through `redact`. Base64 and URL-encoded
/// forms of each secret are masked too.
public final class SecretRedactor: Sendable {
    public static let mask = "********"
    /// Values shorter than this are not masked: they would blot out ordinary words.
    public static let minimumLength = 4

    private let secrets = Mutex<[String]>([])

    public init() {}

    /// True for variable names that hold secrets by convention: `*password*`, `*passwd*`, `*secret*`,
    /// `*token*`, `*_pass`, `*_key` (but not `*_key_file`), and `transport_url`-style URLs with credentials
    /// are handled by value (see `register(url:)`).
    public static func isSecretName(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.hasSuffix("_file") || n.hasSuffix("_path") { return false }
        return n.contains("password") || n.contains("passwd") || n.contains("secret") || n.contains("token")
            || n.hasSuffix("_pass") || n.hasSuffix("_key") || n == "pass"
    }

    /// Remembers `value` (and its encoded forms) as a secret.
    public func register(_ value: String) {
        guard value.count >= Self.minimumLength else { return }
        var forms = [value]
        let base64 = Data(value.utf8).base64EncodedString()
        forms.append(base64)
        if base64.hasSuffix("=") { forms.append(String(base64.prefix { $0 != "=" })) }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != value {
            forms.append(encoded)
        }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed), encoded != value {
            forms.append(encoded)
        }
        secrets.withLock { list in
            for form in forms where form.count >= Self.minimumLength && !list.contains(form) { list.append(form) }
            list.sort { $0.count > $1.count }
        }
    }

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
        case .list(let items): items.forEach { register($0, secretByName: secretByName) }
        case .map(let map): map.forEach { register($0.value, secretByName: secretByName || Self.isSecretName($0.key)) }
        default: break
        }
    }

    /// Registers the password part of each `scheme://user:password@host` URL inside `text`.
    public func registerURLPasswords(in text: String) {
        guard text.contains("://"), text.contains("@") else { return }
        let pattern = /[A-Za-z][A-Za-z0-9+.\-]*:\/\/[^:\/@\s]*:([^@\s]+)@/
        for match in text.matches(of: pattern) {
            let password = String(match.output.1)
            if !TemplateRenderer.isTemplate(password) { register(password) }
        }
    }

    /// `text` with every known secret replaced by `********`.
    public func redact(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        var out = text
        for secret in list where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: Self.mask)
        }
        return out
    }

    public func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// True when `text` contains a known secret.
    public func containsSecret(_ text: String) -> Bool {
        secrets.withLock { $0 }.contains { text.contains($0) }
    }
}
