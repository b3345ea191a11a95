import OrderedCollections

/// A group of an inventory: its direct hosts, its children and its variables.
public struct InventoryGroup: Sendable, Equatable {
    public var name: String
    /// Hosts listed directly in this group, in first-seen order (see `Inventory.members(of:)` for all).
    public var hosts: [String]
    public var children: [String]
    public var parents: [String]
    /// Variables written in the inventory file itself.
    public var variables: Variables
    /// Variables from `group_vars/NAME…` beside the inventory (they win over `variables`).
    public var fileVariables: Variables
    /// Longest distance from `all` (which is 0); deeper groups win.
    public var depth: Int
    /// `ansible_group_priority` (default 1): among groups of the same depth, higher wins.
    public var priority: Int
    /// Where the group was first written; nil for the implicit `all` and `ungrouped`.
    public var location: SourceLocation?

    var variableSources: [String: SourceLocation] = [:]
    var fileVariableSources: [String: SourceLocation] = [:]

    init(name: String, location: SourceLocation?) {
        self.name = name
        hosts = []
        children = []
        parents = []
        variables = [:]
        fileVariables = [:]
        depth = 0
        priority = 1
        self.location = location
    }
}

/// A host of an inventory and the variables written for it.
public struct InventoryHost: Sendable, Equatable {
    public var name: String
    /// Variables written in the inventory file (inline in INI, under the host in YAML).
    public var variables: Variables
    /// Variables from `host_vars/NAME…` beside the inventory (they win over `variables`).
    public var fileVariables: Variables
    /// Where the host was first written.
    public var location: SourceLocation

    var variableSources: [String: SourceLocation] = [:]
    var fileVariableSources: [String: SourceLocation] = [:]

    init(name: String, location: SourceLocation) {
        self.name = name
        variables = [:]
        fileVariables = [:]
        self.location = location
    }
}

/// Hosts, groups and their variables, read from an Ansible inventory (YAML or INI) plus the
/// `group_vars/` and `host_vars/` beside it.
public struct Inventory: Sendable {
    public var path: String
    /// The directory holding the inventory file (absolute).
    public var directory: String
    /// Every host, in first-seen order: "inventory order".
    public var hosts: [String]
    /// Every group, including the implicit `all` and `ungrouped`.
    public var groups: [String: InventoryGroup]
    /// Per-host details (location, own variables).
    public var hostDetails: [String: InventoryHost]
    /// Non-fatal findings (an undefined group in `[x:children]`, a `group_vars` file for no group…).
    public var warnings: [Diagnostic]
    /// Every value that came from a vault file under `group_vars/` or `host_vars/`: whoever prints
    /// anything about this inventory registers them with its `SecretRedactor` (the engine does).
    public var vaultSecrets: [String] = []

    /// Every host of `group`, recursively through its children, in inventory order.
    public func members(of group: String) -> [String] {
        guard groups[group] != nil else { return [] }
        if group == "all" { return hosts }
        var found = Set<String>()
        var visited = Set<String>()
        var stack = [group]
        while let name = stack.popLast() {
            guard visited.insert(name).inserted, let current = groups[name] else { continue }
            found.formUnion(current.hosts)
            stack.append(contentsOf: current.children)
        }
        return hosts.filter(found.contains)
    }

    /// The `groups` magic variable: every group name to its members.
    public var membersByGroup: [String: [String]] {
        groups.keys.reduce(into: [:]) { result, name in result[name] = members(of: name) }
    }

    /// The groups `host` belongs to, directly or through children, without `all`, sorted by name
    /// (Ansible's `group_names`).
    public func groupNames(of host: String) -> [String] {
        precedenceGroups(of: host).filter { $0 != "all" }.sorted()
    }

    /// The host's variables, merged like Ansible: inventory-file group variables (`all` first, then by
    /// depth, priority and name) < `group_vars/` files (same order) < inventory-file host variables
    /// < `host_vars/` files. Values replace, maps are not merged.
    public func variables(for host: String) -> Variables {
        var result = Variables()
        for layer in layers(for: host) {
            for (key, value) in layer.values { result[key] = value }
        }
        return result
    }

    /// Where each of the host's variables (as `variables(for:)` returns them) was written.
    public func variableSources(for host: String) -> [String: SourceLocation] {
        var result: [String: SourceLocation] = [:]
        for layer in layers(for: host) {
            for key in layer.values.keys { if let source = layer.sources[key] { result[key] = source } }
        }
        return result
    }

    /// Every group `host` is in (directly or through children, plus `all`), lowest precedence first.
    func precedenceGroups(of host: String) -> [String] {
        guard hostDetails[host] != nil else { return [] }
        var found = Set<String>()
        var stack = ["all"] + groups.values.filter { $0.hosts.contains(host) }.map(\.name)
        while let name = stack.popLast() {
            guard found.insert(name).inserted, let group = groups[name] else { continue }
            stack.append(contentsOf: group.parents)
        }
        return found.compactMap { groups[$0] }.sorted { a, b in
            (a.depth, a.priority, a.name) < (b.depth, b.priority, b.name)
        }.map(\.name)
    }

    private func layers(for host: String) -> [(values: Variables, sources: [String: SourceLocation])] {
        guard let details = hostDetails[host] else { return [] }
        let ordered = precedenceGroups(of: host).compactMap { groups[$0] }
        return ordered.map { ($0.variables, $0.variableSources) }
            + ordered.map { ($0.fileVariables, $0.fileVariableSources) }
            + [(details.variables, details.variableSources), (details.fileVariables, details.fileVariableSources)]
    }
}
