import QuorumCore

/// How a step ended on a host.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    case ok, changed, skipped, failed, unreachable
}

/// The result of one step (or handler) on one host, already redacted: safe to print and store.
public struct StepReport: Sendable, Codable {
    public var host: String
    public var play: String
    public var step: String
    public var kind: String
    public var outcome: Outcome
    /// Wall time in seconds.
    public var duration: Double
    public var diffs: [Diff]
    public var message: String?
    public var error: String?
    /// Where the step is written (`file:line:col`).
    public var location: String
    public var isHandler: Bool
    /// True when `run_once` ran it for the whole play on this host.
    public var runOnce: Bool
    /// True when the step failed but `ignore_errors` let the host go on.
    public var ignored: Bool
    /// Number of loop items, when the step looped.
    public var items: Int?
    /// Set for skipped steps: why.
    public var skipReason: String?
    /// What the step noticed beyond its job (removed or deprecated options…), redacted, never with values.
    public var findings: [Finding] = []
    /// Set in check mode when the step could not know its outcome without acting: not audited, with why.
    public var unchecked: String? = nil
    /// True when a health check failed because the service it looked at does not work (`StepFailure.health`):
    /// the outcome is `failed`; check mode and audits count it as unhealthy (exit 5), apply as failed (exit 2).
    public var unhealthy: Bool = false
}

/// Per-host totals for the recap.
public struct HostRecap: Sendable, Codable, Equatable {
    public var ok = 0
    public var changed = 0
    public var failed = 0
    public var skipped = 0
    public var unreachable = 0
    public var ignored = 0
    /// Failed health checks (also counted in `failed`).
    public var unhealthy = 0

    public init() {}

    mutating func count(_ report: StepReport) {
        switch report.outcome {
        case .ok: ok += 1
        case .changed: changed += 1
        case .skipped: skipped += 1
        case .failed:
            if report.ignored {
                ignored += 1
            } else {
                failed += 1
                if report.unhealthy { unhealthy += 1 }
            }
        case .unreachable: unreachable += 1
        }
    }
}

/// Exit codes (documented in the README).
public enum ExitStatus: Int32, Sendable, Codable {
    /// Success: nothing failed (and in check mode, nothing would change).
    case success = 0
    /// Usage or validation error: nothing was contacted.
    case invalid = 1
    /// A step failed.
    case stepFailed = 2
    /// A host was unreachable.
    case unreachable = 3
    /// Check or audit found changes to make (drift).
    case drift = 4
    /// Check or audit: a health check failed, and nothing worse (no drift, no other failure): the configuration
    /// is as declared but the service does not work. Apply reports a failed health check as `stepFailed`.
    case unhealthy = 5
    /// The run was interrupted (SIGINT, SIGTERM): 128 + SIGINT, as shells report it.
    case interrupted = 130
}

/// The end of a run.
public struct RunSummary: Sendable, Codable {
    public var recap: [String: HostRecap]
    /// Hosts in the order they first appeared.
    public var hosts: [String]
    public var reports: [StepReport]
    public var check: Bool
    public var duration: Double
    public var unreachableErrors: [String: String]
    /// Set when the run was asked to stop: why, and what it left undone.
    public var interruption: InterruptionSummary? = nil

    /// 3 unreachable, else 2 failed, else (check mode) 4 drift, else (check mode) 5 unhealthy. In check mode a
    /// failed health check is not a failed probe: drift, which apply repairs, often explains it, so 4 wins.
    public var exitStatus: ExitStatus {
        if interruption != nil { return .interrupted }
        if recap.values.contains(where: { $0.unreachable > 0 }) { return .unreachable }
        if recap.values.contains(where: { $0.failed - (check ? $0.unhealthy : 0) > 0 }) { return .stepFailed }
        if check && recap.values.contains(where: { $0.changed > 0 }) { return .drift }
        if recap.values.contains(where: { $0.unhealthy > 0 }) { return .unhealthy }
        return .success
    }

    public var totalChanged: Int { recap.values.reduce(0) { $0 + $1.changed } }
}
