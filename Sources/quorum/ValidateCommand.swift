import ArgumentParser
import QuorumCore

/// `quorum validate`: load and check playbooks and inventory without contacting any host.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check playbooks and inventory (syntax, step arguments, variables) without contacting any host."
    )

    @Argument(help: "Playbook files.")
    var playbooks: [String]

    @Option(name: [.short, .customLong("inventory")], help: "Inventory file (Ansible YAML or INI).")
    var inventory: String

    @Option(
        name: [.customShort("F"), .customLong("ssh-config")],
        help: "ssh_config file to check instead of ~/.ssh/config and /etc/ssh/ssh_config (and any the inventory names).")
    var sshConfig: String?

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let loaded = try Frontend.load(inventory: inventory, playbooks: playbooks, extraVars: [], vault: try vault.keyring())
        _ = try ConnectionOptions.sshConfigs(file: sshConfig, inventory: loaded.inventory, acceptNewHostKeys: false)
        let steps = loaded.playbooks.reduce(0) { $0 + $1.plays.reduce(0) { $0 + $1.steps.count + $1.handlers.count } }
        print("ok: \(loaded.playbooks.count) playbook(s), \(steps) step(s), \(loaded.inventory.hosts.count) host(s)")
    }
}
