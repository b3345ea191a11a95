import Foundation
import QuorumCore
import QuorumSSH

/// Connects over SSH (libssh2) using Ansible's connection variables: `ansible_host`, `ansible_port`,
/// `ansible_user`, `ansible_ssh_private_key_file`, `ansible_password`; host keys are checked strictly
/// against `quorum_known_hosts_file` (relative to the inventory) or `~/.ssh/known_hosts`.
public struct SSHConnector: HostConnector {
    public var inventoryDirectory: String
    public var acceptNewHostKeys: Bool
    public var connectTimeout: Duration
    public var commandTimeout: Duration

    public init(inventoryDirectory: String, acceptNewHostKeys: Bool, connectTimeout: Duration, commandTimeout: Duration) {
        self.inventoryDirectory = inventoryDirectory
        self.acceptNewHostKeys = acceptNewHostKeys
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    public func connect(host: String, variables: Variables) async throws -> any HostSession {
        let settings = ConnectionSettings(host: host, variables: variables, inventoryDirectory: inventoryDirectory)
        let endpoint = SSHEndpoint(host: settings.address, port: settings.port, user: settings.user)
        let policy = HostKeyPolicy(knownHostsFiles: settings.knownHostsFiles, acceptNew: acceptNewHostKeys,
                                   recordFile: settings.knownHostsFiles.first ?? settings.defaultKnownHosts)
        var options = SSHOptions()
        options.connectTimeout = connectTimeout
        try KeepaliveSettings(host: host, variables: variables).apply(to: &options)
        do {
            let connection = try await SSHConnection.connect(endpoint, auth: settings.authMethods, hostKeys: policy, options: options)
            return SSHSession(host: host, connection: connection, commandTimeout: commandTimeout, tunnels: TunnelRegistry())
        } catch {
            throw RemoteError(.unreachable, "\(host) (\(settings.user)@\(settings.address):\(settings.port)): \(error)")
        }
    }
}

/// The connection variables of one host, with Ansible's names and defaults.
struct ConnectionSettings {
    var address: String
    var port: Int
    var user: String
    var authMethods: [SSHAuthMethod]
    var knownHostsFiles: [String]
    var defaultKnownHosts: String

    init(host: String, variables: Variables, inventoryDirectory: String) {
        func text(_ names: String...) -> String? {
            for name in names { if let v = variables[name]?.scalarText, !v.isEmpty { return v } }
            return nil
        }
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? "/root"
        address = text("ansible_host", "ansible_ssh_host") ?? host
        port = Int(text("ansible_port", "ansible_ssh_port") ?? "22") ?? 22
        user = text("ansible_user", "ansible_ssh_user") ?? environment["USER"] ?? "root"
        defaultKnownHosts = home + "/.ssh/known_hosts"
        if let file = text("quorum_known_hosts_file") {
            knownHostsFiles = [FileSystem.resolve(file, relativeTo: inventoryDirectory)]
        } else {
            knownHostsFiles = [defaultKnownHosts]
        }

        var methods: [SSHAuthMethod] = []
        let passphrase = text("ansible_ssh_private_key_passphrase", "quorum_ssh_key_passphrase")
        if let key = text("ansible_ssh_private_key_file", "ansible_private_key_file") {
            methods.append(.keyFile(path: FileSystem.resolve(key, relativeTo: inventoryDirectory), passphrase: passphrase))
        } else {
            for name in ["id_ed25519", "id_ecdsa"] where FileSystem.exists("\(home)/.ssh/\(name)") {
                methods.append(.keyFile(path: "\(home)/.ssh/\(name)", passphrase: passphrase))
            }
        }
        if environment["SSH_AUTH_SOCK"] != nil { methods.append(.agent) }
        if let password = text("ansible_password", "ansible_ssh_pass", "ansible_ssh_password") {
            methods.append(.password(password))
        }
        authMethods = methods
    }
}

/// One host's SSH session, handing out Remotes that share it.
struct SSHSession: HostSession {
    let host: String
    let connection: SSHConnection
    let commandTimeout: Duration
    let tunnels: TunnelRegistry

    func remote(become: BecomeSettings?) -> any Remote {
        SSHRemote(host: host, connection: connection, become: become, commandTimeout: commandTimeout, tunnels: tunnels)
    }

    func close() async {
        await tunnels.closeAll()
        await connection.close()
    }
}
