import OrderedCollections

/// The arguments a step runs with, from its arguments rendered for one host.
extension ArgSchema {
    /// `rendered` checked by the same `ArgumentCheck` as at load time (now that no template is left) and in
    /// normal form, for the kind's `init(arguments:)`. Throws a `StepFailure` naming every problem.
    /// `fromDefaults` names arguments only the play's `defaults:` gave (ignored by a kind without them).
    public func arguments(
        rendered: Value, kind: String, fromDefaults: Set<String> = [],
        location: SourceLocation?
    ) throws -> Arguments {
        var check = ArgumentCheck()
        let values = check.arguments(rendered, schema: self, kind: kind, fromDefaults: fromDefaults)
        guard check.problems.isEmpty else { throw StepFailure(check.problems.map(\.message).joined(separator: "; ")) }
        let written = rendered.mapValue ?? (rendered.isNull ? [:] : freeForm.map { [$0: rendered] } ?? [:])
        let filled = fields.filter { $0.defaultValue != nil && (written[$0.name]?.isNull ?? true) }.map(\.name)
        return Arguments(values, location: location, filled: Set(filled))
    }
}
