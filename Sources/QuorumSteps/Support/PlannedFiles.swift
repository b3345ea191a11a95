import QuorumCore

/// Check mode: the files whose content an earlier step of the run would rewrite on a host (`copy`, `template`,
/// `ini`, `line`), so that a later `service` with `restart_if_older_than` predicts the restart apply would do
/// once they are written. Apply records nothing: there the files' modification times say it.
enum PlannedFiles {
    static let kind = "file content"

    /// Records that this step would rewrite `path` on the context's host (check mode only).
    static func record(_ path: String, _ context: StepContext) {
        if context.check { context.planned.plan(kind, identity(path, context)) }
    }

    /// Whether an earlier step of this check run would rewrite `path` on the context's host.
    static func wouldChange(_ path: String, _ context: StepContext) -> Bool {
        context.planned.placeholder(kind, identity(path, context)) != nil
    }

    private static func identity(_ path: String, _ context: StepContext) -> String { context.host + " " + path }
}
