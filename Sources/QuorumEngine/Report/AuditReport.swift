import Foundation
import QuorumCore

/// What `quorum audit` found: a check-mode run folded per host into drift, health checks that failed,
/// findings, failures and steps not audited, with the exit code. Encoded, it is the documented `quorum.audit/1` JSON document (README,
/// "quorum audit"); everything in it comes from already redacted step reports, and secret differences
/// carry `********` (or null when absent), never a value.
public struct AuditReport: Sendable, Codable, Equatable {
    public static let schemaName = "quorum.audit/1"

    public var schema: String
    public var command: String
    public var duration: Double
    public var exitCode: Int32
    public var strict: Bool
    public var summary: Summary
    public var hosts: [Host]

    public struct Summary: Sendable, Codable, Equatable {
        public var hosts = 0
        /// Steps that probed a host (skipped and not-audited ones excluded).
        public var probes = 0
        /// (host, step) pairs that would change.
        public var driftedSteps = 0
        public var driftedHosts = 0
        /// Findings after de-duplication per (host, file, subject).
        public var findings = 0
        public var failed = 0
        public var unreachable = 0
        public var notAudited = 0
        /// Health checks that failed, over all hosts.
        public var unhealthy = 0

        enum CodingKeys: String, CodingKey {
            case hosts, probes, findings, failed, unreachable, unhealthy
            case driftedSteps = "drifted_steps", driftedHosts = "drifted_hosts", notAudited = "not_audited"
        }
    }

    /// A host's worst result: unreachable, then failed, drift, unhealthy, clean.
    public enum Status: String, Sendable, Codable {
        case clean, drift, failed, unreachable, unhealthy
    }

    public struct Host: Sendable, Codable, Equatable {
        public var host: String
        public var status: Status
        /// Why the host is unreachable.
        @ExplicitNull public var error: String? = nil
        public var drift: [Drift] = []
        public var findings: [Finding] = []
        public var failures: [Failure] = []
        public var notAudited: [NotAudited] = []
        /// Health checks that found the service not working.
        public var health: [Health] = []

        enum CodingKeys: String, CodingKey {
            case host, status, error, drift, findings, failures, health
            case notAudited = "not_audited"
        }
    }

    public struct Drift: Sendable, Codable, Equatable {
        public var play: String
        public var step: String
        public var kind: String
        public var location: String
        public var handler: Bool
        @ExplicitNull public var message: String? = nil
        public var differences: [Difference]
    }

    public struct Difference: Sendable, Codable, Equatable {
        public var subject: String
        @ExplicitNull public var before: String?
        @ExplicitNull public var after: String?
        public var secret: Bool
        public var file: Bool

        /// A step's difference; a secret one keeps only whether each side exists.
        public init(_ diff: Diff) {
            subject = diff.subject
            secret = diff.secret
            file = diff.isFile
            before = diff.secret ? diff.before.map { _ in SecretRedactor.mask } : diff.before
            after = diff.secret ? diff.after.map { _ in SecretRedactor.mask } : diff.after
        }

        /// The step's `Diff` again, for rendering.
        var diff: Diff { Diff(subject: subject, before: before, after: after, secret: secret, isFile: file) }
    }

    public struct Failure: Sendable, Codable, Equatable {
        public var step: String
        public var location: String
        public var error: String
    }

    /// A health check that failed: what is wrong with the running service.
    public struct Health: Sendable, Codable, Equatable {
        public var step: String
        public var location: String
        public var problem: String
    }

    public struct NotAudited: Sendable, Codable, Equatable {
        public var step: String
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case schema, command, duration, strict, summary, hosts
        case exitCode = "exit_code"
    }

    /// Folds a check-mode run into the report. With `strict`, findings count as drift.
    public init(summary run: RunSummary, command: String, strict: Bool) {
        schema = Self.schemaName
        self.command = command
        duration = run.duration
        self.strict = strict
        var hosts: [Host] = []
        var totals = Summary()
        for name in run.hosts {
            var host = Host(host: name, status: .clean, error: run.unreachableErrors[name])
            var seenFindings = Set<String>()
            for report in run.reports where report.host == name {
                for finding in report.findings where seenFindings.insert(finding.key).inserted {
                    host.findings.append(finding)
                }
                if let reason = report.unchecked, report.outcome != .failed {
                    host.notAudited.append(NotAudited(step: report.displayStep, reason: reason))
                    continue
                }
                switch report.outcome {
                case .changed:
                    host.drift.append(
                        Drift(
                            play: report.play, step: report.step, kind: report.kind, location: report.location,
                            handler: report.isHandler, message: report.message,
                            differences: report.diffs.map(Difference.init)))
                case .failed where !report.ignored && report.unhealthy:
                    host.health.append(
                        Health(
                            step: report.displayStep, location: report.location,
                            problem: report.error ?? "unhealthy"))
                case .failed where !report.ignored:
                    host.failures.append(
                        Failure(
                            step: report.displayStep, location: report.location,
                            error: report.error ?? "failed"))
                case .unreachable:
                    host.error = host.error ?? report.error
                default:
                    break
                }
                if report.isProbe { totals.probes += 1 }
            }
            host.status =
                host.error != nil
                ? .unreachable
                : !host.failures.isEmpty
                    ? .failed
                    : !host.drift.isEmpty || strict && !host.findings.isEmpty
                        ? .drift
                        : !host.health.isEmpty
                            ? .unhealthy
                            : .clean
            totals.driftedSteps += host.drift.count
            totals.driftedHosts += host.drift.isEmpty ? 0 : 1
            totals.findings += host.findings.count
            totals.failed += host.failures.count
            totals.unreachable += host.status == .unreachable ? 1 : 0
            totals.notAudited += host.notAudited.count
            totals.unhealthy += host.health.count
            hosts.append(host)
        }
        totals.hosts = hosts.count
        self.hosts = hosts
        self.summary = totals
        exitCode = Self.exitCode(hosts).rawValue
    }

    /// 3 a host unreachable, else 2 a probe failed, else 4 drift (findings too, when strict), else 5 a health
    /// check failed, else 0. Drift wins over health: it is what apply repairs, and often why a service fails;
    /// 5 alone means the configuration is as declared and the service still does not work.
    static func exitCode(_ hosts: [Host]) -> ExitStatus {
        let statuses = Set(hosts.map(\.status))
        if statuses.contains(.unreachable) { return .unreachable }
        if statuses.contains(.failed) { return .stepFailed }
        if statuses.contains(.drift) { return .drift }
        if statuses.contains(.unhealthy) { return .unhealthy }
        return .success
    }

    public var exitStatus: ExitStatus { ExitStatus(rawValue: exitCode) ?? .stepFailed }

    /// The JSON document (`--format json`, `--json FILE`): every key present, keys sorted (the same run gives
    /// the same bytes).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

extension StepReport {
    /// The step's name as reports show it (`handler: …` for handlers).
    var displayStep: String { (isHandler ? "handler: " : "") + step }

    /// True when the step ran against the host (not skipped, not a connection or variables failure).
    var isProbe: Bool {
        guard unchecked == nil, kind != "connect", kind != "vars" else { return false }
        return outcome == .ok || outcome == .changed || outcome == .failed
    }
}
