import QuorumVault

/// Reads Ansible's YAML inventory format:
/// `all: {hosts: {h: {var: value}}, vars: {...}, children: {group: {hosts, vars, children}}}`.
/// Top-level keys other than `all` are groups too.
enum YAMLInventoryParser {
    static let groupKeys = ["hosts", "vars", "children"]

    static func parse(_ root: SourceNode?, into builder: inout InventoryBuilder) {
        guard let root else { return }
        guard let entries = root.entries else {
            builder.diagnostics.error("an inventory must be a map of groups (usually `all:`), not a \(root.shapeName)", at: root.location)
            return
        }
        for entry in entries {
            parseGroup(entry, parent: nil, into: &builder)
        }
    }

    private static func parseGroup(_ entry: SourceNode.Entry, parent: String?, into builder: inout InventoryBuilder) {
        let name = entry.name
        guard builder.declareGroup(name, at: entry.key.location) else { return }
        if let parent { builder.addChild(name, to: parent, at: entry.key.location) }
        let body = entry.value
        if body.scalar?.isNull == true { return }
        guard let fields = body.entries else {
            var hint: String?
            if body.items != nil { hint = "write `hosts:` with one `name:` per line under it" }
            builder.diagnostics.error(
                "group `\(name)` must be a map (with `hosts`, `vars` or `children`), not a \(body.shapeName)",
                at: body.location, hint: hint)
            return
        }
        for field in fields {
            switch field.name {
            case "hosts": parseHosts(field.value, group: name, into: &builder)
            case "vars": parseGroupVars(field.value, group: name, into: &builder)
            case "children":
                if field.value.scalar?.isNull == true { continue }
                guard let children = field.value.entries else {
                    builder.diagnostics.error(
                        "`children` of group `\(name)` must be a map of group names, not a \(field.value.shapeName)",
                        at: field.value.location, hint: field.value.items != nil ? "write each child as `name:` on its own line, without `- `" : nil)
                    continue
                }
                for child in children { parseGroup(child, parent: name, into: &builder) }
            default:
                let hint =
                    DidYouMean.hint(for: field.name, among: groupKeys)
                    ?? "a group holds only `hosts`, `vars` and `children`; hosts go under `hosts:`"
                builder.diagnostics.error("unknown key `\(field.name)` in group `\(name)`", at: field.key.location, hint: hint)
            }
        }
    }

    private static func parseHosts(_ node: SourceNode, group: String, into builder: inout InventoryBuilder) {
        if node.scalar?.isNull == true { return }
        guard let entries = node.entries else {
            builder.diagnostics.error(
                "`hosts` of group `\(group)` must be a map of host names, not a \(node.shapeName)",
                at: node.location, hint: "write each host as `name:` on its own line")
            return
        }
        for entry in entries {
            let names: [String]
            let port: Int?
            do {
                (names, port) = try HostName.parse(entry.name)
            } catch {
                builder.diagnostics.error(error.message, at: entry.key.location)
                continue
            }
            let vars = entry.value
            let fields = vars.entries
            if fields == nil && vars.scalar?.isNull != true {
                var hint: String?
                if vars.scalar != nil { hint = "to give its address, write `ansible_host: \(vars.value)` under it" }
                builder.diagnostics.error(
                    "variables of host `\(entry.name)` must be a map, not a \(vars.shapeName)",
                    at: vars.location, hint: hint)
            }
            for host in names {
                builder.addHost(host, to: group, at: entry.key.location)
                if let port { builder.setHostVariable(host, "ansible_port", .int(port), at: entry.key.location) }
                for field in fields ?? [] {
                    builder.setHostVariable(host, field.name, field.value.value, at: field.key.location)
                }
            }
        }
    }

    private static func parseGroupVars(_ node: SourceNode, group: String, into builder: inout InventoryBuilder) {
        if node.scalar?.isNull == true { return }
        guard let entries = node.entries else {
            builder.diagnostics.error("`vars` of group `\(group)` must be a map, not a \(node.shapeName)", at: node.location)
            return
        }
        for entry in entries {
            builder.setGroupVariable(group, entry.name, entry.value.value, at: entry.key.location)
        }
    }

    /// Parses YAML text like `YAMLFile.parse`, adding a hint when the error sits on a tab-indented line.
    static func parseText(_ text: String, path: String, vault: VaultKeyring? = nil) throws(ConfigurationError) -> SourceNode? {
        do {
            return try YAMLFile.parse(text, path: path, vault: vault)
        } catch let error as ConfigurationError {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            throw ConfigurationError(
                error.diagnostics.map { diagnostic in
                    var diagnostic = diagnostic
                    if let line = diagnostic.location?.line, line >= 1, line <= lines.count,
                        lines[line - 1].prefix(while: { $0 == " " || $0 == "\t" }).contains("\t")
                    {
                        diagnostic.hint = "YAML indentation must use spaces, not tabs"
                    }
                    return diagnostic
                })
        } catch {
            throw ConfigurationError([.error("\(error)", at: SourceLocation(file: path, line: 1, column: 1))])
        }
    }

    /// Whether a parsed YAML document looks like an inventory (used to sniff files without extension).
    static func looksLikeInventory(_ root: SourceNode) -> Bool {
        guard let entries = root.entries, !entries.isEmpty else { return false }
        if let all = root["all"], all.entries != nil || all.scalar?.isNull == true { return true }
        let bodies = entries.map(\.value)
        guard bodies.allSatisfy({ $0.entries != nil || $0.scalar?.isNull == true }) else { return false }
        return bodies.contains { body in
            guard let fields = body.entries, !fields.isEmpty else { return false }
            return fields.allSatisfy { groupKeys.contains($0.name) }
        }
    }
}
