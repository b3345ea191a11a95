import QuorumCore

extension MySQLLogin {
    /// Preflight: the server answers and takes the admin credentials (a read-only connection, the same one the
    /// run's check mode would use).
    func preflight(_ context: StepContext) async throws {
        _ = try await connection(context)
    }
}

extension MySQLDatabaseStep {
    public func preflight(_ context: StepContext) async throws { try await login.preflight(context) }
}

extension MySQLUserStep {
    public func preflight(_ context: StepContext) async throws { try await login.preflight(context) }
}
