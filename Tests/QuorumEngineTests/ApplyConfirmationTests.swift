import QuorumCore
import Synchronization
import Testing

@testable import QuorumEngine

/// `apply --confirm`: whether to apply after the plan, from the plan, `--yes`, whether stdin is a terminal and
/// the answer; the question is asked only when it must be.
@Suite struct ApplyConfirmationTests {
    /// A plan with drift on one host, or none, or a failed probe, or an unreachable host.
    static func plan(_ outcome: Outcome, unchecked: String? = nil) -> AuditReport {
        let summary = RunSummary(
            recap: [:], hosts: ["ctl1"],
            reports: [
                AuditReportTests.step(
                    "ctl1", "Banner", outcome, error: outcome == .ok || outcome == .changed ? nil : "boom",
                    unchecked: unchecked)
            ],
            check: true, duration: 0.1, unreachableErrors: outcome == .unreachable ? ["ctl1": "refused"] : [:])
        return AuditReport(summary: summary, command: "quorum apply --confirm", strict: false)
    }

    /// The decision, and the questions asked on the way.
    static func decide(
        _ plan: AuditReport, yes: Bool = false, terminal: Bool, answer: String? = nil,
        interrupted: Bool = false
    ) -> (ApplyConfirmation.Decision, [String]) {
        let asked = Mutex<[String]>([])
        let confirmation = ApplyConfirmation(yes: yes, stdinIsTerminal: terminal) { question in
            asked.withLock { $0.append(question) }
            return answer
        }
        let decision = confirmation.decide(plan: plan, interrupted: interrupted)
        return (decision, asked.withLock { $0 })
    }

    @Test(
        "on a terminal: asked once; y or yes (any case, spaces) applies, anything else or end of input declines",
        arguments: [
            ("y", true), ("yes", true), (" YES \n", true), ("Y", true), ("n", false), ("", false), ("yep", false), (nil, false)
        ])
    func terminal(answer: String?, applies: Bool) {
        let (decision, asked) = Self.decide(Self.plan(.changed), terminal: true, answer: answer)
        #expect(decision == (applies ? .apply : .declined))
        #expect(asked == ["Apply these changes? [y/N] "])
    }

    @Test("--yes applies without asking, terminal or not")
    func yes() {
        for terminal in [true, false] {
            let (decision, asked) = Self.decide(Self.plan(.changed), yes: true, terminal: terminal)
            #expect(decision == .apply)
            #expect(asked.isEmpty)
        }
    }

    @Test("no terminal and no --yes: stop after the plan, exit 4, without reading stdin")
    func noTerminal() throws {
        let (decision, asked) = Self.decide(Self.plan(.changed), terminal: false, answer: "y")
        #expect(decision == .noTerminal)
        #expect(asked.isEmpty)
        let stop = try #require(decision.stop)
        #expect(stop.status == .drift && stop.message.contains("not a terminal") && stop.message.contains("--yes"))
    }

    @Test("nothing planned (no drift; a step the check cannot predict is not a plan): exit 0, no question, even with --yes")
    func nothingPlanned() throws {
        for plan in [Self.plan(.ok), Self.plan(.changed, unchecked: "a command is not run in check mode")] {
            for yes in [false, true] {
                let (decision, asked) = Self.decide(plan, yes: yes, terminal: true, answer: "y")
                #expect(decision == .nothingPlanned)
                #expect(asked.isEmpty)
                #expect(try #require(decision.stop).status == .success)
            }
        }
    }

    @Test("a plan that failed, found a host unreachable or was interrupted: its own exit code, nothing applied, even with --yes")
    func planFailed() throws {
        #expect(Self.decide(Self.plan(.failed), yes: true, terminal: true).0 == .planFailed(.stepFailed))
        #expect(Self.decide(Self.plan(.unreachable), yes: true, terminal: true).0 == .planFailed(.unreachable))
        #expect(Self.decide(Self.plan(.changed), yes: true, terminal: true, interrupted: true).0 == .planFailed(.interrupted))
        #expect(try #require(ApplyConfirmation.Decision.planFailed(.unreachable).stop).status == .unreachable)
    }

    @Test("declined: exit 0 and says nothing was applied")
    func declined() throws {
        let stop = try #require(ApplyConfirmation.Decision.declined.stop)
        #expect(stop.status == .success && stop.message.hasSuffix("nothing applied"))
        #expect(ApplyConfirmation.Decision.apply.stop == nil)
    }
}
