import QuorumCore

extension HAProxyReloadStep {
    /// Preflight (the handler may run): the HAProxy running here, if any, can be reloaded without dropping a
    /// connection — master-worker, loading the files `config` validates — so a run meant to be hitless stops
    /// before it writes a stanza it could only apply with a restart.
    public func preflight(_ context: StepContext) async throws {
        _ = try await target(context)
    }
}
