import Foundation
import OrderedCollections
import QuorumCore
import QuorumSSH

/// How one host is reached, from its Ansible connection variables and the ssh_config that applies to it.
///
/// As Ansible runs ssh: the name given to ssh (`Host` patterns match it) is `ansible_host`, else the inventory
/// name; `ansible_user`, `ansible_port` and `ansible_ssh_private_key_file` act as `-o User=`, `-o Port=` and
/// `-o IdentityFile=` and so win over the files; `ansible_ssh_common_args` and `ansible_ssh_extra_args` come
/// next (`-o Keyword=value`, `-J`, `-F`, `-i`, `-p`, `-l`); ssh_config last, first value winning.
struct ConnectionSettings {
    var route: SSHRoute

    /// The variables read here, which the preflight needs rendered (no `{{ }}`) to check a host early.
    static let variableNames = [
        "ansible_host", "ansible_ssh_host", "ansible_port", "ansible_ssh_port", "ansible_user", "ansible_ssh_user",
        "ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_ssh_common_args", "ansible_ssh_extra_args",
        "quorum_known_hosts_file", "quorum_ssh_config"
    ]

    /// Throws `SSHConfigError` (a bad ssh_config, bad ssh arguments, an unsupported ProxyCommand); problems
    /// found in a variable are located at the variable's name.
    init(
        host: String, variables: Variables, inventoryDirectory: String, configs: SSHConfigCatalog,
        acceptNewHostKeys: Bool
    ) throws {
        func text(_ names: String...) -> (name: String, value: String)? {
            for name in names { if let v = variables[name]?.scalarText, !v.isEmpty { return (name, v) } }
            return nil
        }
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? "/root"

        var options: [SSHOption] = []
        if let (name, user) = text("ansible_user", "ansible_ssh_user") {
            options.append(SSHOption(keyword: "User", arguments: [user], origin: name))
        }
        if let (name, port) = text("ansible_port", "ansible_ssh_port") {
            options.append(try SSHOption.parse("Port=\(port)", origin: name))
        }
        if let (name, key) = text("ansible_ssh_private_key_file", "ansible_private_key_file") {
            options.append(
                SSHOption(
                    keyword: "IdentityFile", arguments: [FileSystem.resolve(key, relativeTo: inventoryDirectory)],
                    origin: name))
        }
        var argumentsConfigFile: String?
        for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            guard let (origin, value) = text(name) else { continue }
            let parsed = try SSHCommandLine.parse(value, origin: origin)
            options += parsed.options
            if let file = parsed.configFile { argumentsConfigFile = argumentsConfigFile ?? file }
        }

        let configFile =
            text("quorum_ssh_config").map { FileSystem.resolve($0.value, relativeTo: inventoryDirectory) }
            ?? argumentsConfigFile.map { FileSystem.resolve($0, relativeTo: inventoryDirectory) }
        let config = try configs.config(hostFile: configFile)

        let knownHosts = text("quorum_known_hosts_file").map { [FileSystem.resolve($0.value, relativeTo: inventoryDirectory)] }
        let planner = SSHRoutePlanner(
            config: config, home: home, localUser: SSHConfig.localUser,
            agentAvailable: environment["SSH_AUTH_SOCK"] != nil,
            userKnownHostsOverride: knownHosts, acceptNewHostKeys: acceptNewHostKeys)
        let secrets = SSHRoutePlanner.Secrets(
            password: text("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")?.value,
            keyPassphrase: text("ansible_ssh_private_key_passphrase", "quorum_ssh_key_passphrase")?.value)
        let alias = text("ansible_host", "ansible_ssh_host")?.value ?? host
        route = try planner.route(to: alias, name: host, options: options, secrets: secrets)
    }
}
