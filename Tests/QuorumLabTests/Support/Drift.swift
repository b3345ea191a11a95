import Foundation
import QuorumTesting
import Testing

/// Drift as (host, step) pairs, written "host/step": what a check run predicts, what an apply run changed.
/// The lab's "check predicts apply" tests compare the two sets through these helpers only.
enum Drift {
    /// `quorum apply PLAYBOOK --check --diff`: the pairs it predicts would change (handlers included), with the
    /// report they come from and what it printed. Steps the check says it cannot know without acting (a command
    /// without an `unless` probe or whose probe cannot tell yet, a wait, not run in check mode; audit lists them as
    /// not audited) are apart, in `unchecked`: compare an apply's
    /// changes without them. Expects exit 4 when something would change and 0 otherwise, no failed step, and
    /// none of `secrets` in anything printed or in the --json report (secret diffs are masked).
    /// The one place where a prediction is read; when the binary has `quorum audit`, the same playbook's audit
    /// must report the same pairs as drift, with the same exit status.
    static func predicted(
        _ playbook: String, _ extra: [String] = [], secrets: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws
        -> (pairs: Set<String>, unchecked: Set<String>, report: RunReport, output: String)
    {
        let check = try QuorumCLI.apply(playbook, ["--check", "--diff"] + extra)
        let report = try #require(check.report, "no --json report:\n\(check.all)", sourceLocation: sourceLocation)
        let changed = report.pairs("changed")
        #expect(
            check.status == (changed.isEmpty ? 0 : 4), "check exited \(check.status) predicting \(changed.sorted()):\n\(check.all)",
            sourceLocation: sourceLocation)
        let unverifiable = report.results.filter { $0.unchecked != nil }
        #expect(
            unverifiable.allSatisfy { ["command", "wait_for"].contains($0.kind) },
            "steps check mode did not verify: \(unverifiable.map { "\($0.host)/\($0.step)" })",
            sourceLocation: sourceLocation)
        let unchecked = Set(unverifiable.map { "\($0.host)/\($0.step)" })
        let pairs = changed.subtracting(unchecked)
        expectNoFailure(check, secrets: secrets, sourceLocation: sourceLocation)
        if let audit = try audited(playbook, extra, secrets: secrets, sourceLocation: sourceLocation) {
            #expect(
                audit.pairs == pairs, "audit reports \(audit.pairs.sorted()), check predicts \(pairs.sorted())",
                sourceLocation: sourceLocation)
            #expect(
                audit.status == check.status, "audit exited \(audit.status), check \(check.status):\n\(audit.output)",
                sourceLocation: sourceLocation)
        }
        return (pairs, unchecked, report, check.stdout)
    }

    /// `quorum apply PLAYBOOK`: the pairs it changed (handlers included). Expects exit 0 and no secret printed.
    static func applied(
        _ playbook: String, _ extra: [String] = [], secrets: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Set<String> {
        let apply = try QuorumCLI.apply(playbook, ["--diff"] + extra)
        #expect(apply.status == 0, "apply exited \(apply.status):\n\(apply.all)", sourceLocation: sourceLocation)
        expectNoFailure(apply, secrets: secrets, sourceLocation: sourceLocation)
        return try #require(apply.report, sourceLocation: sourceLocation).pairs("changed")
    }

    /// True when the built binary has the `audit` command (issue 7; `audit --help` alone exits 0 either way).
    static let hasAudit: Bool = {
        guard let help = try? QuorumCLI.run(["--help"], json: false) else { return false }
        return help.stdout.split(separator: "\n").contains { $0.hasPrefix("  audit ") }
    }()

    /// `quorum audit PLAYBOOK --format json` (schema quorum.audit/1): its drift as the pairs of `hosts[].host`
    /// and `hosts[].drift[].step`, and its exit status; nil without the `audit` command.
    static func audited(
        _ playbook: String, _ extra: [String], secrets: [String],
        sourceLocation: SourceLocation
    ) throws -> (pairs: Set<String>, status: Int32, output: String)? {
        guard hasAudit else { return nil }
        let audit = try QuorumCLI.run(["audit", playbook, "-i", Lab.inventory, "--format", "json"] + extra, json: false)
        guard let document = try? JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any] else {
            Issue.record("audit printed no JSON document (exit \(audit.status)):\n\(audit.all)", sourceLocation: sourceLocation)
            return nil
        }
        expectNoFailure(audit, secrets: secrets, sourceLocation: sourceLocation)
        var pairs: Set<String> = []
        for host in document["hosts"] as? [[String: Any]] ?? [] {
            let failures = host["failures"] as? [Any] ?? []
            #expect(failures.isEmpty && host["status"] as? String != "unreachable", "audit: \(host)", sourceLocation: sourceLocation)
            for drift in host["drift"] as? [[String: Any]] ?? [] {
                pairs.insert("\(host["host"] as? String ?? "?")/\(drift["step"] as? String ?? "?")")
            }
        }
        // A crash (status above 4) keeps the whole stderr: the crashed thread's backtrace is in its middle.
        return (pairs, audit.status, audit.status > 4 ? audit.all : String(audit.all.suffix(3000)))
    }

    private static func expectNoFailure(_ run: QuorumCLI.Run, secrets: [String], sourceLocation: SourceLocation) {
        let failed = run.report?.results.filter { $0.outcome == "failed" || $0.outcome == "unreachable" } ?? []
        #expect(failed.isEmpty, "\(failed.map { "\($0.host)/\($0.step): \($0.outcome) \($0.error ?? "")" })", sourceLocation: sourceLocation)
        for secret in secrets {
            #expect(!run.all.contains(secret), "a password was printed", sourceLocation: sourceLocation)
            #expect(!(run.report?.raw.contains(secret) ?? false), "a password is in the --json report", sourceLocation: sourceLocation)
        }
    }
}
