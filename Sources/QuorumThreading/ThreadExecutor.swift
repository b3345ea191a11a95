import Foundation

/// A serial executor that runs every job on one dedicated thread of its own (never on Swift's cooperative
/// pool), so that blocking C calls of a connection stay on one thread and never starve the pool.
/// The thread ends after `shutdown()`, once the queued jobs ran, calling `onExit` on that thread last.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private let onExit: @Sendable () -> Void

    public init(name: String, onExit: @escaping @Sendable () -> Void = {}) {
        self.onExit = onExit
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    /// Lets the thread end once the jobs already queued have run.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                break
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
        onExit()
    }
}
