import ArgumentParser
import Foundation
import QuorumCore
import QuorumEngine

/// How hosts are reached, shared by every command that connects (`apply`, `audit`, `exec`): host-key policy,
/// connect timeout, the ssh_config file; and the connector built from them.
struct ConnectionOptions: ParsableArguments {
    @Flag(name: .customLong("accept-new-host-keys"), help: "Record unknown host keys instead of refusing them.")
    var acceptNewHostKeys = false

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a host to accept a connection.")
    var connectTimeout: Int = 10

    @Option(
        name: [.customShort("F"), .customLong("ssh-config")],
        help: "ssh_config file to use instead of ~/.ssh/config and /etc/ssh/ssh_config (and any the inventory names).")
    var sshConfig: String?

    /// The SSH connector for `inventory`'s hosts; every route is checked first (exit 1 before any contact).
    /// `commandObserver` sees each remote command as it ends (`-vv`).
    func connector(
        for inventory: Inventory, commandTimeout: Duration,
        commandObserver: (any CommandObserver)? = nil
    ) throws -> SSHConnector {
        let sshConfigs = try Self.sshConfigs(file: sshConfig, inventory: inventory, acceptNewHostKeys: acceptNewHostKeys)
        var connector = SSHConnector(
            inventoryDirectory: inventory.directory, acceptNewHostKeys: acceptNewHostKeys,
            connectTimeout: .seconds(connectTimeout), commandTimeout: commandTimeout,
            sshConfigs: sshConfigs)
        connector.commandObserver = commandObserver
        return connector
    }

    /// Reads the ssh_config files and checks every host's route (exit 1 with every problem located, before any
    /// host is contacted).
    static func sshConfigs(file: String?, inventory: Inventory, acceptNewHostKeys: Bool) throws -> SSHConfigCatalog {
        let (catalog, diagnostics) = SSHConfigCatalog.prepare(
            commandLineFile: file, inventory: inventory,
            acceptNewHostKeys: acceptNewHostKeys)
        Frontend.report(diagnostics)
        if diagnostics.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
        return catalog
    }
}
