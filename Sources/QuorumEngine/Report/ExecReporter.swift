import Foundation
import Synchronization

/// `quorum exec`'s console: each host's output under a `ctl1 | exit 0` header, in inventory order (a host's
/// block is printed once it and every host before it are done), then a recap line per host. On a terminal the
/// live line names the hosts still running.
public final class ExecReporter: ExecObserver {
    private let output: ConsoleOutput
    private let hosts: [String]
    private struct State {
        var done: [String: ExecResult] = [:]
        var printed = 0
    }
    private let state = Mutex(State())

    /// `hosts` in inventory order.
    public init(output: ConsoleOutput, hosts: [String]) {
        self.output = output
        self.hosts = hosts
    }

    public func hostStarted(_ host: String, command: String) {
        output.started(host: host, step: command)
    }

    public func hostFinished(_ result: ExecResult) {
        output.finished(host: result.host)
        state.withLock { state in
            state.done[result.host] = result
            while state.printed < hosts.count, let next = state.done[hosts[state.printed]] {
                output.line(block(next))
                state.printed += 1
            }
        }
    }

    public func execFinished(_ summary: ExecSummary) {
        output.stop()
        output.line(recap(summary))
    }

    func block(_ result: ExecResult) -> String {
        var lines = [result.host + " | " + ending(result.ending, detail: true)]
        lines += Self.lines(result.stdout).map { "  " + $0 }
        lines += Self.lines(result.stderr).map { "  " + paint("stderr: ", .yellow) + $0 }
        return lines.joined(separator: "\n")
    }

    func recap(_ summary: ExecSummary) -> String {
        let width = (summary.results.map(\.host.count).max() ?? 4) + 2
        var text = "\n" + paint("RECAP", .bold)
        if let reason = summary.interruption {
            text += paint(" — interrupted (\(reason))", .red)
        }
        for result in summary.results {
            var line = "  " + result.host.padding(toLength: width, withPad: " ", startingAt: 0) + ending(result.ending, detail: false)
            if case .exited = result.ending { line += String(format: "  %.2fs", result.duration) }
            text += "\n" + line
        }
        if !summary.stillRunning.isEmpty {
            text += "\n  still running when stopped (the command may go on there): " + summary.stillRunning.joined(separator: ", ")
        }
        if !summary.notStarted.isEmpty {
            text += "\n  not started: " + summary.notStarted.joined(separator: ", ")
        }
        return text + String(format: "\n  %.2fs, exit %d", summary.duration, summary.exitStatus.rawValue)
    }

    /// `exit 0`, `exit 2`, `unreachable: why`, `failed: why`, `interrupted`, `not started`; reasons only with `detail`.
    func ending(_ ending: ExecResult.Ending, detail: Bool) -> String {
        switch ending {
        case .exited(let status): return paint("exit \(status)", status == 0 ? .green : .red)
        case .failed(let why): return paint("failed", .red) + (detail ? ": " + why : "")
        case .unreachable(let why): return paint("unreachable", .red) + (detail ? ": " + why : "")
        case .interrupted: return paint("interrupted", .red) + (detail ? ": still running when stopped" : "")
        case .notStarted: return paint("not started", .yellow)
        }
    }

    /// The lines of a command's output, without the final newline; none for empty output.
    static func lines(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var body = Substring(text)
        if body.hasSuffix("\n") { body = body.dropLast() }
        return body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    func paint(_ text: String, _ style: ConsoleReporter.Style) -> String {
        ConsoleReporter.paint(text, style, color: output.traits.color)
    }
}
