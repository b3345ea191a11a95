import QuorumCore

extension IptablesStep {
    static let plannedKind = "iptables_rule"

    static func plannedIdentity(host: String, chain: String, comment: String) -> String { "\(host) \(chain) \(comment)" }

    /// Preflight: a rule placed after or before another needs that anchor rule in the chain now (one
    /// `iptables-save`), unless an earlier `iptables` step of the run puts it there on this host. A rule this
    /// step keeps present is recorded as planned, for the anchored steps after it.
    public func preflight(_ context: StepContext) async throws {
        guard present else { return }
        defer { context.planned.plan(Self.plannedKind, Self.plannedIdentity(host: context.host, chain: chain, comment: comment)) }
        let anchor: String
        switch position {
        case .after(let comment), .before(let comment): anchor = comment
        case .first, .last: return
        }
        if context.planned.placeholder(Self.plannedKind, Self.plannedIdentity(host: context.host, chain: chain, comment: anchor)) != nil {
            return
        }
        let result = try await context.remote.probe(IptablesStep.path + "\niptables-save -t filter")
        guard result.succeeded else {
            throw StepFailure("cannot read the iptables rules (exit \(result.status))", detail: result.stderrText.trimmingTrailingWhitespace())
        }
        let rules = try liveRules(IptablesSave.parse(result.stdoutText))
        _ = try wantedIndex(in: rules.filter { $0.comment != comment })
    }
}
