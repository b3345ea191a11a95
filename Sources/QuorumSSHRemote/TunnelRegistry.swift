import QuorumSSH

/// The tunnels of one SSH session, one per destination, opened on first use and closed with the session.
public actor TunnelRegistry {
    private var tunnels: [String: SSHTunnel] = [:]

    public init() {}

    func port(to host: String, port: Int, on connection: SSHConnection) async throws -> Int {
        let key = "\(host):\(port)"
        if let tunnel = tunnels[key] { return tunnel.localPort }
        let tunnel = try await connection.openTunnel(toHost: host, port: port)
        tunnels[key] = tunnel
        return tunnel.localPort
    }

    public func closeAll() async {
        for tunnel in tunnels.values { await tunnel.close() }
        tunnels.removeAll()
    }
}
