import Testing

@testable import QuorumCore

@Suite("Host patterns")
struct InventoryPatternTests {
    let inventory: Inventory
    init() throws { inventory = try Inventory.load(InventoryFixtures.topologyYAML) }

    @Test(arguments: [
        ("all", ["bastion", "ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "db1"]),
        ("*", ["bastion", "ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "db1"]),
        ("controllers", ["ctl1", "ctl2", "ctl3"]),
        ("openstack", ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"]),
        ("ungrouped", ["bastion"]),
        ("db1", ["db1"]),
        ("ctl*", ["ctl1", "ctl2", "ctl3"]),
        ("c*", ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"]),
        ("cmp?", ["cmp1", "cmp2"]),
        ("~ctl[12]", ["ctl1", "ctl2"]),
        ("controllers:databases", ["ctl1", "ctl2", "ctl3", "db1"]),
        ("databases,computes", ["ctl1", "cmp1", "cmp2", "db1"]),
        ("db1:bastion", ["bastion", "db1"]),
        ("controllers:controllers:ctl1", ["ctl1", "ctl2", "ctl3"]),
        ("openstack:!computes", ["ctl1", "ctl2", "ctl3"]),
        ("openstack:&databases", ["ctl1"]),
        ("!controllers", ["bastion", "cmp1", "cmp2", "db1"]),
        ("&databases", ["ctl1", "db1"]),
        ("!ctl1:controllers", ["ctl2", "ctl3"]),
        ("&databases:openstack", ["ctl1"]),
        ("openstack:databases:&controllers:!ctl2", ["ctl1", "ctl3"]),
        ("openstack, !computes, &databases", ["ctl1"]),
        ("controllers[0]", ["ctl1"]),
        ("controllers[-1]", ["ctl3"]),
        ("controllers[1:2]", ["ctl2", "ctl3"]),
        ("controllers[1:]", ["ctl2", "ctl3"])
    ])
    func selects(pattern: String, expected: [String]) throws {
        #expect(try inventory.select(pattern) == expected)
    }

    @Test func unknownGroupNamesItWithAHint() throws {
        let location = SourceLocation(file: "site.yml", line: 3, column: 10)
        let error = try #require(throws: ConfigurationError.self) { try inventory.select("contollers", at: location) }
        #expect(error.diagnostics.count == 1)
        #expect(error.diagnostics[0].message == "no group or host named `contollers` in the inventory")
        #expect(error.diagnostics[0].hint == "did you mean `controllers`?")
        #expect(error.diagnostics[0].at == "site.yml:3:10")
    }

    @Test func everyUnknownNameIsReported() throws {
        let error = try #require(throws: ConfigurationError.self) { try inventory.select("openstack:!databse:&ctl9") }
        #expect(
            error.diagnostics.map(\.message) == [
                "no group or host named `ctl9` in the inventory",
                "no group or host named `databse` in the inventory"
            ])
        #expect(error.diagnostics.map(\.hint) == ["did you mean `ctl1`?", "did you mean `databases`?"])
    }

    @Test func globMatchingNothingAndBadSubscriptsAreErrors() throws {
        #expect(throws: ConfigurationError.self) { try inventory.select("zz*") }
        #expect(throws: ConfigurationError.self) { try inventory.select("controllers[7]") }
        #expect(throws: ConfigurationError.self) { try inventory.select("") }
        #expect(throws: ConfigurationError.self) { try inventory.select("~ctl[") }
    }

    @Test func anEmptyGroupIsNotAnError() throws {
        let empty = try InventoryFixtures.load("hosts.ini", "[web]\n[db]\nd1\n")
        #expect(try empty.select("web") == [])
        #expect(try empty.select("web:db") == ["d1"])
    }
}
