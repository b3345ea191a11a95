import OrderedCollections
import QuorumCore
import Testing

@testable import QuorumEngine

/// The values every host of a play shares (`groups`, the play's host lists, `hostvars`) are looked at once per
/// play, not once per host (the cost of a run grew with the square of the hosts): what each host sees and what
/// is masked stay the same.
@Suite struct SharedVariablesTests {
    let here = SourceLocation(file: "test.yml", line: 1, column: 1)

    @Test("a settled variable is taken as it is; the others are rendered and may use it")
    func settledNamesAreNotRendered() throws {
        let resolver = VariableResolver(templates: TemplateRenderer())
        let merged: Variables = ["shared": .string("{{ literal }}"), "name": .string("c1"), "url": .string("http://{{ name }}/{{ shared }}")]
        let resolved = try resolver.resolve(merged, locations: [:], fallback: here, settled: ["shared"])
        #expect(resolved["shared"] == .string("{{ literal }}"))
        #expect(resolved["url"] == .string("http://c1/{{ literal }}"))
        // A name settled but not there changes nothing.
        #expect(try resolver.resolve(["a": .string("{{ b }}"), "b": .int(1)], locations: [:], fallback: here, settled: ["z"])["a"] == .int(1))
    }

    @Test("shared values holding a template are not settled; a host's variables are registered whole once, then without the settled ones")
    func sharedValues() {
        var shared = PlayScope.SharedValues([
            "groups": .map(["all": .list([.string("c1")])]),
            "templated": .list([.string("x"), .string("{{ y }}")])
        ])
        #expect(shared.settled == ["groups"])
        let host: Variables = ["groups": .map([:]), "templated": .string("t"), "own": .string("o")]
        #expect(shared.unregistered(host) == host)
        #expect(Array(shared.unregistered(host).keys) == ["templated", "own"])
    }

    @Test("every host sees the others' rendered variables through hostvars, and their secrets are masked on every host")
    func hostvarsAndSecretsAcrossHosts() async throws {
        // c1's URL password is registered with the inventory; `label` renders per host inside hostvars.
        let inventory = """
            all:
              vars: {label: "{{ inventory_hostname }}-label"}
              hosts:
                c1: {db_url: "mysql://magnum:c1-db-secret@db"}
                c2: {}
                c3: {}
            """
        let step = "{{ hostvars['c1'].db_url }} {{ hostvars['c3'].label }} {{ groups['all'] | join(',') }} {{ label }}"
        let summary = try await EngineHarness().run(
            inventory: inventory,
            playbook: "- hosts: all\n  steps:\n    - {name: \"\(step)\", command: \"true\"}\n")
        let names = Dictionary(uniqueKeysWithValues: summary.reports.map { ($0.host, $0.step) })
        for host in ["c1", "c2", "c3"] {
            #expect(names[host] == "mysql://magnum:********@db c3-label c1,c2,c3 \(host)-label")
        }
    }
}
