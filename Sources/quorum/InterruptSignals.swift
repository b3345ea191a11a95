import Dispatch
import Foundation
import QuorumCore
import QuorumEngine
import Synchronization

/// SIGINT and SIGTERM for the commands that run on hosts (`apply`, `audit`, `exec`), through Dispatch signal sources:
/// no code of ours runs in a signal handler (libdispatch forwards the signal to its own thread, which reads it
/// from a signalfd; our handler runs on a queue). During a run, the first signal asks the run to stop (no new
/// step starts, critical sections finish or are undone, the recap says interrupted, exit 130); a second one
/// exits at once, naming what may be left (e.g. p_haproxy disabled) and the command that puts it right. Outside
/// a run (loading, printing the report), a signal ends the process as it would without the sources.
enum InterruptSignals {
    static let handled: [Int32] = [SIGINT, SIGTERM]
    /// The run in progress, if any, and what the first signal says (nil: the playbook run's message).
    private static let current = Mutex<(run: RunInterruption, stopping: String?)?>(nil)
    /// The sources live as long as the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Whether the command line runs on hosts (the only commands whose signals are trapped).
    static func applies(to arguments: [String]) -> Bool {
        guard let command = arguments.dropFirst().first else { return false }
        return ["apply", "audit", "exec"].contains(command)
    }

    /// Starts taking SIGINT and SIGTERM. Call once, first thing in `main`.
    static func install() {
        sources = handled.map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { received(signal) }
            source.resume()
            return source
        }
    }

    /// Runs `body` (the engine's run) with `interruption` as the target of SIGINT and SIGTERM; `stopping` is what
    /// the first signal says the run does (default: a playbook run's account of steps and critical sections).
    static func during<T>(
        _ interruption: RunInterruption, stopping: String? = nil,
        _ body: () async throws -> T
    ) async rethrows -> T {
        current.withLock { $0 = (interruption, stopping) }
        defer { current.withLock { $0 = nil } }
        return try await body()
    }

    private static func received(_ signal: Int32) {
        guard let current = current.withLock({ $0 }) else {
            // Not in a run: the signal's default action, as if it had never been trapped.
            Foundation.signal(signal, SIG_DFL)
            kill(getpid(), signal)
            return
        }
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        if current.run.requestStop(name) {
            let doing = current.stopping ?? "starting no new step; a step in a critical section finishes it or undoes it, then the recap"
            report("\nquorum: \(name): \(doing) (interrupt again to exit at once)")
        } else {
            report(secondInterruptMessage(name, open: current.run.openSections))
            _exit(ExitStatus.interrupted.rawValue)
        }
    }

    /// What a second interrupt leaves behind: each open critical section, with what to run about it.
    static func secondInterruptMessage(_ name: String, open: [RunInterruption.OpenSection]) -> String {
        guard !open.isEmpty else { return "quorum: second \(name): exiting now; no critical section was open" }
        return
            (["quorum: second \(name): exiting now, in the middle of:"]
            + open.map { "  \($0.host): \($0.ifLeft)" }).joined(separator: "\n")
    }

    private static func report(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
