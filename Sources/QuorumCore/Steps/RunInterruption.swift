import Synchronization

/// A run's stop request (SIGINT, SIGTERM): once set, the engine starts no new step on any host, and steps
/// inside a critical section (`StepContext.critical`) finish it or undo it. Shared by the signal thread, the
/// engine and the steps; the engine makes it `current` for everything the run does.
public final class RunInterruption: Sendable {
    /// A critical section open right now, for the message of a second interrupt (which exits at once).
    public struct OpenSection: Sendable, Equatable {
        public var host: String
        /// What is down while the section is open, e.g. "p_haproxy disabled".
        public var what: String
        /// What may be left, and what to run about it, e.g. "p_haproxy may be left disabled: run `pcs resource enable p_haproxy`".
        public var ifLeft: String

        public init(host: String, what: String, ifLeft: String) {
            self.host = host
            self.what = what
            self.ifLeft = ifLeft
        }
    }

    private struct State {
        var reason: String?
        var sections: [Int: OpenSection] = [:]
        var nextSection = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    /// How long steps still running when the stop comes may take to end on their own before they are abandoned
    /// (their remote command may keep running). Critical sections are never abandoned: they finish or undo.
    public let grace: Duration

    /// The interruption of the run the current task belongs to (nil outside a run, e.g. in a step's unit test).
    @TaskLocal public static var current: RunInterruption?

    public init(grace: Duration = .seconds(5)) { self.grace = grace }

    /// Asks the run to stop; returns false when a stop was already requested (a second interrupt).
    @discardableResult
    public func requestStop(_ reason: String) -> Bool {
        let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume() }
        return true
    }

    public var isStopRequested: Bool { state.withLock { $0.reason != nil } }

    /// Why the run was asked to stop (e.g. "SIGINT"), nil while it runs on.
    public var reason: String? { state.withLock { $0.reason } }

    /// Returns when a stop is requested, or when the calling task is cancelled.
    public func stopRequested() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.reason != nil || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// The critical sections open right now, in the order they were opened.
    public var openSections: [OpenSection] {
        state.withLock { state in state.sections.sorted { $0.key < $1.key }.map(\.value) }
    }

    func open(_ section: OpenSection) -> Int {
        state.withLock { state in
            state.nextSection += 1
            state.sections[state.nextSection] = section
            return state.nextSection
        }
    }

    func close(_ id: Int) {
        _ = state.withLock { $0.sections.removeValue(forKey: id) }
    }
}
