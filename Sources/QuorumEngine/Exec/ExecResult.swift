/// How `quorum exec` ended on one host, already redacted: safe to print.
public struct ExecResult: Sendable, Equatable {
    public enum Ending: Sendable, Equatable {
        /// The command ran and exited with this status.
        case exited(Int32)
        /// The command could not be run or did not end (sudo refused, timeout): why.
        case failed(String)
        /// The host could not be reached, or its connection broke: why.
        case unreachable(String)
        /// The run was asked to stop while the command ran (it may go on on the host).
        case interrupted
        /// The run was asked to stop before this host's turn (`--forks`).
        case notStarted
    }

    public var host: String
    public var ending: Ending
    public var stdout: String
    public var stderr: String
    /// Seconds.
    public var duration: Double

    public init(host: String, ending: Ending, stdout: String = "", stderr: String = "", duration: Double = 0) {
        self.host = host
        self.ending = ending
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }

    public var succeeded: Bool { ending == .exited(0) }
}

/// Every host's result, in inventory order.
public struct ExecSummary: Sendable, Equatable {
    public var results: [ExecResult]
    /// Why the run was asked to stop (`SIGINT`), nil when it was not.
    public var interruption: String?
    /// Seconds.
    public var duration: Double

    public init(results: [ExecResult], interruption: String? = nil, duration: Double = 0) {
        self.results = results
        self.interruption = interruption
        self.duration = duration
    }

    /// 130 interrupted, else 3 when a host was unreachable, else 2 when a command exited non-zero (or could not
    /// run), else 0. A remote exit status is not passed through: it says which host failed, the recap says how.
    public var exitStatus: ExitStatus {
        if interruption != nil { return .interrupted }
        if results.contains(where: { if case .unreachable = $0.ending { true } else { false } }) { return .unreachable }
        if results.contains(where: { !$0.succeeded }) { return .stepFailed }
        return .success
    }

    /// Hosts whose command was still running when the stop came.
    public var stillRunning: [String] { results.filter { $0.ending == .interrupted }.map(\.host) }
    /// Hosts never started because of the stop.
    public var notStarted: [String] { results.filter { $0.ending == .notStarted }.map(\.host) }
}

/// Receives `quorum exec`'s progress as it happens (results already redacted).
public protocol ExecObserver: Sendable {
    /// `command` as it runs on `host`.
    func hostStarted(_ host: String, command: String)
    func hostFinished(_ result: ExecResult)
    func execFinished(_ summary: ExecSummary)
}
