import OrderedCollections
import Testing

@testable import QuorumCore

@Suite("Inventory variable precedence")
struct InventoryPrecedenceTests {
    @Test(arguments: [InventoryFixtures.topologyYAML, InventoryFixtures.topologyINI])
    func allThenParentThenChildThenHost(path: String) throws {
        let inventory = try Inventory.load(path)
        #expect(inventory.variables(for: "bastion")["level"] == .string("all"))
        #expect(inventory.variables(for: "cmp1")["level"] == .string("openstack"))
        #expect(inventory.variables(for: "ctl2")["level"] == .string("controllers"))
        #expect(inventory.variables(for: "ctl1")["level"] == .string("host"))
        #expect(inventory.variables(for: "ctl2")["role"] == .string("controller"))
        #expect(inventory.variables(for: "cmp2")["role"] == .string("compute"))
        #expect(inventory.variables(for: "db1")["role"] == .string("generic"))
        #expect(inventory.variables(for: "db1")["ntp_server"] == .string("ntp.example.com"))
    }

    @Test(arguments: [InventoryFixtures.topologyYAML, InventoryFixtures.topologyINI])
    func sameDepthIsAlphabeticalLaterWins(path: String) throws {
        let inventory = try Inventory.load(path)
        // ctl1 is in `databases` (tier=db) and `openstack` (tier=os), both at depth 1.
        #expect(inventory.variables(for: "ctl1")["tier"] == .string("os"))
        #expect(inventory.variables(for: "db1")["tier"] == .string("db"))
    }

    @Test(arguments: [InventoryFixtures.topologyYAML, InventoryFixtures.topologyINI])
    func varsFilesBeatTheInventoryFile(path: String) throws {
        let inventory = try Inventory.load(path)
        // group_vars/openstack.yaml over [openstack:vars]; host_vars/ctl1.yml over the inline ansible_user.
        #expect(inventory.variables(for: "cmp1")["region"] == .string("RegionTwo"))
        #expect(inventory.variables(for: "ctl1")["ansible_user"] == .string("root"))
        #expect(inventory.variables(for: "ctl2")["ansible_user"] == .string("deploy"))
        #expect(inventory.groups["openstack"]?.variables["region"] == .string("RegionOne"))
        #expect(inventory.groups["openstack"]?.fileVariables["region"] == .string("RegionTwo"))
        #expect(inventory.variables(for: "db1")["dns_server"] == .string("192.0.2.53"))
    }

    @Test(arguments: [InventoryFixtures.topologyYAML, InventoryFixtures.topologyINI])
    func directoryFormGroupVarsMergeInNameOrder(path: String) throws {
        let inventory = try Inventory.load(path)
        let ctl3 = inventory.variables(for: "ctl3")
        #expect(ctl3["haproxy_port"] == .int(443))
        #expect(ctl3["vip"] == .string("192.0.2.100"))
        #expect(inventory.variables(for: "cmp1")["haproxy_port"] == nil)
        // Group files follow the same depth order: controllers' file beats openstack's and all's.
        #expect(ctl3["file_level"] == .string("controllers"))
        #expect(inventory.variables(for: "cmp1")["file_level"] == .string("openstack"))
        #expect(inventory.variables(for: "db1")["file_level"] == .string("all"))
    }

    @Test func groupVarsAllBeatsAChildGroupInlineVarLikeAnsible() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.ini", "[web]\nw1\n[web:vars]\nport=1\n",
            extra: ["group_vars/all.yml": "port: 2\n"])
        #expect(inventory.variables(for: "w1")["port"] == .int(2))
    }

    @Test func dictionariesAreReplacedNotMerged() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.yml",
            """
            all:
              vars:
                tls: {cert: a.pem, key: a.key}
              children:
                web:
                  hosts: {w1: }
                  vars:
                    tls: {cert: b.pem}
            """)
        #expect(inventory.variables(for: "w1")["tls"] == .map([("cert", .string("b.pem"))]))
    }

    @Test func deeperGroupWinsEvenWhenWrittenFirst() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.ini",
            """
            [leaf]
            h1
            [leaf:vars]
            x=leaf
            [mid:children]
            leaf
            [mid:vars]
            x=mid
            [top:children]
            mid
            [top:vars]
            x=top
            [zzz]
            h1
            [zzz:vars]
            x=zzz
            """)
        #expect(inventory.groups["leaf"]?.depth == 3)
        #expect(inventory.variables(for: "h1")["x"] == .string("leaf"))
        #expect(inventory.groupNames(of: "h1") == ["leaf", "mid", "top", "zzz"])
    }

    @Test func groupPriorityBreaksTiesAtTheSameDepth() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.yml",
            """
            all:
              children:
                alpha:
                  hosts: {h: }
                  vars: {x: alpha, ansible_group_priority: 10}
                beta:
                  hosts: {h: }
                  vars: {x: beta}
            """)
        #expect(inventory.variables(for: "h")["x"] == .string("alpha"))
    }

    @Test func hostVarsDirectoryAndYamlExtension() throws {
        let inventory = try InventoryFixtures.load(
            "hosts.ini", "web1.example.com a=inline\n",
            extra: [
                "host_vars/web1.example.com/10-one.yml": "a: one\nb: one\n",
                "host_vars/web1.example.com/20-two.yaml": "b: two\n",
                "host_vars/web1.example.com/notes.txt": "not: loaded\n"
            ])
        let vars = inventory.variables(for: "web1.example.com")
        #expect(vars["a"] == .string("one"))
        #expect(vars["b"] == .string("two"))
        #expect(vars["not"] == nil)
    }
}
