import ArgumentParser
import Foundation
import OrderedCollections
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

    @Option(
        name: [.short, .customLong("extra-vars")],
        help: ArgumentHelp(
            "Set variables, highest precedence: name=value, @FILE (YAML or JSON; vault files are decrypted) or a map ({\"name\": value}). Repeatable; later wins.",
            valueName: "vars"))
    var extraVars: [String] = []

    @OptionGroup var connection: ConnectionOptions

    @Flag(
        name: .customLong("skip-preflight"),
        help: "Do not run the read-only preflight (what the run needs, checked before the first write).")
    var skipPreflight = false

    @Flag(name: .customLong("list-hosts"), help: "Print each play's hosts (after --limit) and exit; no host is contacted.")
    var listHosts = false

    @Flag(
        name: [.customLong("list-steps"), .customLong("list-tasks")],
        help: "Print each play's steps (after --tags/--skip-tags) with their tags, and the handlers they may notify, and exit.")
    var listSteps = false

    @Flag(name: .customLong("list-tags"), help: "Print the tags of each play's selected steps and exit.")
    var listTags = false

    @OptionGroup var vault: VaultOptions

    /// True when a `--list-…` flag asks for a listing instead of a run.
    var isListing: Bool { listHosts || listSteps || listTags }

    /// Loads and checks everything (exit 1 on any diagnostic, before contacting a host), then runs the engine.
    func run(check: Bool, diff: Bool, observer: any RunObserver, redactor: SecretRedactor) async throws -> RunSummary {
        try await prepare(redactor: redactor).run(check: check, diff: diff, observer: observer)
    }

    /// Everything a run needs, loaded and checked once (exit 1 on any diagnostic, before contacting a host): a
    /// `--confirm` apply runs it twice, the plan and the apply, asking for the vault password once.
    func prepare(redactor: SecretRedactor) throws -> PreparedRun {
        let (loaded, options) = try load(redactor: redactor)
        let connector = try connection.connector(for: loaded.inventory, commandTimeout: options.commandTimeout)
        return PreparedRun(loaded: loaded, options: options, connector: connector, redactor: redactor)
    }

    /// `--list-hosts`, `--list-steps`, `--list-tags`: printed after loading and validation; no host is contacted
    /// (nor its ssh_config read).
    func list() throws {
        let (loaded, options) = try load(redactor: SecretRedactor())
        let listing = RunListing(
            playbooks: loaded.playbooks, selection: RunSelection(inventory: loaded.inventory, options: options),
            hosts: listHosts, steps: listSteps, tags: listTags)
        print(listing.render(), terminator: "")
    }

    /// The vault, `-e` (values from vault files registered as secrets), inventory and playbooks, `--limit`, and
    /// the run's options.
    private func load(redactor: SecretRedactor) throws -> (Frontend.Loaded, RunOptions) {
        let keyring = try vault.keyring()
        let extra: ExtraVars
        do throws(ConfigurationError) {
            extra = try ExtraVars.parse(extraVars, vault: keyring)
        } catch {
            Frontend.report(error.diagnostics)
            throw ExitCode(1)
        }
        redactor.register(contentsOf: extra.secrets)
        let loaded = try Frontend.load(inventory: inventory, playbooks: playbooks, extraVars: Set(extra.variables.keys), vault: keyring)
        if let limit {
            do {
                _ = try loaded.inventory.select(limit)
            } catch {
                Frontend.printError("--limit: \(error)")
                throw ExitCode(1)
            }
        }

        var options = RunOptions()
        options.limit = limit
        options.tags = Self.tagSet(tags)
        options.skipTags = Self.tagSet(skipTags)
        options.forks = forks
        options.extraVars = extra.variables
        options.acceptNewHostKeys = connection.acceptNewHostKeys
        options.connectTimeout = .seconds(connection.connectTimeout)
        options.vault = keyring
        options.skipPreflight = skipPreflight
        return (loaded, options)
    }

    static func tagSet(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    }

    /// The command line as typed, redacted (secrets given with `-e` are masked once the run knows them).
    static func commandLine(_ redactor: SecretRedactor) -> String {
        redactor.redact((["quorum"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    }
}
