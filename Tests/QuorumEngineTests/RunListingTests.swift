import Foundation
import QuorumCore
import QuorumSteps
import Testing

@testable import QuorumEngine

/// `--list-hosts`, `--list-steps` and `--list-tags` print what the engine would select: the same `RunSelection`,
/// checked here against a real (in-memory) run with the same `--limit` and `--tags`.
@Suite struct RunListingTests {
    static let playbook = """
        - name: config
          hosts: controllers
          tags: [cfg]
          steps:
            - name: first
              command: "echo first"
              tags: [one]
              notify: restart
            - name: second
              command: "echo second"
              tags: [two]
              notify: reload
            - name: always here
              command: "echo always"
              tags: [always]
          handlers:
            - name: restart
              command: "echo restart"
            - name: reload
              command: "echo reload"
        - name: only c3
          hosts: c3
          steps:
            - name: third
              command: "echo third"
              tags: [one, three]
        """

    /// The playbook and `EngineHarness.threeHosts` loaded from a scratch folder.
    static func load() throws -> (Inventory, Playbook, String) {
        let dir = NSTemporaryDirectory() + "quorum-listing-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try EngineHarness.threeHosts.write(toFile: dir + "/inv.yml", atomically: true, encoding: .utf8)
        try playbook.write(toFile: dir + "/pb.yml", atomically: true, encoding: .utf8)
        return (try Inventory.load(dir + "/inv.yml"), try PlaybookLoader(catalog: StepCatalog.byName).load(dir + "/pb.yml"), dir + "/pb.yml")
    }

    @Test("--list-hosts honours --limit; --list-steps honours --tags with tags shown and handlers marked; --list-tags")
    func listing() throws {
        let (inventory, playbook, path) = try Self.load()
        let selection = RunSelection(inventory: inventory, limit: "controllers:!c2", tags: ["one"])
        let text = RunListing(playbooks: [playbook], selection: selection, hosts: true, steps: true, tags: true).render()
        #expect(
            text == """
                playbook: \(path)

                  play #1 "config" (hosts: controllers)
                    hosts (2):
                      c1
                      c3
                    steps (2):
                      first  [one, cfg]
                      always here  [always, cfg]
                      handler: restart  [cfg]  (runs when notified)
                    tags: always, cfg, one

                  play #2 "only c3" (hosts: c3)
                    hosts (1):
                      c3
                    steps (1):
                      third  [one, three]
                    tags: one, three

                """)
        let hostsOnly = RunListing(
            playbooks: [playbook], selection: RunSelection(inventory: inventory, skipTags: ["cfg"]),
            hosts: false, steps: true, tags: false
        ).render()
        #expect(hostsOnly.contains("steps (0):") && !hostsOnly.contains("hosts ("), "\(hostsOnly)")
    }

    @Test(
        "the engine runs exactly the hosts and steps the listing shows",
        arguments: [
            (nil as String?, [String](), [String]()),
            ("c1:c3", ["one"], []),
            ("controllers:!c1", [], ["two"]),
            (nil, ["three"], ["always"])
        ])
    func engineAgrees(limit: String?, tagList: [String], skipList: [String]) async throws {
        let tags = Set(tagList)
        let skipTags = Set(skipList)
        let (inventory, playbook, _) = try Self.load()
        let selection = RunSelection(inventory: inventory, limit: limit, tags: tags, skipTags: skipTags)
        var listed = Set<String>()
        for play in playbook.plays {
            for host in selection.hosts(of: play) {
                for step in selection.steps(of: play) { listed.insert("\(host)/\(step.displayName)") }
            }
        }
        let summary = try await EngineHarness().run(
            inventory: EngineHarness.threeHosts, playbook: Self.playbook, skipPreflight: true,
            limit: limit, tags: tags, skipTags: skipTags)
        let ran = Set(summary.reports.filter { !$0.isHandler }.map { "\($0.host)/\($0.step)" })
        #expect(ran == listed)
    }
}
