import OrderedCollections

/// Collects hosts, groups and variables as a parser reads them, then reconciles them the way Ansible
/// does (implicit `all` and `ungrouped`, depths) and checks the group graph for cycles.
struct InventoryBuilder {
    var hosts: [String] = []
    var hostDetails: [String: InventoryHost] = [:]
    var groupOrder: [String] = []
    var groups: [String: InventoryGroup] = [:]
    /// Where each `parent → child` link was written, to point at the link that closes a cycle.
    var childLocations: [String: [String: SourceLocation]] = [:]
    var diagnostics = DiagnosticCollector()
    /// Every value read from a vault file (`group_vars/`, `host_vars/`): secrets.
    var vaultSecrets: Set<String> = []

    /// Makes sure the group exists; false (with an error) when its name cannot be a group name.
    @discardableResult
    mutating func declareGroup(_ name: String, at location: SourceLocation?) -> Bool {
        if groups[name] != nil { return true }
        if let problem = Self.groupNameProblem(name) {
            diagnostics.error("invalid group name `\(name)`: \(problem)", at: location)
            return false
        }
        groups[name] = InventoryGroup(name: name, location: location)
        groupOrder.append(name)
        return true
    }

    mutating func addHost(_ host: String, to group: String, at location: SourceLocation) {
        if hostDetails[host] == nil {
            hostDetails[host] = InventoryHost(name: host, location: location)
            hosts.append(host)
        }
        guard declareGroup(group, at: nil), groups[group]?.hosts.contains(host) == false else { return }
        groups[group]?.hosts.append(host)
    }

    mutating func setHostVariable(_ host: String, _ key: String, _ value: Value, at location: SourceLocation) {
        hostDetails[host]?.variables[key] = value
        hostDetails[host]?.variableSources[key] = location
    }

    mutating func setGroupVariable(_ group: String, _ key: String, _ value: Value, at location: SourceLocation) {
        groups[group]?.variables[key] = value
        groups[group]?.variableSources[key] = location
    }

    mutating func addChild(_ child: String, to parent: String, at location: SourceLocation?) {
        guard declareGroup(parent, at: nil), declareGroup(child, at: location) else { return }
        guard groups[parent]?.children.contains(child) == false else { return }
        groups[parent]?.children.append(child)
        groups[child]?.parents.append(parent)
        if let location { childLocations[parent, default: [:]][child] = location }
    }

    /// Adds the implicit groups, breaks (and reports) cycles, attaches parentless groups to `all`,
    /// puts hosts that are in no group into `ungrouped`, and computes depths and priorities.
    mutating func reconcile() {
        declareGroup("all", at: nil)
        declareGroup("ungrouped", at: nil)
        breakCycles()
        for name in groupOrder where name != "all" && groups[name]?.parents.isEmpty == true {
            addChild(name, to: "all", at: nil)
        }
        for host in hosts {
            let direct = groupOrder.filter { groups[$0]?.hosts.contains(host) == true }
            let real = direct.filter { $0 != "all" && $0 != "ungrouped" }
            if real.isEmpty {
                if !direct.contains("ungrouped") { groups["ungrouped"]?.hosts.append(host) }
            } else if direct.contains("ungrouped") {
                groups["ungrouped"]?.hosts.removeAll { $0 == host }
            }
            if groups[host] != nil {
                diagnostics.warning("`\(host)` is both a host and a group; in patterns it means the group", at: hostDetails[host]?.location)
            }
        }
        var depths: [String: Int] = ["all": 0]
        for name in groupOrder {
            let value = depth(of: name, memo: &depths, visiting: [])
            groups[name]?.depth = value
        }
        for name in groupOrder {
            guard let value = groups[name]?.variables["ansible_group_priority"] else { continue }
            if let priority = Int(value.scalarText ?? "") {
                groups[name]?.priority = priority
            } else {
                diagnostics.error(
                    "`ansible_group_priority` must be an integer, not \(value.typeName)",
                    at: groups[name]?.variableSources["ansible_group_priority"])
            }
        }
    }

    private func depth(of name: String, memo: inout [String: Int], visiting: Set<String>) -> Int {
        if let known = memo[name] { return known }
        guard let parents = groups[name]?.parents, !parents.isEmpty, !visiting.contains(name) else { return 1 }
        var result = parents.map { depth(of: $0, memo: &memo, visiting: visiting.union([name])) }.max() ?? 0
        result += 1
        memo[name] = result
        return result
    }

    /// Depth-first search over children: a link to a group still on the path closes a cycle. Each such
    /// link is reported at the place it was written, and dropped so later steps terminate.
    private mutating func breakCycles() {
        var done = Set<String>()
        var path: [String] = []
        var closing: [(parent: String, child: String, path: [String])] = []
        func visit(_ name: String) {
            if done.contains(name) { return }
            path.append(name)
            for child in groups[name]?.children ?? [] {
                if let start = path.firstIndex(of: child) {
                    closing.append((name, child, Array(path[start...]) + [child]))
                } else {
                    visit(child)
                }
            }
            path.removeLast()
            done.insert(name)
        }
        for name in groupOrder { visit(name) }
        for (parent, child, cycle) in closing {
            diagnostics.error(
                "group `\(child)` is its own descendant: \(cycle.joined(separator: " → "))",
                at: childLocations[parent]?[child] ?? groups[child]?.location)
            groups[parent]?.children.removeAll { $0 == child }
            groups[child]?.parents.removeAll { $0 == parent }
        }
    }

    /// Why `name` cannot name a group (it would break host patterns), or nil.
    static func groupNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a group needs a name" }
        let forbidden = Set(":,!&*?[]=~'\"#;")
        if let bad = name.first(where: { $0.isWhitespace || forbidden.contains($0) }) {
            return bad.isWhitespace ? "it contains a space" : "`\(bad)` is not allowed in a group name"
        }
        return nil
    }
}
