import OrderedCollections
import QuorumCore

/// `keystone_project`: a project present or absent, found by name within its domain.
public struct KeystoneProjectStep: KeystoneStepKind {
    public static let name = "keystone_project"
    public static let summary = "A Keystone project present or absent (found by name within its domain)"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "project name"),
            ArgField("domain", .string, "domain name or id (default Default)"),
            KeystoneFields.description,
            KeystoneFields.enabled,
            KeystoneState.field
        ] + KeystoneConnection.fields)

    public let connection: KeystoneConnection
    public let projectName: String
    public let domain: String
    public let description: String?
    public let enabled: Bool?
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        projectName = try arguments.requiredString("name")
        domain = try arguments.string("domain") ?? "Default"
        description = try arguments.string("description")
        enabled = try arguments.bool("enabled")
        state = try KeystoneState(arguments)
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let what = "project \(projectName)"
        let subject = "keystone project \(domain)/\(projectName)"
        guard let domainRef = try await client.owningDomain(domain, state: state, context, for: what) else {
            return StepOutcome(changed: false, message: "absent (no domain \(domain))")
        }
        let existing = domainRef.isPlanned ? nil : try await client.findProject(projectName, domainID: domainRef.id)

        guard state == .present else {
            guard let project = existing else { return StepOutcome(changed: false, message: "absent") }
            return try await client.deleteOutcome("projects", id: project.id, subject: subject, check: context.check)
        }

        guard let project = existing else {
            let diff = Diff(subject: subject, before: nil, after: "present" + (description.map { ", description \($0)" } ?? ""))
            if context.check {
                let placeholder = context.planned.plan(KSPlan.project, KSPlan.scoped(domainRef.name, projectName))
                return StepOutcome(changed: true, diffs: [diff], message: "would create", result: ["id": .string(placeholder)])
            }
            let created: KSProject = try await client.write(
                "POST", "/projects", key: "project",
                body: .object([
                    "project": .object([
                        "name": .string(projectName), "domain_id": .string(domainRef.id),
                        "description": .optional(description), "enabled": .bool(enabled ?? true)
                    ])
                ]))
            return StepOutcome(changed: true, diffs: [diff], message: "created (id \(created.id))", result: ["id": .string(created.id)])
        }

        return try await client.reconcile(
            "projects", member: "project", id: project.id,
            current: (project.description, project.enabled), description: description,
            enabled: enabled, subject: subject, check: context.check)
    }
}
