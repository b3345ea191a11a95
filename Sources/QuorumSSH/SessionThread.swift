import CLibSSH2
import Foundation
import Synchronization

/// Something the session thread services while no job is queued (the session's tunnels and keepalives).
/// Called only on the session thread.
protocol IdleService: AnyObject {
    /// Wait (and do background work) until `wakeFD` becomes readable or background work needs attention.
    func idle(wakeFD: Int32)
    /// The thread is about to exit: release every C resource.
    func shutdown()
}

/// A serial executor backed by one dedicated OS thread: the single owner of one libssh2 session.
/// Jobs are queued under a mutex and the thread is woken through an eventfd, so its idle wait can be one
/// `poll()` over the SSH socket, the tunnel sockets and that eventfd.
final class SessionThread: SerialExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are guarded by `state`; `service` is only touched on the thread
    // (set from jobs running on it, read by its loop).
    private struct State {
        var jobs: [UnownedJob] = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let wakeFD: Int32
    private var thread: Thread?
    var service: (any IdleService)?

    init(name: String) {
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        state.withLock { $0.jobs.append(unowned) }
        wake()
    }

    /// Whether the caller runs on this executor's thread.
    var isCurrent: Bool { Thread.current === thread }

    /// Let the thread finish the queued jobs, release the session and exit.
    func stop() {
        state.withLock { $0.stopping = true }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    private func drainWake() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(wakeFD, $0.baseAddress, 8) }
    }

    private func loop() {
        let me = asUnownedSerialExecutor()
        while true {
            let (jobs, stopping) = state.withLock { s -> ([UnownedJob], Bool) in
                let jobs = s.jobs
                s.jobs.removeAll(keepingCapacity: true)
                return (jobs, s.stopping)
            }
            if !jobs.isEmpty {
                for job in jobs { job.runSynchronously(on: me) }
                continue
            }
            if stopping { break }
            if let service {
                service.idle(wakeFD: wakeFD)
            } else {
                var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, -1)
            }
            drainWake()
        }
        service?.shutdown()
        service = nil
        close(wakeFD)
        thread = nil
    }
}
