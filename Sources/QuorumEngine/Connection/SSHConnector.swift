import Foundation
import QuorumCore
import QuorumSSH
import QuorumSSHRemote

/// Connects over SSH (libssh2) using Ansible's connection variables (`ansible_host`, `ansible_port`,
/// `ansible_user`, `ansible_ssh_private_key_file`, `ansible_password`, `ansible_ssh_common_args`…) and the
/// ssh_config that applies (see `ConnectionSettings`, `SSHConfigCatalog`), through ProxyJump hosts when
/// configured. Host keys are checked strictly against `quorum_known_hosts_file` (relative to the inventory) or
/// the ssh_config's known_hosts files (default `~/.ssh/known_hosts`), plus the global ones.
public struct SSHConnector: HostConnector {
    public var inventoryDirectory: String
    public var acceptNewHostKeys: Bool
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    public var sshConfigs: SSHConfigCatalog
    /// Told of every command run on a host (`-vv`); nil: nobody listens.
    public var commandObserver: (any CommandObserver)?

    public init(
        inventoryDirectory: String, acceptNewHostKeys: Bool, connectTimeout: Duration, commandTimeout: Duration,
        sshConfigs: SSHConfigCatalog = SSHConfigCatalog()
    ) {
        self.inventoryDirectory = inventoryDirectory
        self.acceptNewHostKeys = acceptNewHostKeys
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.sshConfigs = sshConfigs
    }

    public func connect(host: String, variables: Variables) async throws -> any HostSession {
        let settings: ConnectionSettings
        do {
            settings = try ConnectionSettings(
                host: host, variables: variables, inventoryDirectory: inventoryDirectory,
                configs: sshConfigs, acceptNewHostKeys: acceptNewHostKeys)
        } catch {
            throw RemoteError(.unreachable, "\(host): \(error)")
        }
        let route = settings.route
        var options = SSHOptions()
        options.connectTimeout = connectTimeout
        try KeepaliveSettings(host: host, variables: variables).apply(to: &options)
        options.notes = SSHNotes(host: host, commandObserver: commandObserver).receive
        do {
            let connection = try await SSHConnection.connect(route, options: options)
            return SSHSession(
                host: host, connection: connection, commandTimeout: commandTimeout, tunnels: TunnelRegistry(),
                commandObserver: commandObserver)
        } catch {
            let via = route.jumps.isEmpty ? "" : " via " + route.jumps.reversed().map(\.name).joined(separator: " via ")
            throw RemoteError(.unreachable, "\(host)\(via) (\(route.description)): \(error)")
        }
    }
}

/// One host's SSH session, handing out Remotes that share it.
struct SSHSession: HostSession {
    let host: String
    let connection: SSHConnection
    let commandTimeout: Duration
    let tunnels: TunnelRegistry
    let commandObserver: (any CommandObserver)?

    func remote(become: BecomeSettings?) -> any Remote {
        SSHRemote(
            host: host, connection: connection, become: become, commandTimeout: commandTimeout, tunnels: tunnels,
            commandObserver: commandObserver)
    }

    func close() async {
        await tunnels.closeAll()
        await connection.close()
    }
}
