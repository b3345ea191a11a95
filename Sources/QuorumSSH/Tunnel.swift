import CLibSSH2
import Foundation

/// A local listener forwarding to a destination as seen from the SSH server (phase 2).
final class TunnelListener {
    var clients: [Int] = []
    func dropClients() {}
    func closeAll() {}
}

extension SessionCore {
    var wantsSSHInput: Bool { !orphans.isEmpty }
    func pumpTunnels() -> Bool { false }
    func appendTunnelPollFDs(_ fds: inout [pollfd]) {}
    func noteTunnelReadiness(_ fds: [pollfd]) {}
}
extension SessionCore {
    func openTunnel(toHost host: String, port: Int) throws -> (id: Int, port: Int) {
        throw SSHError(.forwardingRefused, "Tunnels are not implemented yet (to \(host):\(port) via \(label))")
    }
    func closeTunnel(_ id: Int) {}
}
