/// Every failure of the SSH transport. `message` names the host and carries libssh2's own text;
/// it never contains a password or passphrase.
public struct SSHError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        case connectFailed
        case connectTimeout
        case hostKeyUnknown
        case hostKeyChanged
        /// The presented key is marked `@revoked` in known_hosts.
        case hostKeyRevoked
        case authenticationFailed
        case commandTimeout
        case channelFailure
        case forwardingRefused
        case disconnected
        case protocolError
    }

    public var kind: Kind
    public var message: String
    /// The libssh2 error code behind this error, when there is one.
    public var libraryCode: Int32?

    public init(_ kind: Kind, _ message: String, libraryCode: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.libraryCode = libraryCode
    }

    public var description: String { message }
}
