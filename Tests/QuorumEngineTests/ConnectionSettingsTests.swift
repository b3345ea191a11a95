import Foundation
import OrderedCollections
import QuorumCore
import QuorumSSH
import Testing

@testable import QuorumEngine

/// How a host's connection is worked out from its inventory variables and ssh_config.
@Suite struct ConnectionSettingsTests {
    let dir = NSTemporaryDirectory() + "quorum-conn-" + UUID().uuidString.prefix(8)

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func catalog(_ text: String) throws -> SSHConfigCatalog {
        try SSHConfigCatalog(commandLineFile: try write("ssh_config", text))
    }

    func settings(_ variables: Variables, host: String = "ctl1", configs: SSHConfigCatalog) throws -> ConnectionSettings {
        try ConnectionSettings(host: host, variables: variables, inventoryDirectory: dir, configs: configs, acceptNewHostKeys: false)
    }

    static let config = """
        Host 10.0.0.11
            HostName ctl1.mgmt
            User cfguser
            Port 2200
            ProxyJump ops@bastion
        Host ctl1
            User matched-by-inventory-name
        Host bastion
            HostName 192.0.2.1
        """

    @Test func inventoryVariablesWinAndHostPatternsSeeAnsibleHost() throws {
        let configs = try catalog(Self.config)
        let route = try settings(
            [
                "ansible_host": .string("10.0.0.11"), "ansible_user": .string("root"), "ansible_ssh_private_key_file": .string("keys/ctl"),
                "quorum_known_hosts_file": .string("known_hosts")
            ], configs: configs
        ).route
        // As ssh under Ansible: `Host 10.0.0.11` applies (ansible_host is the name given to ssh), ansible_user wins.
        #expect(route.target.endpoint == SSHEndpoint(host: "ctl1.mgmt", port: 2200, user: "root"))
        #expect(route.target.name == "ctl1")
        if case .keyFile(let path, _) = route.target.auth.first { #expect(path == dir + "/keys/ctl") } else { Issue.record("no key first") }
        #expect(route.jumps.map(\.endpoint) == [SSHEndpoint(host: "192.0.2.1", port: 22, user: "ops")])
        // quorum_known_hosts_file is every hop's user file; the global files are read too.
        #expect(route.jumps[0].hostKeys.knownHostsFiles.first == dir + "/known_hosts")
        #expect(route.target.hostKeys.knownHostsFiles == [dir + "/known_hosts", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"])

        let byName = try settings(["ansible_port": .int(2222)], configs: configs).route
        #expect(byName.target.endpoint == SSHEndpoint(host: "ctl1", port: 2222, user: "matched-by-inventory-name"))
        #expect(byName.jumps.isEmpty)
    }

    @Test func commonArgsComeAfterInventoryVariablesAndBeforeTheFile() throws {
        let configs = try catalog(Self.config)
        let direct = try settings(["ansible_host": .string("10.0.0.11"), "ansible_ssh_common_args": .string("-o ProxyJump=none")], configs: configs).route
        #expect(direct.jumps.isEmpty)
        let jumped = try settings(
            ["ansible_ssh_common_args": .string("-J ops@edge:2201 -o User=fromargs"), "ansible_user": .string("wins")],
            configs: configs
        ).route
        #expect(jumped.jumps.map(\.endpoint) == [SSHEndpoint(host: "edge", port: 2201, user: "ops")])
        #expect(jumped.target.endpoint.user == "wins")
        let proxyCommand = try settings(["ansible_ssh_common_args": .string(#"-o ProxyCommand="ssh -W %h:%p -q ops@bastion""#)], configs: configs).route
        #expect(proxyCommand.jumps.map(\.endpoint) == [SSHEndpoint(host: "192.0.2.1", port: 22, user: "ops")])
    }

    @Test func hostConfigFileFromTheInventory() throws {
        _ = try write("site_ssh_config", "Host *\n  User from-site-file\n")
        let defaults = try SSHConfigCatalog(commandLineFile: nil, defaultChain: [])
        #expect(try settings(["quorum_ssh_config": .string("site_ssh_config")], configs: defaults).route.target.endpoint.user == "from-site-file")
        #expect(
            try settings(["ansible_ssh_common_args": .string("-F site_ssh_config")], configs: defaults).route.target.endpoint.user
                == "from-site-file")
        // The run's -F replaces whatever the inventory names.
        let commandLine = try catalog("Host *\n  User from-command-line\n")
        #expect(
            try settings(["quorum_ssh_config": .string("site_ssh_config")], configs: commandLine).route.target.endpoint.user
                == "from-command-line")
    }

    @Test func badValuesAreLocated() throws {
        let configs = SSHConfigCatalog()
        for (name, value) in [
            ("ansible_port", "twenty-two"), ("ansible_ssh_common_args", "-o ProxyJump=a:b:c"),
            ("ansible_ssh_extra_args", "-o 'unbalanced")
        ] {
            do {
                _ = try settings([name: .string(value)], configs: configs)
                Issue.record("\(name)=\(value) accepted")
            } catch let error as SSHConfigError {
                #expect(error.problems.first?.location == name)
            }
        }
    }

    @Test func preflightReportsEveryProblemBeforeAnyConnection() throws {
        _ = try write("broken_ssh_config", "Host *\n  Port many\n")
        let inventory = try write(
            "hosts.yml",
            """
            all:
              hosts:
                ctl1:
                  ansible_ssh_common_args: "-o ProxyCommand='nc %h %p'"
                ctl2:
                  quorum_ssh_config: broken_ssh_config
                ctl3:
                  ansible_host: "{{ templated }}"
            """)
        let loaded = try Inventory.load(inventory)
        let (_, diagnostics) = SSHConfigCatalog.prepare(commandLineFile: nil, inventory: loaded, acceptNewHostKeys: false, defaultChain: [])
        let errors = diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 2)
        #expect(errors[0].location?.file == inventory)
        #expect(errors[0].location?.line == 4)
        #expect(errors[0].message.contains("ProxyCommand"))
        #expect(errors[1].location == SourceLocation(file: dir + "/broken_ssh_config", line: 2, column: 1))

        let (_, missing) = SSHConfigCatalog.prepare(commandLineFile: dir + "/absent", inventory: loaded, acceptNewHostKeys: false)
        #expect(missing.first?.message.contains("does not exist") == true)
    }
}
