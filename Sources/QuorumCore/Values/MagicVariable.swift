import OrderedCollections

/// A variable Quorum itself gives the hosts of a play, as Ansible does: the one list of them, which the engine
/// sets and the static checker knows.
public enum MagicVariable: String, CaseIterable, Sendable {
    case inventoryHostname = "inventory_hostname"
    case inventoryHostnameShort = "inventory_hostname_short"
    case groupNames = "group_names"
    case groups
    /// Every host's inventory variables, rendered (the engine renders them).
    case hostvars
    case ansiblePlayHosts = "ansible_play_hosts"
    case playHosts = "play_hosts"
    case ansibleCheckMode = "ansible_check_mode"
    case ansibleDiffMode = "ansible_diff_mode"
    case playbookDir = "playbook_dir"
    case inventoryDir = "inventory_dir"
    /// A loop's current item, set for each item.
    case item

    /// The names a template may use with nothing defining them: these variables and the template language's own words.
    public static let names: Set<String> = Set(allCases.map(\.rawValue))
        .union(["true", "false", "none", "True", "False", "None", "loop", "forloop"])

    /// The ones with the same value on every host of a play (`hosts`, in inventory order).
    public static func play(hosts: [String], inventory: Inventory, check: Bool, diff: Bool, playbookDirectory: String) -> Variables {
        var groups = OrderedDictionary<String, Value>()
        for name in inventory.groups.keys.sorted() {
            groups[name] = .list(inventory.members(of: name).map(Value.string))
        }
        return [
            Self.groups.rawValue: .map(groups),
            ansiblePlayHosts.rawValue: .list(hosts.map(Value.string)),
            playHosts.rawValue: .list(hosts.map(Value.string)),
            ansibleCheckMode.rawValue: .bool(check),
            ansibleDiffMode.rawValue: .bool(diff),
            playbookDir.rawValue: .string(playbookDirectory),
            inventoryDir.rawValue: .string(inventory.directory)
        ]
    }

    /// The ones of `host` alone.
    public static func host(_ host: String, inventory: Inventory) -> Variables {
        [
            inventoryHostname.rawValue: .string(host),
            inventoryHostnameShort.rawValue: .string(String(host.prefix { $0 != "." })),
            groupNames.rawValue: .list(inventory.groupNames(of: host).filter { $0 != "all" && $0 != "ungrouped" }.map(Value.string))
        ]
    }
}
