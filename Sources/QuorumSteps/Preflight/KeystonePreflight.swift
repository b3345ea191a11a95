import QuorumCore

extension KeystoneStepKind {
    /// Preflight: Keystone answers with the admin credentials, and what the step refers to (a domain, project,
    /// user, role or service) exists or is created by an earlier step of the run. That is exactly the step's
    /// own check-mode run against the preflight's planned objects: read-only (the client sends no
    /// POST/PATCH/PUT/DELETE), failing with "… does not exist" for a missing reference, and planning what the
    /// step would create so that the steps after it find it.
    public func preflight(_ context: StepContext) async throws {
        _ = try await run(context)
    }
}
