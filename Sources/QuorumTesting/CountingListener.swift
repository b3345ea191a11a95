import Foundation

/// A TCP listener on 127.0.0.1 that counts connection attempts: proof that nothing was contacted.
public final class CountingListener: @unchecked Sendable {
    let fd: Int32
    public let port: Int

    public init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 16) == 0 else { throw TestError("cannot listen on 127.0.0.1") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) | O_NONBLOCK)
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Connections waiting in the backlog (accepted now, then closed).
    public var accepted: Int {
        var count = 0
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { break }
            Foundation.close(client)
            count += 1
        }
        return count
    }

    public func close() { Foundation.close(fd) }
}
