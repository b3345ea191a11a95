import QuorumCore

/// An apply (or `apply --check`) as JUnit XML (`quorum apply --format junit`), so a CI job shows what failed
/// where: one testsuite per host, one testcase per (host, step) the run reported (classname = play, name =
/// step, `handler: NAME` for handlers). A failed step or an unreachable host is a `<failure>` with the error, a
/// skipped step `<skipped>` with why; a change (or, in check mode, a change to make) passes, noted with its
/// difference lines in `<system-out>`; an ignored failure passes, noted too.
public struct ApplyJUnit: Sendable {
    public let summary: RunSummary

    public init(summary: RunSummary) {
        self.summary = summary
    }

    public func render() -> String {
        let suites = summary.hosts.map { host in
            JUnitDocument.Suite(name: host, cases: summary.reports.filter { $0.host == host }.map(testcase))
        }
        return JUnitDocument(
            name: summary.check ? "quorum apply --check" : "quorum apply", suites: suites,
            time: summary.duration
        ).render()
    }

    func testcase(_ result: StepReport) -> JUnitDocument.Case {
        var testcase = JUnitDocument.Case(className: result.play, name: result.displayStep, time: result.duration)
        switch result.outcome {
        case .ok:
            break
        case .changed:
            let word = summary.check ? "would change" : "changed"
            testcase.systemOut = ([word + (result.message.map { ": " + $0 } ?? "")] + result.diffLines).joined(separator: "\n")
        case .skipped:
            testcase.skipped = result.skipReason ?? "skipped"
        case .failed where result.ignored:
            testcase.systemOut = "failed (ignored): " + (result.error ?? "failed")
        case .failed:
            let error = result.error ?? "failed"
            testcase.failure = .init(type: result.unhealthy ? "health" : "failed", message: error, text: error)
        case .unreachable:
            let error = result.error ?? "unreachable"
            testcase.failure = .init(type: "unreachable", message: error, text: error)
        }
        return testcase
    }
}
