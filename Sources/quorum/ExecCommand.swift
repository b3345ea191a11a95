import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine

/// `quorum exec`: one shell command on every host a pattern selects, in parallel, through the connections a run
/// uses (ssh_config, jump hosts, known_hosts, vault); output grouped per host, secrets masked.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one command on the hosts a pattern selects, in parallel, output grouped per host.",
        discussion: """
            The words after -- are shell-quoted and joined into one command line run by /bin/sh on each host \
            (for pipes or $(…) on the host, give them to sh -c: -- sh -c 'systemctl is-active haproxy || true').
            Exit codes: 0 the command exited 0 on every host, 2 it exited non-zero (or could not run) on some host, \
            3 a host was unreachable (3 wins over 2), 1 usage, inventory or pattern error (nothing contacted), \
            130 interrupted.
            """
    )

    @Argument(help: "The hosts: a pattern such as controllers, ctl1 or controllers:!ctl3.")
    var pattern: String

    @Option(name: [.short, .customLong("inventory")], help: "Inventory file (Ansible YAML or INI).")
    var inventory: String

    @Flag(help: "Run the command as root through sudo (ansible_become_password when sudo asks for one).")
    var become = false

    @Option(help: "How many hosts to work on at once (default: all of them).")
    var forks: Int?

    @Flag(name: .shortAndLong, help: "-vv: show the command as sent to each host, with its exit status and time (secrets masked).")
    var verbose: Int

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var vault: VaultOptions
    @OptionGroup var console: ConsoleOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --: quorum exec PATTERN -i INVENTORY -- COMMAND...") }
        if let forks, forks < 1 { throw ValidationError("--forks must be at least 1") }
    }

    func run() async throws {
        let redactor = SecretRedactor()
        let keyring = try vault.keyring()
        let loaded = try Frontend.load(inventory: inventory, playbooks: [], extraVars: [], vault: keyring)
        let hosts = try Self.select(pattern, in: loaded.inventory)

        var options = RunOptions()
        options.forks = forks
        options.vault = keyring
        options.acceptNewHostKeys = connection.acceptNewHostKeys
        options.connectTimeout = .seconds(connection.connectTimeout)
        let output = console.output(STDOUT_FILENO)
        let trace = verbose >= 2 ? CommandTrace(output: output, redactor: redactor) : nil
        let connector = try connection.connector(for: loaded.inventory, commandTimeout: options.commandTimeout, commandObserver: trace)
        let interruption = RunInterruption()
        let engine = Engine(
            inventory: loaded.inventory, options: options, connector: connector, redactor: redactor,
            interruption: interruption)
        let reporter = ExecReporter(output: output, hosts: hosts)
        let summary = await InterruptSignals.during(interruption, stopping: "stopping now: the hosts still running are named below") {
            await engine.exec(Shell.join(command), on: hosts, become: become, observer: reporter)
        }
        if let reason = summary.interruption {
            var text = "quorum exec: interrupted (\(reason))"
            if !summary.stillRunning.isEmpty { text += "; still running on " + summary.stillRunning.joined(separator: ", ") }
            if !summary.notStarted.isEmpty { text += "; not started on " + summary.notStarted.joined(separator: ", ") }
            Frontend.printError(text)
        }
        if summary.exitStatus != .success { throw ExitCode(summary.exitStatus.rawValue) }
    }

    /// The hosts `pattern` selects, in inventory order; a bad pattern, or one that selects nothing, is an error
    /// (exit 1, nothing contacted).
    static func select(_ pattern: String, in inventory: Inventory) throws -> [String] {
        let hosts: [String]
        do {
            hosts = try inventory.select(pattern)
        } catch let error as ConfigurationError {
            Frontend.report(error.diagnostics)
            throw ExitCode(1)
        }
        guard !hosts.isEmpty else {
            Frontend.printError("quorum exec: no host of \(inventory.path) matches `\(pattern)`; no host was contacted.")
            throw ExitCode(1)
        }
        return hosts
    }
}
