import Foundation

/// One SSH login on the way to a host: where, as whom, how to prove it, which host keys to trust.
public struct SSHHop: Sendable {
    /// The name the operator wrote (inventory host, or the jump host as written in ProxyJump), for messages.
    public var name: String
    public var endpoint: SSHEndpoint
    public var auth: [SSHAuthMethod]
    public var hostKeys: HostKeyPolicy

    public init(name: String, endpoint: SSHEndpoint, auth: [SSHAuthMethod], hostKeys: HostKeyPolicy) {
        self.name = name
        self.endpoint = endpoint
        self.auth = auth
        self.hostKeys = hostKeys
    }
}

/// How to reach a host: the jump hosts in order (first one connected directly), then the host itself.
public struct SSHRoute: Sendable {
    public var jumps: [SSHHop]
    public var target: SSHHop

    public init(jumps: [SSHHop], target: SSHHop) {
        self.jumps = jumps
        self.target = target
    }

    /// `user@host:port via user@jump:port …` (last jump first), for messages beside the hop names.
    public var description: String {
        ([target.endpoint] + jumps.reversed().map(\.endpoint)).map(\.description).joined(separator: " via ")
    }
}

/// Turns ssh_config plus command-line-style options into routes, the way OpenSSH would connect:
/// `Host` blocks matched against the alias, first value wins, `HostName %h`, `ProxyJump` chains (each jump
/// host resolved through the same configuration), `IdentityFile` tokens, known_hosts files.
public struct SSHRoutePlanner: Sendable {
    public var config: SSHConfig
    public var home: String
    public var localUser: String
    /// Whether an ssh-agent is available (`SSH_AUTH_SOCK` set).
    public var agentAvailable: Bool
    /// Replaces the user known_hosts files of every hop (Quorum's `quorum_known_hosts_file`).
    public var userKnownHostsOverride: [String]?
    /// `--accept-new-host-keys`.
    public var acceptNewHostKeys: Bool
    public var globalKnownHostsDefault = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]
    static let maxJumpDepth = 8

    public init(
        config: SSHConfig, home: String, localUser: String, agentAvailable: Bool,
        userKnownHostsOverride: [String]? = nil, acceptNewHostKeys: Bool = false
    ) {
        self.config = config
        self.home = home
        self.localUser = localUser
        self.agentAvailable = agentAvailable
        self.userKnownHostsOverride = userKnownHostsOverride
        self.acceptNewHostKeys = acceptNewHostKeys
    }

    /// Secrets for the target only (jump hosts authenticate with keys and the agent).
    public struct Secrets: Sendable {
        public var password: String?
        public var keyPassphrase: String?
        public init(password: String? = nil, keyPassphrase: String? = nil) {
            self.password = password
            self.keyPassphrase = keyPassphrase
        }
    }

    /// The route to `alias` (the name given to ssh). `options` act like ssh's command-line options and win.
    public func route(to alias: String, name: String, options: [SSHOption], secrets: Secrets = Secrets()) throws -> SSHRoute {
        let resolved = config.resolve(alias, options: options, localUser: localUser)
        let explicit = Set(options.filter { $0.keyword == "identityfile" }.flatMap(\.arguments))
        let target = hop(name: name, alias: alias, resolved, secrets: secrets, explicitKeys: explicit)
        let jumps = try self.jumps(of: resolved, depth: 0)
        return SSHRoute(jumps: jumps, target: target)
    }

    /// The hops in front of a host whose settings are `resolved`, first hop first.
    private func jumps(of resolved: SSHHostConfig, depth: Int) throws -> [SSHHop] {
        let list: [SSHJump]
        if let value = resolved.proxyJump {
            list = (try? SSHJump.parseList(value)) ?? []
        } else if let command = resolved.proxyCommand, command.lowercased() != "none" {
            guard let jump = SSHCommandLine.jump(fromProxyCommand: command) else {
                throw SSHConfigError(
                    at: resolved.sources["proxycommand"] ?? "ssh_config",
                    """
                    ProxyCommand `\(command)` is not supported: Quorum runs no proxy commands. Use ProxyJump \
                    (or the form `ssh -W %h:%p bastion`, which Quorum reads as ProxyJump bastion)
                    """)
            }
            list = [jump]
        } else {
            list = []
        }
        guard !list.isEmpty else { return [] }
        guard depth < Self.maxJumpDepth else {
            throw SSHConfigError(
                at: resolved.sources["proxyjump"] ?? resolved.sources["proxycommand"] ?? "ssh_config",
                "ProxyJump chain longer than \(Self.maxJumpDepth) hops (a loop?)")
        }
        var hops: [SSHHop] = []
        for (index, jump) in list.enumerated() {
            var options: [SSHOption] = []
            let origin = "ProxyJump \(jump)"
            if let user = jump.user { options.append(SSHOption(keyword: "User", arguments: [user], origin: origin)) }
            if let port = jump.port { options.append(SSHOption(keyword: "Port", arguments: [String(port)], origin: origin)) }
            let jumpResolved = config.resolve(jump.host, options: options, localUser: localUser)
            // The first hop may itself be behind jumps; the others are reached through the previous hop.
            if index == 0 { hops += try jumps(of: jumpResolved, depth: depth + 1) }
            hops.append(hop(name: jump.host, alias: jump.host, jumpResolved, secrets: Secrets(), explicitKeys: []))
        }
        return hops
    }

    /// One login. Identity files from ssh_config that do not exist are skipped (as OpenSSH does); `explicitKeys`
    /// (given like `-i`) are kept, so a missing one is named when authentication fails.
    private func hop(name: String, alias: String, _ resolved: SSHHostConfig, secrets: Secrets, explicitKeys: Set<String>) -> SSHHop {
        let address = resolved.hostName ?? alias
        let port = resolved.port ?? 22
        let user = resolved.user ?? localUser
        let tokens: [Character: String] = ["d": home, "u": localUser, "h": address, "r": user, "p": String(port), "n": alias]
        func path(_ raw: String) -> String {
            let expanded = SSHConfig.expandTokens(raw, tokens)
            if expanded == "~" { return home }
            if expanded.hasPrefix("~/") { return home + expanded.dropFirst() }
            return expanded
        }

        var auth: [SSHAuthMethod] = []
        if resolved.identityFiles.isEmpty {
            for file in ["id_ed25519", "id_ecdsa"] where FileManager.default.fileExists(atPath: "\(home)/.ssh/\(file)") {
                auth.append(.keyFile(path: "\(home)/.ssh/\(file)", passphrase: secrets.keyPassphrase))
            }
        } else {
            var seen: Set<String> = []
            for raw in resolved.identityFiles {
                let file = path(raw)
                guard seen.insert(file).inserted, explicitKeys.contains(raw) || FileManager.default.fileExists(atPath: file) else { continue }
                auth.append(.keyFile(path: file, passphrase: secrets.keyPassphrase))
            }
        }
        if agentAvailable, resolved.identitiesOnly != true { auth.append(.agent) }
        if let password = secrets.password { auth.append(.password(password)) }

        let userFiles =
            userKnownHostsOverride
            ?? (resolved.userKnownHostsFiles ?? ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"])
            .filter { $0.lowercased() != "none" }.map(path)
        let globalFiles = (resolved.globalKnownHostsFiles ?? globalKnownHostsDefault).filter { $0.lowercased() != "none" }.map(path)
        let strict = resolved.strictHostKeyChecking ?? "yes"
        // `no`/`off` would let OpenSSH connect despite a changed key; Quorum never does, it records unknown keys only.
        let acceptNew = acceptNewHostKeys || ["accept-new", "no", "off", "false"].contains(strict)
        var policy = HostKeyPolicy(
            knownHostsFiles: userFiles + globalFiles, acceptNew: acceptNew,
            recordFile: userFiles.first ?? "\(home)/.ssh/known_hosts")
        policy.hostKeyAlias = resolved.hostKeyAlias
        return SSHHop(name: name, endpoint: SSHEndpoint(host: address, port: port, user: user), auth: auth, hostKeys: policy)
    }
}
