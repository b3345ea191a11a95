/// Thrown inside a critical section when the run is asked to stop, by `checkpoint()` and `interruptible`.
public struct CriticalSectionInterrupted: Error, Sendable {}

/// The handle a critical section's body gets: where it may be cut short when the run is asked to stop.
/// Everything the body does outside `interruptible` runs to its end (e.g. a `pcs` command, bounded by its own
/// timeout), so the undo never races a change still in flight.
public struct CriticalSection: Sendable {
    let interruption: RunInterruption?

    /// Throws `CriticalSectionInterrupted` when the run was asked to stop.
    public func checkpoint() throws {
        if interruption?.isStopRequested == true { throw CriticalSectionInterrupted() }
    }

    /// Runs `operation` (a wait, typically), cancelling it and throwing `CriticalSectionInterrupted` as soon as
    /// the run is asked to stop.
    public func interruptible<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let interruption else { return try await operation() }
        try checkpoint()
        // The operation's value, or nil when the stop came first.
        let ending = try await withThrowingTaskGroup(of: Optional<T>.self) { group -> T?? in
            group.addTask { .some(try await operation()) }
            group.addTask {
                await interruption.stopRequested()
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next()
        }
        guard case .some(.some(let value)) = ending else { throw CriticalSectionInterrupted() }
        return value
    }
}

extension StepContext {
    /// Runs `body`, which takes a shared resource down (e.g. disables p_haproxy) and brings it back, as a critical
    /// section: if the run is asked to stop (SIGINT, SIGTERM) while it runs, the body is cut short at its
    /// `interruptible` parts and checkpoints, then `undo` brings the resource back; a body that ends first
    /// simply finishes. Neither is cancelled with the step. When the run is stopping already, the body never
    /// starts. `ifLeft` says what may be left, and what to run, if the process is killed (a second interrupt)
    /// before the section ends.
    ///
    /// Throws `StepFailure("interrupted …")` when the section was undone (saying whether the undo worked), the
    /// body's own error otherwise.
    public func critical<T: Sendable>(
        _ what: String, ifLeft: String,
        undo: @escaping @Sendable () async throws -> String,
        _ body: @escaping @Sendable (CriticalSection) async throws -> T
    ) async throws -> T {
        guard let interruption = RunInterruption.current else { return try await body(CriticalSection(interruption: nil)) }
        if interruption.isStopRequested {
            throw StepFailure("interrupted before \(what): not started")
        }
        let id = interruption.open(.init(host: host, what: what, ifLeft: ifLeft))
        defer { interruption.close(id) }
        let section = CriticalSection(interruption: interruption)
        // Unstructured tasks: abandoning the step (after the stop's grace) must not cut the body or the undo.
        let outcome = await Task { () -> Result<T, any Error> in
            do { return .success(try await body(section)) } catch { return .failure(error) }
        }.value
        switch outcome {
        case .success(let value):
            return value
        case .failure(let error):
            guard interruption.isStopRequested else { throw error }
            let undone = await Task { () -> Result<String, any Error> in
                do { return .success(try await undo()) } catch { return .failure(error) }
            }.value
            switch undone {
            case .success(let note):
                throw StepFailure("interrupted while \(what): undone, \(note)")
            case .failure(let undoError):
                throw StepFailure("interrupted while \(what), and the undo failed: \(undoError); \(ifLeft)")
            }
        }
    }
}
