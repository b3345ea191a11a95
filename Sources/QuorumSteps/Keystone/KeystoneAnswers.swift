import Synchronization

/// Keystone's answers to reads (GET, HEAD) and to password checks during one run, for one Keystone (its URL),
/// shared by every client of the run that talks to it: an apply's read-only preflight client and the steps'
/// own client. A no-change run so asks Keystone each thing once (the preflight is the steps' own check-mode
/// run, and the steps ask the same moments later). Any other request (POST, PATCH, PUT, DELETE) through any
/// of those clients drops every answer, before it is sent and after, so no step sees an answer older than a
/// write of this run.
final class KeystoneAnswers: Sendable {
    private struct State {
        var replies: [String: KeystoneClient.Reply] = [:]
        /// Whether a password logs a user in, by user id and password (memory only, never printed).
        var passwords: [PasswordCheck: Bool] = [:]
    }

    private struct PasswordCheck: Hashable {
        var userID: String
        var password: String
    }

    private let state = Mutex(State())

    init() {}

    /// The cache key of a read: the credentials (their scope decides what Keystone shows) and the request.
    static func key(_ credentials: KeystoneCredentials, _ method: String, _ path: String, _ query: [(String, String)]) -> String {
        let query = query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        return "\(credentials.cacheKey) \(method) \(path)?\(query)"
    }

    /// Only an answer about what exists is kept (a success or a 404), never a refusal or a server error.
    static func isKept(_ status: Int) -> Bool { (200..<300).contains(status) || status == 404 }

    func reply(_ key: String) -> KeystoneClient.Reply? { state.withLock { $0.replies[key] } }

    func store(_ reply: KeystoneClient.Reply, for key: String) {
        guard Self.isKept(reply.status) else { return }
        state.withLock { $0.replies[key] = reply }
    }

    func passwordWorks(userID: String, password: String) -> Bool? {
        state.withLock { $0.passwords[PasswordCheck(userID: userID, password: password)] }
    }

    func storePasswordCheck(userID: String, password: String, works: Bool) {
        state.withLock { $0.passwords[PasswordCheck(userID: userID, password: password)] = works }
    }

    /// Forgets everything: a write is about to change, or has changed, Keystone.
    func drop() { state.withLock { $0 = State() } }
}
