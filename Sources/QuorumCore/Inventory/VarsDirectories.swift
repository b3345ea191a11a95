import OrderedCollections
import QuorumVault

/// `group_vars/` and `host_vars/` beside the inventory: for a name, the files `NAME`, `NAME.yml`,
/// `NAME.yaml`, `NAME.json` and every such file under a directory `NAME/` (in name order, recursively),
/// each a YAML map of variables; later files win. A file may be a vault file, Quorum's or Ansible's, and hold
/// inline `!vault` values (decrypted with `vault`); the values of a vault file are collected in the builder's
/// `vaultSecrets` (inline values by the keyring).
enum VarsDirectories {
    static let extensions = ["", ".yml", ".yaml", ".json"]

    /// Loads `group_vars/` and `host_vars/` from `base` (the inventory's directory as written: "" for
    /// the current one) into the builder's groups and hosts, and warns about files naming nothing.
    static func load(from base: String, vault: VaultKeyring?, into builder: inout InventoryBuilder) {
        let groupDir = join(base, "group_vars")
        let hostDir = join(base, "host_vars")
        for name in builder.groupOrder {
            let (values, sources) = variables(for: name, in: groupDir, vault: vault, builder: &builder)
            builder.groups[name]?.fileVariables = values
            builder.groups[name]?.fileVariableSources = sources
        }
        for name in builder.hosts {
            let (values, sources) = variables(for: name, in: hostDir, vault: vault, builder: &builder)
            builder.hostDetails[name]?.fileVariables = values
            builder.hostDetails[name]?.fileVariableSources = sources
        }
        warnAboutStrays(in: groupDir, kind: "group", known: builder.groupOrder, diagnostics: &builder.diagnostics)
        warnAboutStrays(in: hostDir, kind: "host", known: builder.hosts, diagnostics: &builder.diagnostics)
    }

    /// The files that hold variables for `name` under `directory`, in load order.
    static func files(for name: String, in directory: String) -> [String] {
        var result: [String] = []
        for ext in extensions {
            let path = join(directory, name + ext)
            if FileSystem.exists(path) && !FileSystem.isDirectory(path) { result.append(path) }
        }
        let folder = join(directory, name)
        if FileSystem.isDirectory(folder) { result += filesBelow(folder) }
        return result
    }

    private static func filesBelow(_ folder: String) -> [String] {
        FileSystem.list(folder).filter { !$0.hasPrefix(".") && !$0.hasSuffix("~") }.flatMap { entry -> [String] in
            let path = join(folder, entry)
            if FileSystem.isDirectory(path) { return filesBelow(path) }
            return extensions.contains(fileExtension(entry)) ? [path] : []
        }
    }

    private static func variables(
        for name: String, in directory: String, vault: VaultKeyring?,
        builder: inout InventoryBuilder
    ) -> (Variables, [String: SourceLocation]) {
        var values = Variables()
        var sources: [String: SourceLocation] = [:]
        for path in files(for: name, in: directory) {
            let contents: VaultFiles.Contents
            do {
                contents = try VaultFiles.readText(path, vault: vault)
            } catch {
                builder.diagnostics.append(contentsOf: error.diagnostics)
                continue
            }
            let root: SourceNode?
            do {
                root = try YAMLInventoryParser.parseText(contents.text, path: path, vault: vault)
            } catch {
                builder.diagnostics.append(contentsOf: error.diagnostics)
                continue
            }
            guard let root else { continue }
            guard let entries = root.entries else {
                builder.diagnostics.error("a variables file must be a map of names to values, not a \(root.shapeName)", at: root.location)
                continue
            }
            for entry in entries {
                let value = entry.value.value
                values[entry.name] = value
                sources[entry.name] = entry.key.location
                if contents.encrypted { builder.vaultSecrets.formUnion(VaultFiles.secretTexts(in: value)) }
            }
        }
        return (values, sources)
    }

    private static func warnAboutStrays(in directory: String, kind: String, known: [String], diagnostics: inout DiagnosticCollector) {
        let knownSet = Set(known)
        for entry in FileSystem.list(directory) where !entry.hasPrefix(".") && !entry.hasSuffix("~") {
            let ext = fileExtension(entry)
            let name = [".yml", ".yaml", ".json"].contains(ext) ? String(entry.dropLast(ext.count)) : entry
            guard !knownSet.contains(name), !knownSet.contains(entry) else { continue }
            if ext != "" && !extensions.contains(ext) && !FileSystem.isDirectory(join(directory, entry)) && kind == "group" { continue }
            diagnostics.append(contentsOf: [
                Diagnostic(
                    .warning, "\(join(directory, entry)) is for \(kind) `\(name)`, which is not in the inventory",
                    at: SourceLocation(file: join(directory, entry), line: 1, column: 1),
                    hint: DidYouMean.hint(for: name, among: known))
            ])
        }
    }

    private static func fileExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[dot...])
    }

    static func join(_ base: String, _ name: String) -> String {
        base.isEmpty ? name : (base.hasSuffix("/") ? base + name : base + "/" + name)
    }
}
