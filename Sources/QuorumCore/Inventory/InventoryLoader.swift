import Foundation
import OrderedCollections
import QuorumVault

extension Inventory {
    /// Reads an inventory file (Ansible YAML or INI) and the `group_vars/` and `host_vars/` beside it.
    /// Throws a `ConfigurationError` holding every problem found, each with file:line:col; warnings
    /// that are not fatal end up in `warnings`. The inventory file and the files under `group_vars/` and
    /// `host_vars/` may be vault files (Quorum's or Ansible's), and YAML values may be inline `!vault`
    /// values, decrypted with `vault`; the values they hold end up in `vaultSecrets`.
    public static func load(_ path: String, vault: VaultKeyring? = nil) throws -> Inventory {
        guard !FileSystem.isDirectory(path), FileSystem.read(path) != nil else {
            let reason = FileSystem.isDirectory(path) ? "is a directory; give the inventory file" : "cannot be read"
            throw ConfigurationError([.error("inventory \(path) \(reason)", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        let contents = try VaultFiles.readText(path, vault: vault)
        var builder = InventoryBuilder()
        switch detectFormat(path: path, text: contents.text, vault: vault) {
        case .yaml(let root): YAMLInventoryParser.parse(root, into: &builder)
        case .invalidYAML(let error): builder.diagnostics.append(contentsOf: error.diagnostics)
        case .ini: INIInventoryParser.parse(contents.text, path: path, into: &builder)
        }
        if contents.encrypted {
            // An inventory file that is a vault: every value written in it is a secret.
            let values = builder.hostDetails.values.flatMap { $0.variables.values } + builder.groups.values.flatMap { $0.variables.values }
            builder.vaultSecrets.formUnion(values.flatMap(VaultFiles.secretTexts(in:)))
        }
        builder.reconcile()
        VarsDirectories.load(from: (path as NSString).deletingLastPathComponent, vault: vault, into: &builder)
        try builder.diagnostics.throwIfErrors()
        // Inline `!vault` values: the keyring remembers what it decrypted.
        builder.vaultSecrets.formUnion(vault?.revealedSecrets ?? [])
        return Inventory(
            path: path, directory: FileSystem.directory(of: path), hosts: builder.hosts,
            groups: builder.groups, hostDetails: builder.hostDetails, warnings: builder.diagnostics.diagnostics,
            vaultSecrets: builder.vaultSecrets.sorted())
    }

    enum Format {
        case yaml(SourceNode?)
        case invalidYAML(ConfigurationError)
        case ini
    }

    /// `.yml`, `.yaml` and `.json` are YAML; anything else is YAML when it parses into a map shaped like
    /// an inventory, INI otherwise.
    static func detectFormat(path: String, text: String, vault: VaultKeyring? = nil) -> Format {
        let ext = (path as NSString).pathExtension.lowercased()
        if ["yml", "yaml", "json"].contains(ext) {
            do { return .yaml(try YAMLInventoryParser.parseText(text, path: path, vault: vault)) } catch { return .invalidYAML(error) }
        }
        if let root = try? YAMLInventoryParser.parseText(text, path: path, vault: vault), YAMLInventoryParser.looksLikeInventory(root) {
            return .yaml(root)
        }
        return .ini
    }
}
