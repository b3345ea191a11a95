import Foundation
import QuorumCore
import QuorumSteps
import QuorumTesting
import Testing

/// Every playbook the project ships (the Magnum playbook, the examples, the benchmarks' workloads) loads and
/// passes the static checks with the inventory it is meant for: what `quorum validate` says, without the binary.
struct ShippedPlaybooksTests {
    struct Shipped: Sendable, CustomStringConvertible {
        var playbook: String
        var inventory: String
        var description: String { "\(playbook) with \(inventory)" }
    }

    /// The playbooks under playbooks/ and benchmarks/ (relative to the package root), each with its inventory.
    static let shipped: [Shipped] = {
        let root = PackageRoot.path
        let files = FileManager.default
        var found: [Shipped] = []
        for directory in ["playbooks", "playbooks/examples"] {
            let names = (try? files.contentsOfDirectory(atPath: root + "/" + directory)) ?? []
            for name in names.sorted() where name.hasSuffix(".yml") {
                for inventory in ["inventory/lab.yml", "inventory/example.yml"] {
                    found.append(Shipped(playbook: directory + "/" + name, inventory: inventory))
                }
            }
        }
        found.append(Shipped(playbook: "benchmarks/noop-20.yml", inventory: "inventory/lab.yml"))
        return found
    }()

    static func errors(_ playbookPath: String, inventory: Inventory) throws -> [String] {
        var diagnostics = DiagnosticCollector()
        let playbook = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(playbookPath, into: &diagnostics)
        if !diagnostics.hasErrors {
            diagnostics.append(contentsOf: StaticChecker(inventory: inventory).check([playbook]))
        }
        return diagnostics.diagnostics.filter { $0.severity == .error }.map(\.description)
    }

    @Test("the shipped playbooks pass the load-time checks", arguments: shipped)
    func shippedPlaybookValidates(_ shipped: Shipped) throws {
        let inventory = try Inventory.load(PackageRoot.path + "/" + shipped.inventory)
        #expect(try Self.errors(PackageRoot.path + "/" + shipped.playbook, inventory: inventory) == [])
    }

    @Test("the scale benchmark's workload passes them with the inventory benchmarks/scale.sh writes")
    func scaleWorkloadValidates() throws {
        let ws = try Workspace("scale")
        defer { ws.remove() }
        let inventoryPath = try ws.write(
            "inventory.yml",
            """
            all:
              vars: {ansible_user: root, ansible_ssh_private_key_file: \(ws.path)/id_ed25519, quorum_known_hosts_file: \(ws.path)/known_hosts}
              children:
                bench:
                  hosts:
                    host1: {ansible_host: 127.0.3.1, bind_host: 127.0.3.1}
                    host2: {ansible_host: 127.0.3.2, bind_host: 127.0.3.2}
            """)
        let inventory = try Inventory.load(inventoryPath)
        #expect(try Self.errors(PackageRoot.path + "/benchmarks/scale/site.yml", inventory: inventory) == [])
    }
}
