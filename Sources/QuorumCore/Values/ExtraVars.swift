import OrderedCollections
import QuorumVault

/// `-e` as Ansible reads it, the highest-precedence variables of a run: `name=value` (the value read as a YAML
/// scalar), `@FILE` (a YAML or JSON map of variables; a Quorum or Ansible vault file is decrypted with the run's
/// keyring), or an inline map (`{"port": 9511}`, JSON or YAML). Given several times, a later one wins, name by name.
public struct ExtraVars: Sendable {
    public var variables = Variables()
    /// Every value read from a vault file: secrets, for the redactor (inline `!vault` values are remembered by
    /// the keyring itself).
    public var secrets: [String] = []

    public init() {}

    /// Parses every argument in order, collecting every problem (naming the file, or `-e #N` for an inline map,
    /// with line and column where the YAML parser gives them) into one error, before any host is contacted.
    public static func parse(_ arguments: [String], vault: VaultKeyring?) throws(ConfigurationError) -> ExtraVars {
        var result = ExtraVars()
        var diagnostics = DiagnosticCollector()
        for (index, argument) in arguments.enumerated() {
            do throws(ConfigurationError) {
                try result.add(argument, label: "-e #\(index + 1)", vault: vault)
            } catch {
                diagnostics.append(contentsOf: error.diagnostics)
            }
        }
        if diagnostics.hasErrors { throw ConfigurationError(diagnostics.diagnostics) }
        return result
    }

    mutating func add(_ argument: String, label: String, vault: VaultKeyring?) throws(ConfigurationError) {
        let trimmed = argument.drop { $0.isWhitespace }
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard !path.isEmpty else { throw Self.error("@ needs a file name (-e @vars.yml)", label: label) }
            let (root, encrypted) = try VaultFiles.load(path, vault: vault)
            try merge(root, secret: encrypted)
        } else if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            let root: SourceNode?
            do {
                root = try YAMLFile.parse(String(trimmed), path: label, vault: vault)
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw Self.error("cannot parse the map", label: label)
            }
            try merge(root, secret: false)
        } else {
            try setPair(argument, label: label)
        }
    }

    /// The top-level entries of a file's or an inline map's root, each replacing a value set before.
    mutating func merge(_ root: SourceNode?, secret: Bool) throws(ConfigurationError) {
        guard let root else { return }  // an empty file sets nothing
        guard let entries = root.entries else {
            throw ConfigurationError([
                .error(
                    "-e needs a map of variables (name: value), not a \(root.shapeName)",
                    at: root.location)
            ])
        }
        for entry in entries {
            variables[entry.name] = entry.value.value
            if secret { secrets += VaultFiles.secretTexts(in: entry.value.value) }
        }
    }

    /// `name=value`: the value is read as YAML (`port=9511` is a number, `hosts=[a, b]` a list), except that an
    /// empty, `null` or `~` value stays the text written (`name=` is the empty string, not null), and so does a
    /// value YAML cannot read.
    mutating func setPair(_ pair: String, label: String) throws(ConfigurationError) {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw Self.error("takes name=value, @FILE or a map ({\"name\": value}), got `\(pair)`", label: label)
        }
        let text = String(pair[pair.index(after: equals)...])
        let value = (try? YAMLFile.parse(text, path: label))?.flatMap { $0.value }
        variables[String(pair[..<equals])] = value.flatMap { $0.isNull ? nil : $0 } ?? .string(text)
    }

    /// An error about the argument as a whole (`-e #2: …`).
    static func error(_ message: String, label: String) -> ConfigurationError {
        ConfigurationError([.error("\(label): \(message)", at: nil)])
    }
}
