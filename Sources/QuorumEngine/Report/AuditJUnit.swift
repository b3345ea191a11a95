import Foundation
import QuorumCore

/// The audit as JUnit XML (`--format junit`), so CI systems show drift as failing tests: one testsuite
/// per host, one testcase per step probed (classname = play, name = step). Drift is a `<failure>` with the
/// difference lines, a failed health check a `<failure type="health">` with what is wrong, a failed probe or
/// an unreachable host an `<error>`, a step not audited `<skipped>`;
/// findings go to the step's `<system-out>`, or into its `<failure>` with `--strict`.
public struct AuditJUnit: Sendable {
    public let report: AuditReport
    /// The run's step reports (already redacted), in order.
    public let results: [StepReport]

    public init(report: AuditReport, results: [StepReport]) {
        self.report = report
        self.results = results
    }

    public func render() -> String {
        var suites: [JUnitDocument.Suite] = []
        for host in report.hosts {
            var seen = Set<String>()
            var cases: [JUnitDocument.Case] = []
            for result in results where result.host == host.host {
                let findings = result.findings.filter { seen.insert($0.key).inserted }
                guard var testcase = testcase(result) else { continue }
                if !findings.isEmpty {
                    let text = findings.map { "\($0.severity.rawValue): \($0.file): \($0.message)" }.joined(separator: "\n")
                    if report.strict, testcase.error == nil, testcase.skipped == nil {
                        if testcase.failure != nil {
                            testcase.failure?.text += "\n" + text
                        } else {
                            testcase.failure = .init(
                                type: "finding", message: "\(findings.count) finding\(findings.count == 1 ? "" : "s")",
                                text: text)
                        }
                    } else {
                        testcase.systemOut = text
                    }
                }
                cases.append(testcase)
            }
            suites.append(JUnitDocument.Suite(name: host.host, cases: cases))
        }
        return JUnitDocument(name: "quorum audit", suites: suites, time: report.duration).render()
    }

    /// The testcase of one step report; nil for steps that did not probe (a false `when`, an empty loop).
    func testcase(_ result: StepReport) -> JUnitDocument.Case? {
        var testcase = JUnitDocument.Case(className: result.play, name: result.displayStep, time: result.duration)
        if let reason = result.unchecked, result.outcome != .failed {
            testcase.skipped = reason
            return testcase
        }
        switch result.outcome {
        case .ok:
            break
        case .changed:
            testcase.failure = .init(
                type: "drift", message: "drift: " + (result.message ?? "would change"),
                text: result.diffLines.joined(separator: "\n"))
        case .failed:
            if result.ignored { break }
            if result.unhealthy {
                let problem = result.error ?? "unhealthy"
                testcase.failure = .init(type: "health", message: "health: " + problem, text: problem)
            } else {
                testcase.error = ("failed", result.error ?? "failed")
            }
        case .unreachable:
            testcase.error = ("unreachable", result.error ?? "unreachable")
        case .skipped:
            return nil
        }
        return testcase
    }
}

extension StepReport {
    /// The step's differences as text lines (secrets already masked), for JUnit bodies.
    var diffLines: [String] { diffs.flatMap { DiffText.lines($0).map(\.text) } }
}
