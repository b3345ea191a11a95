import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine
import QuorumSteps

/// What `apply` and `audit` share: playbooks, inventory, host and step selection, connection settings and
/// the vault, and the way a run is set up from them.
struct RunArguments: ParsableArguments {
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

    @Option(name: [.short, .customLong("extra-vars")], help: "Set a variable (name=value); highest precedence.")
    var extraVars: [String] = []

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .customLong("skip-preflight"),
          help: "Do not run the read-only preflight (what the run needs, checked before the first write).")
    var skipPreflight = false

    @OptionGroup var vault: VaultOptions

    /// Loads and checks everything (exit 1 on any diagnostic, before contacting a host), then runs the engine.
    func run(check: Bool, diff: Bool, observer: any RunObserver, redactor: SecretRedactor) async throws -> RunSummary {
        let extra = try Frontend.extraVariables(extraVars)
        let keyring = try vault.keyring()
        let loaded = try Frontend.load(inventory: inventory, playbooks: playbooks, extraVars: Set(extra.keys), vault: keyring)
        if let limit {
            do {
                _ = try loaded.inventory.select(limit)
            } catch {
                Frontend.printError("--limit: \(error)")
                throw ExitCode(1)
            }
        }

        var options = RunOptions()
        options.check = check
        options.diff = diff
        options.limit = limit
        options.tags = Self.tagSet(tags)
        options.skipTags = Self.tagSet(skipTags)
        options.forks = forks
        options.extraVars = extra
        options.acceptNewHostKeys = connection.acceptNewHostKeys
        options.connectTimeout = .seconds(connection.connectTimeout)
        options.vault = keyring
        options.skipPreflight = skipPreflight

        let connector = try connection.connector(for: loaded.inventory, commandTimeout: options.commandTimeout,
                                                 commandObserver: observer.commandObserver)
        let interruption = RunInterruption()
        let engine = Engine(inventory: loaded.inventory, playbooks: loaded.playbooks, catalog: StepCatalog.byName,
                            options: options, connector: connector, observer: observer, redactor: redactor,
                            interruption: interruption)
        return await InterruptSignals.during(interruption) { await engine.run() }
    }

    static func tagSet(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    }

    /// The command line as typed, redacted (secrets given with `-e` are masked once the run knows them).
    static func commandLine(_ redactor: SecretRedactor) -> String {
        redactor.redact((["quorum"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    }
}
