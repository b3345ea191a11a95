import QuorumCore

extension PcsResourceStep {
    /// Preflight: the resource exists in the cluster (`crm_mon`, read-only), whatever the action.
    public func preflight(_ context: StepContext) async throws {
        _ = try await status(context.remote)
    }
}
