import Foundation
import QuorumVault
import Yams

/// Reads YAML files into `SourceNode` trees, turning syntax errors into diagnostics with file:line:col.
/// Every YAML value Quorum reads is built here, so this is where inline Ansible Vault values
/// (`!vault |` scalars) are decrypted, with the run's keyring; the keyring remembers their plaintext as secrets.
public enum YAMLFile {
    /// The tag of an inline Ansible Vault value.
    public static let vaultTag = "!vault"

    /// Parses `text` (read from `path`, which only names it in diagnostics). An empty document is `nil`.
    /// An inline `!vault` value is decrypted with `vault`; without one (or when no password opens it) it is an
    /// error at its line and column.
    public static func parse(_ text: String, path: String, vault: VaultKeyring? = nil) throws -> SourceNode? {
        let root: Node?
        do {
            // `.basic`: plain scalars are typed by `resolve` (PlainScalarType), not by Resolver.default.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ConfigurationError([diagnostic(for: error, path: path)])
        }
        guard let root else { return nil }
        var collector = DiagnosticCollector()
        let node = convert(root, path: path, vault: vault, diagnostics: &collector)
        try collector.throwIfErrors()
        return node
    }

    /// Reads and parses a file from disk.
    public static func load(_ path: String, vault: VaultKeyring? = nil) throws -> SourceNode? {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError([.error("cannot read \(path)", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path, vault: vault)
    }

    static func diagnostic(for error: YamlError, path: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return .error(message, at: SourceLocation(file: path, line: mark.line, column: mark.column))
        case .reader(let problem, _, _, _):
            return .error("YAML cannot be read: \(problem)", at: SourceLocation(file: path, line: 1, column: 1))
        default:
            return .error("YAML error: \(error)", at: SourceLocation(file: path, line: 1, column: 1))
        }
    }

    static func convert(_ node: Node, path: String, vault: VaultKeyring?, diagnostics: inout DiagnosticCollector) -> SourceNode {
        let location = SourceLocation(file: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        switch node {
        case .scalar(let scalar) where scalar.tag.rawValue == vaultTag:
            return SourceNode(.scalar(decryptInline(scalar.string, at: location, vault: vault, diagnostics: &diagnostics)), at: location)
        case .scalar(let scalar):
            return SourceNode(.scalar(resolve(scalar)), at: location)
        case .sequence(let sequence):
            return SourceNode(.sequence(sequence.map { convert($0, path: path, vault: vault, diagnostics: &diagnostics) }), at: location)
        case .mapping(let mapping):
            var entries: [SourceNode.Entry] = []
            var seen: [String: SourceLocation] = [:]
            for (key, value) in mapping {
                let keyNode = convert(key, path: path, vault: vault, diagnostics: &diagnostics)
                let entry = SourceNode.Entry(key: keyNode, value: convert(value, path: path, vault: vault, diagnostics: &diagnostics))
                if case .scalar = keyNode.kind {
                } else {
                    diagnostics.error("a map key must be a plain word, not a \(keyNode.shapeName)", at: keyNode.location)
                }
                if let first = seen[entry.name] {
                    diagnostics.error("duplicate key `\(entry.name)` (first at line \(first.line))", at: keyNode.location)
                }
                seen[entry.name] = keyNode.location
                entries.append(entry)
            }
            return SourceNode(.mapping(entries), at: location)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one is kept as an empty scalar.
            return SourceNode(.scalar(.null), at: location)
        }
    }

    /// The plaintext of an inline `!vault` value (always a string, as in Ansible); an error at its location
    /// (and an empty string) when it cannot be opened. Messages never carry plaintext.
    static func decryptInline(
        _ text: String, at location: SourceLocation, vault: VaultKeyring?,
        diagnostics: inout DiagnosticCollector
    ) -> Value {
        do throws(VaultError) {
            guard let vault else { throw .noPassphrase }
            return .string(try vault.revealInline(text))
        } catch .noPassphrase {
            diagnostics.error("an inline `!vault` value and no vault password was given", at: location, hint: VaultFiles.passphraseHint)
        } catch .notAVault {
            diagnostics.error("a `!vault` value must hold an Ansible Vault text (`$ANSIBLE_VAULT;1.1;AES256` …)", at: location)
        } catch {
            diagnostics.error("cannot decrypt the inline `!vault` value in \(location.file): \(error)", at: location)
        }
        return .string("")
    }

    /// Plain scalars typed by Yams' default rules (YAML 1.1: `yes` and `on` are booleans); quoted scalars are
    /// always strings.
    static func resolve(_ scalar: Node.Scalar) -> Value {
        let text = scalar.string
        if scalar.style != .plain && scalar.style != .any { return .string(text) }
        // An explicit tag (`!!str 8080`) decides; an untagged scalar's text does.
        let type = scalar.tag.rawValue == Tag.Name.implicit.rawValue ? PlainScalarType.of(text) : PlainScalarType(tag: scalar.tag.rawValue)
        switch type {
        case .null: return .null
        case .bool:
            return .bool(Value.boolean(fromText: text) ?? false)
        case .int:
            // `0644` stays text: it is almost always a file mode, and modes are read as octal digits.
            if text.count > 1, text.hasPrefix("0"), text.allSatisfy(\.isNumber) { return .string(text) }
            if let i = Int(text.replacingOccurrences(of: "_", with: "")) { return .int(i) }
            if text.hasPrefix("0o"), let i = Int(text.dropFirst(2), radix: 8) { return .int(i) }
            if text.hasPrefix("0x"), let i = Int(text.dropFirst(2), radix: 16) { return .int(i) }
            return .string(text)
        case .float:
            if let d = Double(text) { return .double(d) }
            return .string(text)
        case .string:
            return .string(text)
        }
    }
}
