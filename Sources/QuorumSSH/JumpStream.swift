import CLibSSH2
import Foundation

extension SessionCore {
    /// Opens a `direct-tcpip` channel to `host:port` (as seen from this server) and returns one end of a
    /// socketpair whose other end this session pumps to and from the channel, like a tunnel connection. The
    /// next session of a jump runs its handshake over that socket (libssh2 needs a socket descriptor); this
    /// session's thread keeps moving the bytes, so each libssh2 session stays on its own thread. The channel's
    /// open is the next hop's TCP connect, so it is bounded by the next hop's connect timeout (`within`).
    func openStream(toHost host: String, port: Int, within timeout: Duration) throws -> Int32 {
        let op = newOp()
        let channel: OpaquePointer
        do {
            channel = try openDirectChannel(op, toHost: host, port: port, timeoutKind: .connectTimeout, timeout: timeout)
        } catch {
            endOp(op)
            throw error
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            let reason = String(cString: strerror(quorum_errno()))
            orphan(op: op, channel: channel, reopen: nil)
            throw SSHError(.channelFailure, "Cannot create a socket pair for the jump to \(host):\(port) via \(label): \(reason)")
        }
        let client = TunnelClient(op: op, fd: pair[0], sourcePort: 0)
        client.channel = channel
        let stream = TunnelListener(id: newOp(), fd: -1, host: host, port: port)
        endOp(stream.id)
        stream.clients.append(client)
        tunnels.append(stream)
        note("stream to \(host):\(port) via \(label)")
        return pair[1]
    }
}
