import Foundation
import OrderedCollections
import Testing

@testable import QuorumCore

@Suite("Inventory loading")
struct InventoryLoadTests {
    let yaml: Inventory
    let ini: Inventory

    init() throws {
        yaml = try Inventory.load(InventoryFixtures.topologyYAML)
        ini = try Inventory.load(InventoryFixtures.topologyINI)
    }

    @Test func hostsInFirstSeenOrderWithRangesExpanded() {
        let expected = ["bastion", "ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "db1"]
        #expect(yaml.hosts == expected)
        #expect(ini.hosts == expected)
    }

    @Test func yamlAndINIGiveTheSameGroupsMembersAndVariables() {
        #expect(Set(yaml.groups.keys) == ["all", "ungrouped", "openstack", "controllers", "computes", "databases"])
        #expect(Set(ini.groups.keys) == Set(yaml.groups.keys))
        #expect(yaml.membersByGroup == ini.membersByGroup)
        for group in yaml.groups.keys {
            #expect(yaml.groups[group]?.children.sorted() == ini.groups[group]?.children.sorted(), "children of \(group)")
            #expect(yaml.groups[group]?.depth == ini.groups[group]?.depth, "depth of \(group)")
        }
        for host in yaml.hosts {
            #expect(
                Dictionary(uniqueKeysWithValues: Array(yaml.variables(for: host)))
                    == Dictionary(uniqueKeysWithValues: Array(ini.variables(for: host))), "variables of \(host)")
            #expect(yaml.groupNames(of: host) == ini.groupNames(of: host), "groups of \(host)")
        }
        #expect(yaml.warnings.isEmpty)
        #expect(ini.warnings.isEmpty)
    }

    @Test func childrenAreMembersRecursively() {
        #expect(yaml.members(of: "openstack") == ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"])
        #expect(yaml.members(of: "all") == yaml.hosts)
        #expect(yaml.members(of: "ungrouped") == ["bastion"])
        #expect(ini.members(of: "ungrouped") == ["bastion"])
        #expect(yaml.members(of: "nope") == [])
        #expect(yaml.groups["openstack"]?.children == ["controllers", "computes"])
        #expect(yaml.groups["controllers"]?.parents == ["openstack"])
        #expect(yaml.groups["controllers"]?.depth == 2)
        #expect(yaml.groups["databases"]?.depth == 1)
    }

    @Test func groupNamesIncludeAncestorsNotAll() {
        #expect(yaml.groupNames(of: "ctl1") == ["controllers", "databases", "openstack"])
        #expect(yaml.groupNames(of: "bastion") == ["ungrouped"])
        #expect(ini.groupNames(of: "cmp2") == ["computes", "openstack"])
    }

    @Test func valuesAreTypedInBothFormats() {
        for inventory in [yaml, ini] {
            let cmp1 = inventory.variables(for: "cmp1")
            #expect(cmp1["ansible_port"] == .int(2222))
            #expect(cmp1["ansible_host"] == .string("192.0.2.21"))
            #expect(inventory.variables(for: "db1")["ansible_become"] == .bool(true))
        }
    }

    @Test func directoryIsAbsoluteAndPathIsKept() {
        #expect(yaml.path == InventoryFixtures.topologyYAML)
        #expect(yaml.directory == InventoryFixtures.root + "/topology")
    }

    @Test func variableSourcesPointAtTheWinningDefinition() throws {
        let sources = yaml.variableSources(for: "ctl1")
        #expect(sources["ansible_user"]?.file.hasSuffix("host_vars/ctl1.yml") == true)
        #expect(sources["ansible_user"]?.line == 1)
        #expect(sources["haproxy_port"]?.file.hasSuffix("group_vars/controllers/02-tls.yml") == true)
        #expect(sources["ntp_server"].map { "\($0.line):\($0.column)" } == "4:5")
        let iniSources = ini.variableSources(for: "cmp1")
        #expect(iniSources["ansible_port"].map { "\($0.line):\($0.column)" } == "8:30")
        #expect(Set(sources.keys) == Set(yaml.variables(for: "ctl1").keys))
    }

    @Test func formatIsSniffedWithoutExtension() throws {
        let fromYAML = try InventoryFixtures.load("hosts", "all:\n  children:\n    web:\n      hosts:\n        w1:\n")
        #expect(fromYAML.members(of: "web") == ["w1"])
        let fromINI = try InventoryFixtures.load("hosts", "[web]\nw1 ansible_port=22\n")
        #expect(fromINI.members(of: "web") == ["w1"])
        let iniNamedIni = try InventoryFixtures.load("inventory.ini", "w0\n[web]\nw1\n")
        #expect(iniNamedIni.members(of: "ungrouped") == ["w0"])
        let yamlWithoutAll = try InventoryFixtures.load("hosts", "web:\n  hosts:\n    w1:\n")
        #expect(yamlWithoutAll.groups["web"]?.parents == ["all"])
        #expect(yamlWithoutAll.members(of: "web") == ["w1"])
    }

    @Test func hostRangesPortsAndPadding() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.ini",
            """
            [web]
            web[01:03]
            db-[a:c]:2200
            node[0:8:4]
            10.0.0.5:2022 ansible_user=ops
            """)
        #expect(inventory.hosts == ["web01", "web02", "web03", "db-a", "db-b", "db-c", "node0", "node4", "node8", "10.0.0.5"])
        #expect(inventory.variables(for: "db-b")["ansible_port"] == .int(2200))
        #expect(inventory.variables(for: "10.0.0.5")["ansible_port"] == .int(2022))
        let yaml = try InventoryFixtures.load("hosts.yml", "all:\n  hosts:\n    ctl[1:2]:2222:\n      ansible_user: root\n")
        #expect(yaml.hosts == ["ctl1", "ctl2"])
        #expect(yaml.variables(for: "ctl2") == ["ansible_port": .int(2222), "ansible_user": .string("root")])
    }

    @Test func iniValuesAreTypedLikeAnsible() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.ini",
            #"""
            h1 a=42 b=-7 c=1.5 d=True e=false f="42" g='two words' h=0644 i=[1,2] j=None k=0x1F l=text
            [all:vars]
            quoted = "5"
            spaced = some text here  # trailing comment
            number = 10
            url = http://x/?a=b
            """#)
        let v = inventory.variables(for: "h1")
        #expect(v["a"] == .int(42))
        #expect(v["b"] == .int(-7))
        #expect(v["c"] == .double(1.5))
        #expect(v["d"] == .bool(true))
        #expect(v["e"] == .bool(false))
        #expect(v["f"] == .string("42"))
        #expect(v["g"] == .string("two words"))
        #expect(v["h"] == .string("0644"))
        #expect(v["i"] == .list([.int(1), .int(2)]))
        #expect(v["j"] == .null)
        #expect(v["k"] == .int(31))
        #expect(v["l"] == .string("text"))
        #expect(v["quoted"] == .string("5"))
        #expect(v["spaced"] == .string("some text here"))
        #expect(v["number"] == .int(10))
        #expect(v["url"] == .string("http://x/?a=b"))
    }

    @Test func nullHostsAndGroupsAreFine() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.yml",
            """
            all:
              hosts:
              children:
                empty:
                web:
                  hosts:
                    w1:
                  vars:
                  children:
            """)
        #expect(inventory.hosts == ["w1"])
        #expect(inventory.members(of: "empty") == [])
        #expect(inventory.groups["empty"]?.parents == ["all"])
    }

    @Test func hostsBeforeSectionsLeaveUngroupedWhenAlsoGrouped() throws {
        let inventory = try InventoryFixtures.load("hosts.ini", "a\nb\n[web]\nb\n")
        #expect(inventory.members(of: "ungrouped") == ["a"])
        #expect(inventory.groupNames(of: "b") == ["web"])
    }

    @Test func emptyInventoryHasOnlyImplicitGroups() throws {
        let inventory = try InventoryFixtures.load("hosts.yml", "# nothing yet\n")
        #expect(inventory.hosts.isEmpty)
        #expect(Set(inventory.groups.keys) == ["all", "ungrouped"])
    }
}
