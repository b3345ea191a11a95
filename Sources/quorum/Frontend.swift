import ArgumentParser
import Foundation
import QuorumCore
import QuorumSteps
import QuorumVault

/// Loads and checks everything a run needs — inventory, playbooks, static checks — and prints every
/// diagnostic together before any host is contacted.
enum Frontend {
    struct Loaded {
        var inventory: Inventory
        var playbooks: [Playbook]
    }

    /// Vault files (the inventory, `group_vars/`, `host_vars/`, `vars_files`) and inline `!vault` values are
    /// decrypted with `vault`.
    static func load(
        inventory path: String, playbooks paths: [String], extraVars: Set<String>,
        vault: VaultKeyring
    ) throws -> Loaded {
        var diagnostics = DiagnosticCollector()
        var inventory: Inventory?
        do {
            inventory = try Inventory.load(path, vault: vault)
            diagnostics.append(contentsOf: inventory?.warnings ?? [])
        } catch let error as ConfigurationError {
            diagnostics.append(contentsOf: error.diagnostics)
        }
        let loader = PlaybookLoader(catalog: StepCatalog.byName, vault: vault)
        let playbooks = paths.map { loader.loadCollecting($0, into: &diagnostics) }
        if let inventory, !diagnostics.hasErrors {
            diagnostics.append(contentsOf: StaticChecker(inventory: inventory, extraVars: extraVars).check(playbooks))
        }
        report(diagnostics.diagnostics)
        guard let inventory, !diagnostics.hasErrors else { throw ExitCode(1) }
        return Loaded(inventory: inventory, playbooks: playbooks)
    }

    static func report(_ diagnostics: [Diagnostic]) {
        guard !diagnostics.isEmpty else { return }
        let errors = diagnostics.filter { $0.severity == .error }.count
        var text = diagnostics.map(\.description).joined(separator: "\n")
        if errors > 0 { text += "\n\(errors) error\(errors == 1 ? "" : "s"); no host was contacted." }
        printError(text)
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
