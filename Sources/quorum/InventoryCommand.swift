import ArgumentParser
import Foundation
import OrderedCollections
import QuorumCore
import QuorumSteps
import QuorumVault

/// `quorum inventory`: the resolved hosts, groups and variables, secrets masked.
struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Print the inventory's hosts, groups and variables as Quorum resolves them (secrets masked)."
    )

    @Option(name: [.short, .customLong("inventory")], help: "Inventory file (Ansible YAML or INI).")
    var inventory: String

    @Option(help: "Only this host (or pattern).")
    var host: String?

    @Option(name: .customLong("playbook"), help: "Also mask the variables this playbook's plays list under `secrets:` (repeatable).")
    var playbooks: [String] = []

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let loaded: Inventory
        let keyring = try vault.keyring()
        do {
            loaded = try Inventory.load(inventory, vault: keyring)
        } catch let error as ConfigurationError {
            Frontend.report(error.diagnostics)
            throw ExitCode(1)
        }
        let hosts: [String]
        do {
            hosts = try host.map { try loaded.select($0) } ?? loaded.hosts
        } catch {
            Frontend.printError("\(error)")
            throw ExitCode(1)
        }
        var diagnostics = DiagnosticCollector()
        let loader = PlaybookLoader(catalog: StepCatalog.byName, vault: keyring)
        let declared = playbooks.reduce(into: Set<String>()) { $0.formUnion(loader.loadCollecting($1, into: &diagnostics).secretNames) }
        if diagnostics.hasErrors {
            Frontend.report(diagnostics.diagnostics)
            throw ExitCode(1)
        }
        let redactor = SecretRedactor()
        redactor.register(contentsOf: loaded.vaultSecrets)
        redactor.register(contentsOf: keyring.revealedSecrets)
        // Every host's secrets are known before anything is printed.
        for name in loaded.hosts {
            redactor.register(variables: loaded.variables(for: name))
            redactor.register(declared: declared, in: loaded.variables(for: name))
        }
        var out = ""
        if host == nil {
            out += "groups:\n"
            for name in loaded.groups.keys.sorted() {
                out += "  \(name): \(loaded.members(of: name).joined(separator: ", "))\n"
            }
        }
        out += "hosts:\n"
        for name in hosts {
            out += "  \(name):\n"
            for (key, value) in loaded.variables(for: name) {
                let secret = SecretRedactor.isSecretName(key) || declared.contains(key)
                let shown = secret ? SecretRedactor.mask : redactor.redact(value.description)
                out += "    \(key): \(shown)\n"
            }
        }
        print(out, terminator: "")
    }
}
