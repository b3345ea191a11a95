import QuorumCore

/// Holds the one session per host for a whole run: opened on first use, reused by every play and step,
/// closed at the end. A host that could not be reached stays unreachable for the rest of the run.
actor ConnectionPool {
    enum Entry {
        case connected(any HostSession)
        case unreachable(String)
    }

    private let connector: any HostConnector
    private var entries: [String: Entry] = [:]
    private var pending: [String: Task<Entry, Never>] = [:]

    init(connector: any HostConnector) { self.connector = connector }

    /// The session for `host`, connecting once; concurrent callers share one attempt.
    func session(for host: String, variables: Variables) async -> Entry {
        if let entry = entries[host] { return entry }
        if let task = pending[host] { return await task.value }
        let connector = self.connector
        let task = Task<Entry, Never> {
            do {
                return .connected(try await connector.connect(host: host, variables: variables))
            } catch {
                return .unreachable(String(describing: error))
            }
        }
        pending[host] = task
        let entry = await task.value
        entries[host] = entry
        pending[host] = nil
        return entry
    }

    /// Marks a host unreachable after its connection broke mid-run.
    func markUnreachable(_ host: String, reason: String) async {
        if case .connected(let session) = entries[host] { await session.close() }
        entries[host] = .unreachable(reason)
    }

    /// Closes every session, all at once: each close waits for its own host only.
    func closeAll() async {
        let sessions = entries.values.compactMap { entry -> (any HostSession)? in
            if case .connected(let session) = entry { return session }
            return nil
        }
        entries.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for session in sessions { group.addTask { await session.close() } }
        }
    }
}
