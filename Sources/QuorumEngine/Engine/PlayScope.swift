import OrderedCollections
import QuorumCore

/// The variables each host of a play sees, from low to high precedence: inventory (group then host vars),
/// the play's `vars`, its `vars_files`, then `-e` extra vars; plus the magic variables (`MagicVariable`).
/// Template values are rendered once, here, in dependency order. Registered variables are added as steps run.
struct PlayScope: Sendable {
    let hosts: [String]
    let variables: [String: Variables]

    init(engine: Engine, play: Play, playbook: Playbook, hosts: [String]) throws {
        self.hosts = hosts
        let inventory = engine.inventory
        let resolver = VariableResolver(templates: engine.templates)
        let playDirectory = FileSystem.directory(of: playbook.path)

        let common = MagicVariable.play(
            hosts: hosts, inventory: inventory, check: engine.options.check,
            diff: engine.options.diff, playbookDirectory: playDirectory)

        // Values every host shares (the host lists, `hostvars`) are looked at once, not once per host: which
        // hold no template (rendering leaves them as they are), and their secrets (registering them again
        // changes nothing). Each host's own variables are still all looked at.
        var shared = SharedValues(common)

        // Every host's inventory variables, rendered: `hostvars` gives them to templates.
        var hostvars = OrderedDictionary<String, Value>()
        var inventoryScopes: [String: Variables] = [:]
        for host in inventory.hosts {
            var merged = inventory.variables(for: host)
            for (name, value) in engine.options.extraVars { merged[name] = value }
            for (name, value) in common { merged[name] = value }
            for (name, value) in MagicVariable.host(host, inventory: inventory) { merged[name] = value }
            engine.redactor.register(variables: shared.unregistered(merged))
            engine.redactor.register(declared: engine.secretNames, in: merged)
            let resolved = try resolver.resolve(merged, locations: [:], fallback: play.location, settled: shared.settled)
            engine.redactor.register(declared: engine.secretNames, in: resolved)
            inventoryScopes[host] = resolved
            hostvars[host] = .map(resolved)
        }

        var playVars = Variables()
        var locations: [String: SourceLocation] = [:]
        for named in play.vars {
            playVars[named.name] = named.value
            locations[named.name] = named.location
        }
        for file in play.varsFiles {
            for named in file.variables {
                playVars[named.name] = named.value
                locations[named.name] = named.location
                if file.encrypted { engine.redactor.register(contentsOf: VaultFiles.secretTexts(in: named.value)) }
            }
        }
        engine.redactor.register(variables: playVars)
        engine.redactor.register(declared: engine.secretNames, in: playVars)

        let hostvarsValue = Value.map(hostvars)
        shared = SharedValues(common.merging([MagicVariable.hostvars.rawValue: hostvarsValue]) { $1 })
        var variables: [String: Variables] = [:]
        for host in hosts {
            var merged = inventory.variables(for: host)
            for (name, value) in playVars { merged[name] = value }
            for (name, value) in engine.options.extraVars { merged[name] = value }
            for (name, value) in common { merged[name] = value }
            for (name, value) in MagicVariable.host(host, inventory: inventory) { merged[name] = value }
            merged[MagicVariable.hostvars.rawValue] = hostvarsValue
            let resolved = try resolver.resolve(merged, locations: locations, fallback: play.location, settled: shared.settled)
            engine.redactor.register(variables: shared.unregistered(resolved))
            engine.redactor.register(declared: engine.secretNames, in: resolved)
            variables[host] = resolved
        }
        self.variables = variables
    }

    /// Variables set to the same value on every host of the play, and what is known about them once.
    struct SharedValues {
        /// The shared names whose values hold no template syntax: rendering keeps them as they are.
        let settled: Set<String>
        /// Whether the shared values' secrets are registered (with the first host's variables).
        private var registered = false

        init(_ values: Variables) {
            settled = Set(values.filter { !VariableResolver.containsTemplate($0.value) }.keys)
        }

        /// `variables` (a host's, holding the shared values as they are) to register secrets from: all of them
        /// the first time; later, without the settled shared values (already registered with the same value,
        /// so registering them again would do nothing). Shared values holding templates render per host and
        /// stay.
        mutating func unregistered(_ variables: Variables) -> Variables {
            guard registered else {
                registered = true
                return variables
            }
            return variables.filter { !settled.contains($0.key) }
        }
    }
}
