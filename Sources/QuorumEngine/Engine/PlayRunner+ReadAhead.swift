import OrderedCollections
import QuorumCore

extension PlayRunner {
    /// The most steps whose reads are sent together.
    static let readAheadWindow = 32

    /// Plans `readAhead` for one host from the segment's step at `position`: the reads of the consecutive steps
    /// that declare some (`StepKind.plannedReads`), made as the same `become`. The window ends before a step that
    /// declares none, loops, or retries (`until`, `retries`): such a step may act on the host or wait for it to
    /// change, and what was read before it would be old news after it. Arguments are rendered with the variables
    /// known now; a later step whose variables an earlier one still changes may plan a read it will not make (it
    /// is dropped unused) and make the one it needs alone: a plan can cost a read, never change a result.
    func planReadAhead(
        _ readAhead: ReadAhead, steps: [(index: Int, step: Step)], from position: Int, host: String, scope: PlayScope,
        registered: Variables, executor: StepExecutor
    ) {
        let variables = variables(of: host, scope: scope, registered: registered)
        var reads: [RemoteRead] = []
        var become: BecomeSettings?
        var end = position
        while end < steps.count, end - position < Self.readAheadWindow {
            let step = steps[end].step
            guard let kind = engine.catalog[step.kind], step.loop == nil, step.until == nil, step.retries == nil else { break }
            let stepBecome = becomeSettings(step, variables: variables)
            guard end == position || stepBecome == become else { break }
            let stepReads = plannedReads(of: step, kind: kind, variables: variables, executor: executor)
            // A step skipped now reads nothing and writes nothing; one that does neither is the window's end.
            if stepReads?.isEmpty == true { break }
            reads += stepReads ?? []
            become = stepBecome
            end += 1
        }
        readAhead.plan(reads, become: become, windowEnd: end)
    }

    /// The step's reads, nil when it is skipped or cannot be built with the variables known now (it will say why
    /// when it runs).
    private func plannedReads(of step: Step, kind: any StepKind.Type, variables: Variables, executor: StepExecutor) -> [RemoteRead]? {
        do {
            guard try executor.skipReason(step, variables) == nil else { return nil }
            return try executor.instantiate(kind, step, play: play, variables: variables, registeringSecrets: false).plannedReads
        } catch {
            return nil
        }
    }
}
