import Foundation
import OrderedCollections
import QuorumCore
import Testing

@testable import QuorumSteps

/// Every kind's arguments go through two doors: the loader (a playbook, before any host is contacted) and the
/// run (the arguments rendered for a host, then the kind's `init(arguments:)`). Both must say the same of the
/// same arguments, or a playbook that loads cleanly fails on every host (issue 17). Variants of a valid
/// example of each kind, one argument changed at a time to a value of every shape, go through both doors.
@Suite struct SchemaAgreementTests {
    /// A valid example per kind, the starting point of the variants.
    static let examples: [String: Value] = [
        "command": .map(["cmd": "true"]),
        "file": .map(["path": "/etc/magnum"]),
        "copy": .map(["dest": "/etc/magnum/x", "content": "a"]),
        "template": .map(["src": "a.j2", "dest": "/etc/magnum/x"]),
        "line": .map(["path": "/etc/magnum/x", "line": "a"]),
        "ini": .map(["path": "/etc/magnum/magnum.conf", "settings": .map(["DEFAULT": .map(["debug": "true"])])]),
        "apt": .map(["packages": .list(["curl"])]),
        "service": .map(["name": "haproxy", "state": "started"]),
        "wait_for": .map(["port": .int(80)]),
        "mysql_database": .map(["name": "magnum"]),
        "mysql_user": .map(["name": "magnum"]),
        "keystone_domain": .map(["name": "heat", "auth": auth]),
        "keystone_project": .map(["name": "service", "auth": auth]),
        "keystone_user": .map(["name": "magnum", "auth": auth]),
        "keystone_role_assignment": .map(["user": "magnum", "role": "admin", "project": "service", "auth": auth]),
        "keystone_service": .map(["name": "magnum", "type": "container-infra", "auth": auth]),
        "keystone_endpoint": .map(["service": "magnum", "interface": "public", "url": "http://vip:9511/v1", "auth": auth]),
        "iptables": .map(["comment": "magnum api"]),
        "pcs_resource": .map(["resource": "p_haproxy"]),
        "rabbitmq_user": .map(["name": "magnum", "api": .map(["url": "http://vip:15672", "username": "admin", "password": "pw"])]),
        "http_check": .map(["url": "http://vip:9511/"]),
        "haproxy_reload": .map([:])
    ]
    static let auth: Value = .map(["url": "http://vip:5000/v3", "username": "admin", "password": "pw", "project": "admin"])

    /// One value of every shape, and the spellings the grammars used to disagree on.
    static let samples: [Value] = [
        .null, "", "x", "/srv/x", "rel/x", .bool(true), "yes", "on", "1", "maybe", .int(0), .int(1), .int(80), .int(-1), .double(1.5), .double(8),
        "0644", .int(644), "0999", .list([]), .list(["a"]), .list([.null]), .list([.list(["a"])]), .map([:]), .map(["a": "b"]),
        .map(["a": .null]), .map(["a": .map(["b": "c"])]), .map(["a": .map(["b": .null])]), .map(["a": .list(["b"])]),
        "present", "absent", "started", "full", "GET", "direct"
    ]

    /// Rules a kind checks that the schema does not express: the only refusals of the run the loader may not
    /// foresee. Each is the syntax of a name the kind knows, or a condition between arguments.
    static let semanticRules: [String] = [
        // Syntax of names and addresses.
        "must be an http(s) URL", "must be an IPv4 address or network", "only letters, digits and", "privilege target",
        "must be a chain name", "must be a target without options", "expected a Debian package name", "must be a host name or",
        "invalid service name", "must be a Pacemaker id", "is not a port", "must be a list of ports or ranges",
        "must be a process name of at most 15 characters", "invalid HAProxy section name", "must contain `%s`",
        // Text that must not be empty, a number above 0, a list that must name something.
        "must not be empty", "is empty (refused before connecting", "lists no host", "must be more than 0 seconds",
        "must name at least one file or directory",
        // Conditions between arguments.
        "needs `auth` (a token to issue)", "mean nothing with `state: absent`", "needs `state: directory`", "refusing to remove",
        "is required when `state` is present", "`first` or `last` must be true", "give `state`, `enabled`, or both",
        "is only read with `restart_if_older_than`", "is required with `state: present`", "`state: absent` needs",
        "means nothing with `state: absent`"
    ]

    /// The example, no arguments at all (null), and the example with one argument (or one argument of a nested
    /// map) set to each sample.
    static func variants(of example: Value, schema: ArgSchema) -> [Value] {
        guard let base = example.mapValue else { return [example] }
        var out = [example, .null]
        for field in schema.fields {
            for sample in samples {
                var changed = base
                changed[field.name] = sample
                out.append(.map(changed))
            }
            if case .object(let inner) = field.type {
                for innerField in inner.fields {
                    for sample in samples {
                        var nested = base[field.name]?.mapValue ?? [:]
                        nested[innerField.name] = sample
                        var changed = base
                        changed[field.name] = .map(nested)
                        out.append(.map(changed))
                    }
                }
            }
        }
        return out
    }

    /// The playbook's verdict per step: the load-time diagnostics of each line.
    static func loadVerdicts(kind: String, _ variants: [Value]) throws -> [Int: [String]] {
        let path = NSTemporaryDirectory() + "quorum-agreement-\(kind)-\(UUID().uuidString.prefix(8)).yml"
        let steps = variants.map { "    - \(kind): \(json($0))" }.joined(separator: "\n")
        try "- hosts: all\n  steps:\n\(steps)\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var collector = DiagnosticCollector()
        _ = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(path, into: &collector)
        var verdicts: [Int: [String]] = [:]
        for diagnostic in collector.diagnostics {
            verdicts[(diagnostic.location?.line ?? 0) - 3, default: []].append(diagnostic.message)
        }
        return verdicts
    }

    /// The run's verdict: nil when the kind is built from the arguments, else why not.
    static func runVerdict(_ kind: any StepKind.Type, _ arguments: Value) -> String? {
        do {
            _ = try kind.init(checked: kind.schema.arguments(rendered: arguments, kind: kind.name, location: nil))
            return nil
        } catch {
            return String(describing: error)
        }
    }

    /// A value as JSON, which YAML reads as the same value.
    static func json(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() ? String(format: "%.1f", d) : String(d)
        case .string(let s):
            let data = try? JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
            return String(decoding: data ?? Data(), as: UTF8.self).dropFirst().dropLast().description
        case .list(let items): return "[" + items.map(json).joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { json(.string($0.key)) + ": " + json($0.value) }.joined(separator: ", ") + "}"
        }
    }

    @Test("every kind of the catalog has an example")
    func everyKindHasAnExample() {
        #expect(Set(StepCatalog.kinds.map { $0.name }) == Set(Self.examples.keys))
    }

    @Test("the loader and the run agree on every variant of every kind's example", arguments: StepCatalog.kinds.map { $0.name })
    func loadAndRunAgree(kind name: String) throws {
        let kind = try #require(StepCatalog.byName[name])
        let example = try #require(Self.examples[name])
        #expect(Self.runVerdict(kind, example) == nil, "the example of \(name) is refused: \(Self.runVerdict(kind, example) ?? "")")
        let variants = Self.variants(of: example, schema: kind.schema)
        let loaded = try Self.loadVerdicts(kind: name, variants)
        var disagreements: [String] = []
        for (index, variant) in variants.enumerated() {
            let load = loaded[index]
            let run = Self.runVerdict(kind, variant)
            switch (load, run) {
            case (nil, let refusal?) where !Self.semanticRules.contains(where: refusal.contains):
                disagreements.append("\(name): \(Self.json(variant)): loads, but the run refuses: \(refusal)")
            case (let problems?, nil):
                disagreements.append("\(name): \(Self.json(variant)): the run accepts, but the loader refuses: \(problems)")
            default:
                break
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
    }
}
