import QuorumCore

/// Every step kind Quorum knows, by YAML key.
public enum StepCatalog {
    public static let kinds: [any StepKind.Type] = [
        CommandStep.self, FileStep.self, CopyStep.self, TemplateStep.self, LineStep.self,
        IniStep.self, AptStep.self, ServiceStep.self, WaitForStep.self,
        MySQLDatabaseStep.self, MySQLUserStep.self,
        KeystoneDomainStep.self, KeystoneProjectStep.self, KeystoneUserStep.self, KeystoneRoleAssignmentStep.self,
        KeystoneServiceStep.self, KeystoneEndpointStep.self,
        IptablesStep.self, PcsResourceStep.self,
        RabbitMQUserStep.self, HTTPCheckStep.self, HAProxyReloadStep.self
    ]

    public static let byName: [String: any StepKind.Type] = Dictionary(
        kinds.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }
    )
}
