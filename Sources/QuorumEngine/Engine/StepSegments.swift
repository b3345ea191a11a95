import OrderedCollections
import QuorumCore

/// A stretch of a play's selected steps, run together: either consecutive steps that each host may run at its own
/// pace (one host need not wait for the slowest at every step), or one step every host of the batch runs
/// together, as a barrier: the steps before it are done on every host, and no host goes past it before the others.
struct StepSegment: Sendable {
    /// The steps, with their index in the play.
    var steps: [(index: Int, step: Step)]
    var isBarrier: Bool
}

extension PlayRunner {
    /// The play's selected steps in order, cut at each step that needs the other hosts (`needsOtherHosts`).
    func segments() -> [StepSegment] {
        var result: [StepSegment] = []
        for (index, step) in play.steps.enumerated() where isSelected(step) {
            if needsOtherHosts(step) {
                result.append(StepSegment(steps: [(index, step)], isBarrier: true))
            } else if let last = result.last, !last.isBarrier {
                result[result.count - 1].steps.append((index, step))
            } else {
                result.append(StepSegment(steps: [(index, step)], isBarrier: false))
            }
        }
        return result
    }

    /// A barrier: a step that runs once for the play (its result goes to every host), one on a shared service (what
    /// one host creates or plans there, another's step reads), one that reaches the other hosts (`usesPeers`), a
    /// kind not in the catalog, or one whose name, arguments, loop or conditions name the play's other hosts
    /// (`hostvars`, `groups`, the play's host lists): "on the first controller only", "wait until the database
    /// host answers" expect the other hosts to have done the steps before. Conservative: such a step may well
    /// need no one else, but the engine cannot tell.
    func needsOtherHosts(_ step: Step) -> Bool {
        guard let kind = engine.catalog[step.kind] else { return true }
        if runsOnce(step) || kind.runsOncePerPlay { return true }
        if kind.usesPeers(play.arguments(of: step, kind: kind).arguments) { return true }
        let templates = engine.templates
        var names = Set<String>()
        for text in [step.name].compactMap({ $0 }) + Self.strings(in: step.arguments) + Self.strings(in: step.loop?.value ?? .null) {
            names.formUnion(templates.referencedNames(in: text))
        }
        for condition in step.when + (step.changedWhen ?? []) + (step.failedWhen ?? []) + (step.until ?? []) {
            names.formUnion(templates.referencedNames(inCondition: condition.value))
        }
        return !names.isDisjoint(with: Self.otherHostNames)
    }

    /// The variables that name other hosts of the play, or hold their variables.
    static let otherHostNames: Set<String> = [
        MagicVariable.hostvars.rawValue, MagicVariable.groups.rawValue, MagicVariable.ansiblePlayHosts.rawValue,
        MagicVariable.playHosts.rawValue
    ]

    /// Every string in `value` (map keys too: a template may build one).
    static func strings(in value: Value) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .list(let items): return items.flatMap(strings(in:))
        case .map(let map): return map.keys + map.values.flatMap(strings(in:))
        case .null, .bool, .int, .double: return []
        }
    }
}
