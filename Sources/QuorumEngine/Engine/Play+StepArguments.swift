import OrderedCollections
import QuorumCore

extension Play {
    /// A step's arguments as its kind runs with them, before rendering: the play's `defaults:` for the kind's
    /// family under the step's own. `fromDefaults` names the arguments only the defaults gave.
    func arguments(of step: Step, kind: any StepKind.Type) -> (arguments: Value, fromDefaults: Set<String>) {
        guard let family = kind.defaultsFamily, let shared = defaults[family] else { return (step.arguments, []) }
        let own = step.arguments
        let fromDefaults = Set(shared.mapValue?.keys ?? []).subtracting(own.mapValue?.keys ?? [])
        return (shared.merging(own.isNull ? .map([]) : own), fromDefaults)
    }
}
