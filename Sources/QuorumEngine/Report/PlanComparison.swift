import QuorumCore

/// What an apply confirmed on a plan (`quorum apply --confirm`) did against that plan: the (host, step) pairs it
/// changed that the plan did not show, and the planned ones it did not change. The operator agreed to the plan,
/// so any difference is worth a line. Steps the check could not predict (not audited: a command without a
/// probe) are listed apart: the plan showed them as unknown, not as unchanged.
public struct PlanComparison: Sendable, Equatable {
    public struct Entry: Sendable, Hashable {
        public var host: String
        /// As reports show it (`handler: …` for handlers).
        public var step: String
        public var location: String

        init(_ report: StepReport) {
            host = report.host
            step = report.displayStep
            location = report.location
        }
    }

    /// Changed by the apply, not in the plan.
    public var unplanned: [Entry] = []
    /// In the plan, not changed by the apply (failed, skipped, or found already right).
    public var notChanged: [Entry] = []
    /// Changed by the apply; the plan could not tell (not audited in check mode).
    public var unpredicted: [Entry] = []
    /// Planned and changed.
    public var asPlanned = 0

    /// `plan`: the check run's step reports; `applied`: the apply's.
    public init(plan: [StepReport], applied: [StepReport]) {
        let planned = Set(plan.filter { $0.outcome == .changed && $0.unchecked == nil }.map(Entry.init))
        let unknown = Set(plan.filter { $0.outcome == .changed && $0.unchecked != nil }.map(Entry.init))
        var changed = Set<Entry>()
        for report in applied where report.outcome == .changed {
            let entry = Entry(report)
            guard changed.insert(entry).inserted else { continue }
            if planned.contains(entry) {
                asPlanned += 1
            } else if unknown.contains(entry) {
                unpredicted.append(entry)
            } else {
                unplanned.append(entry)
            }
        }
        notChanged = plan.filter { $0.outcome == .changed && $0.unchecked == nil }.map(Entry.init)
            .filter { !changed.contains($0) }
    }

    /// True when the apply changed exactly what the plan showed.
    public var matches: Bool { unplanned.isEmpty && notChanged.isEmpty }

    /// One summary line, then a line per difference.
    public func render() -> String {
        var head = "plan vs apply: "
        if matches {
            head += "as planned (\(asPlanned) change\(asPlanned == 1 ? "" : "s"))"
        } else {
            head +=
                "\(unplanned.count) change\(unplanned.count == 1 ? "" : "s") not in the plan, "
                + "\(notChanged.count) planned change\(notChanged.count == 1 ? "" : "s") not made"
        }
        var lines = [head]
        lines += unplanned.map { "  changed, not planned: " + Self.describe($0) }
        lines += notChanged.map { "  planned, not changed: " + Self.describe($0) }
        lines += unpredicted.map { "  changed, not predictable in check mode: " + Self.describe($0) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ entry: Entry) -> String { "\(entry.host)  \(entry.step)  (\(entry.location))" }
}
