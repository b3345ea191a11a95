import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine
import QuorumSteps

/// `quorum apply`: run playbooks against the inventory (or predict with `--check`).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply playbooks to the inventory's hosts (with --check: predict, write nothing)."
    )

    @Argument(help: "Playbook files, applied in order.")
    var playbooks: [String]

    @Option(name: [.short, .customLong("inventory")], help: "Inventory file (Ansible YAML or INI).")
    var inventory: String

    @Option(help: "Further limit the hosts (a pattern such as ctl1 or controllers:!ctl3).")
    var limit: String?

    @Option(help: "Only run steps with one of these tags (comma separated).")
    var tags: String?

    @Option(name: .customLong("skip-tags"), help: "Skip steps with one of these tags (comma separated).")
    var skipTags: String?

    @Option(help: "How many hosts to work on at once (default: every host of the batch).")
    var forks: Int?

    @Flag(help: "Check mode: run the probes, write nothing, report what would change.")
    var check = false

    @Flag(help: "Show diffs of files and options (secrets masked).")
    var diff = false

    @Option(help: "Write every result as one JSON document to this file (- for stdout).")
    var json: String?

    @Option(name: [.short, .customLong("extra-vars")], help: "Set a variable (name=value); highest precedence.")
    var extraVars: [String] = []

    @Flag(name: .customLong("accept-new-host-keys"), help: "Record unknown host keys instead of refusing them.")
    var acceptNewHostKeys = false

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a host to accept a connection.")
    var connectTimeout: Int = 10

    @Flag(name: .shortAndLong, help: "Say more about each step.")
    var verbose = false

    @OptionGroup var vault: VaultOptions

    func run() async throws {
        let extra = try Frontend.extraVariables(extraVars)
        let keyring = try vault.keyring()
        let loaded = try Frontend.load(inventory: inventory, playbooks: playbooks, extraVars: Set(extra.keys), vault: keyring)
        if let limit { _ = try selectOrFail(loaded.inventory, limit) }

        var options = RunOptions()
        options.check = check
        options.diff = diff
        options.limit = limit
        options.tags = Set((tags ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        options.skipTags = Set((skipTags ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        options.forks = forks
        options.extraVars = extra
        options.acceptNewHostKeys = acceptNewHostKeys
        options.connectTimeout = .seconds(connectTimeout)
        options.vault = keyring

        let redactor = SecretRedactor()
        let connector = SSHConnector(inventoryDirectory: loaded.inventory.directory, acceptNewHostKeys: acceptNewHostKeys,
                                     connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout)
        let engine = Engine(inventory: loaded.inventory, playbooks: loaded.playbooks, catalog: StepCatalog.byName,
                            options: options, connector: connector,
                            observer: ConsoleReporter(showDiff: diff, verbose: verbose), redactor: redactor)
        let summary = await engine.run()
        if let json {
            let command = (["quorum"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            try JSONReport(command: redactor.redact(command), summary: summary).write(to: json)
        }
        if summary.exitStatus != .success { throw ExitCode(summary.exitStatus.rawValue) }
    }

    func selectOrFail(_ inventory: Inventory, _ pattern: String) throws -> [String] {
        do {
            return try inventory.select(pattern)
        } catch {
            Frontend.printError("--limit: \(error)")
            throw ExitCode(1)
        }
    }
}
