import QuorumCore
import Testing

@testable import QuorumEngine

/// What `apply --confirm` says after the apply: changes the plan did not show, planned changes not made, and
/// changes the check could not predict, apart.
@Suite struct PlanComparisonTests {
    static func step(
        _ host: String, _ name: String, _ outcome: Outcome, handler: Bool = false, unchecked: String? = nil,
        location: String? = nil
    ) -> StepReport {
        var report = AuditReportTests.step(host, name, outcome, handler: handler, unchecked: unchecked)
        report.location = location ?? "pb.yml:\(name.count):3"
        return report
    }

    @Test("an apply that did exactly the plan")
    func asPlanned() {
        let plan = [Self.step("ctl1", "Banner", .ok), Self.step("ctl2", "Banner", .changed), Self.step("ctl2", "restart", .changed, handler: true)]
        let applied = [Self.step("ctl1", "Banner", .ok), Self.step("ctl2", "Banner", .changed), Self.step("ctl2", "restart", .changed, handler: true)]
        let comparison = PlanComparison(plan: plan, applied: applied)
        #expect(comparison.matches)
        #expect(comparison.asPlanned == 2)
        #expect(comparison.render() == "plan vs apply: as planned (2 changes)\n")
    }

    @Test("changed but not planned, planned but not changed, and not predictable, each named with host, step and place")
    func differences() {
        let plan = [
            Self.step("ctl1", "Banner", .changed),
            Self.step("ctl2", "Banner", .ok),
            Self.step("ctl3", "migrate", .changed, unchecked: "a command is not run in check mode"),
            Self.step("ctl3", "Banner", .changed)
        ]
        let applied = [
            Self.step("ctl1", "Banner", .changed),
            Self.step("ctl2", "Banner", .changed),
            Self.step("ctl2", "restart", .changed, handler: true),
            Self.step("ctl3", "migrate", .changed),
            Self.step("ctl3", "Banner", .failed)
        ]
        let comparison = PlanComparison(plan: plan, applied: applied)
        #expect(!comparison.matches)
        #expect(comparison.unplanned.map { "\($0.host)/\($0.step)" } == ["ctl2/Banner", "ctl2/handler: restart"])
        #expect(comparison.notChanged.map { "\($0.host)/\($0.step)" } == ["ctl3/Banner"])
        #expect(comparison.unpredicted.map { "\($0.host)/\($0.step)" } == ["ctl3/migrate"])
        #expect(
            comparison.render() == """
                plan vs apply: 2 changes not in the plan, 1 planned change not made
                  changed, not planned: ctl2  Banner  (pb.yml:6:3)
                  changed, not planned: ctl2  handler: restart  (pb.yml:7:3)
                  planned, not changed: ctl3  Banner  (pb.yml:6:3)
                  changed, not predictable in check mode: ctl3  migrate  (pb.yml:7:3)

                """)
    }

    @Test("two steps of the same name are told apart by where they are written")
    func sameName() {
        let plan = [Self.step("ctl1", "ini", .changed, location: "pb.yml:10:7")]
        let applied = [Self.step("ctl1", "ini", .changed, location: "pb.yml:20:7")]
        let comparison = PlanComparison(plan: plan, applied: applied)
        #expect(comparison.unplanned.map(\.location) == ["pb.yml:20:7"])
        #expect(comparison.notChanged.map(\.location) == ["pb.yml:10:7"])
    }
}
