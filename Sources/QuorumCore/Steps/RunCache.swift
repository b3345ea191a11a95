/// Resources shared by the steps of one run and created once: a Keystone token, a database connection.
/// Concurrent requests for the same key wait for one creation.
public actor RunCache {
    private var values: [String: any Sendable] = [:]
    private var pending: [String: Task<any Sendable, any Error>] = [:]

    public init() {}

    /// The value stored under `key`, creating it with `make` the first time.
    public func value<T: Sendable>(
        _ key: String, as type: T.Type = T.self,
        make: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        if let existing = values[key] as? T { return existing }
        let task: Task<any Sendable, any Error>
        if let running = pending[key] {
            task = running
        } else {
            task = Task { try await make() }
            pending[key] = task
        }
        do {
            let created = try await task.value
            pending[key] = nil
            values[key] = created
            guard let typed = created as? T else { throw StepFailure("cache entry `\(key)` has another type") }
            return typed
        } catch {
            pending[key] = nil
            throw error
        }
    }

    /// Forgets `key` (e.g. a token the server no longer accepts).
    public func remove(_ key: String) { values[key] = nil }

    /// Every stored value, for closing at the end of the run.
    public func allValues() -> [any Sendable] { Array(values.values) }
}

/// A cached resource that must be closed when the run ends (a database connection, a tunnel).
public protocol RunResource: Sendable {
    func close() async
}
