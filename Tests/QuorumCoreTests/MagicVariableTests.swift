import Foundation
import OrderedCollections
import QuorumCore
import Testing

/// The one list of magic variables: what the engine sets is what the static check knows.
@Suite("Magic variables")
struct MagicVariableTests {
    @Test("every magic variable but hostvars and item (the engine sets those itself) is given, per play or per host; the checker knows them all")
    func everyOneIsGiven() throws {
        let dir = try InventoryFixtures.scratch(["hosts.yml": "all:\n  children:\n    controllers:\n      hosts: {ctl1.example: {}}\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inventory = try Inventory.load(dir + "/hosts.yml")
        let play = MagicVariable.play(hosts: ["ctl1.example"], inventory: inventory, check: true, diff: false, playbookDirectory: dir)
        let host = MagicVariable.host("ctl1.example", inventory: inventory)
        let given = Set(play.keys).union(host.keys)
        #expect(given.union([MagicVariable.hostvars.rawValue, MagicVariable.item.rawValue]) == Set(MagicVariable.allCases.map(\.rawValue)))
        #expect(given.isSubset(of: MagicVariable.names))
        #expect(host["inventory_hostname_short"] == .string("ctl1"))
        #expect(host["group_names"] == .list([.string("controllers")]))
        #expect(play["ansible_check_mode"] == .bool(true))
    }
}
