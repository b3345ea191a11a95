/// Resources shared by the steps of one run and created once: a Keystone token, a database connection.
/// Concurrent requests for the same key wait for one creation.
public actor RunCache {
    private var values: [String: any Sendable] = [:]
    private var pending: [String: Task<any Sendable, any Error>] = [:]
    /// The run's own cache, when this one is an apply's preflight cache: `shared` values live there.
    private let run: RunCache?

    /// - Parameter run: the run's cache, for a cache of its own (an apply's preflight) that still shares
    ///   what is safe to share with the run (`shared(_:make:)`).
    public init(sharingWith run: RunCache? = nil) { self.run = run }

    /// Like `value(_:make:)`, but kept in the run's own cache: the same value for an apply's preflight and its
    /// steps (a Keystone token, Keystone's answers to reads), while their resources stay apart.
    public func shared<T: Sendable>(
        _ key: String, as type: T.Type = T.self,
        make: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let run else { return try await value(key, as: type, make: make) }
        return try await run.shared(key, as: type, make: make)
    }

    /// Forgets a `shared` value.
    public func removeShared(_ key: String) async {
        guard let run else { return remove(key) }
        await run.removeShared(key)
    }

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
