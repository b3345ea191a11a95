/// Privilege escalation for a step: sudo to `user`, with a password when the host needs one.
public struct BecomeSettings: Sendable, Hashable {
    public var user: String
    public var password: String?

    public init(user: String = "root", password: String? = nil) {
        self.user = user
        self.password = password
    }
}
