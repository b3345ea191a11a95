import OrderedCollections
import QuorumCore

/// `keystone_service`: a service in the catalog, found by name and type.
public struct KeystoneServiceStep: KeystoneStepKind {
    public static let name = "keystone_service"
    public static let summary = "A Keystone catalog service present or absent (found by name and type)"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "service name (e.g. magnum)"),
            ArgField("type", .string, required: true, "service type (e.g. container-infra)"),
            KeystoneFields.description,
            KeystoneFields.enabled,
            KeystoneState.field
        ] + KeystoneConnection.fields)

    public let connection: KeystoneConnection
    public let serviceName: String
    public let type: String
    public let description: String?
    public let enabled: Bool?
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        serviceName = try arguments.requiredString("name")
        type = try arguments.requiredString("type")
        description = try arguments.string("description")
        enabled = try arguments.bool("enabled")
        state = try KeystoneState(arguments)
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let subject = "keystone service \(serviceName) (\(type))"
        let found = try await client.findServices(serviceName, type: type).filter { $0.name == serviceName }
        guard found.count <= 1 else {
            throw StepFailure(
                "\(found.count) services named \(serviceName) of type \(type) (ids \(found.map(\.id).joined(separator: ", "))): "
                    + "remove the duplicates")
        }
        let existing = found.first

        guard state == .present else {
            guard let service = existing else { return StepOutcome(changed: false, message: "absent") }
            return try await client.deleteOutcome("services", id: service.id, subject: subject, check: context.check)
        }

        guard let service = existing else {
            let diff = Diff(subject: subject, before: nil, after: "present" + (description.map { ", description \($0)" } ?? ""))
            if context.check {
                let placeholder = context.planned.plan(KSPlan.service, "\(serviceName)/\(type)")
                context.planned.plan(KSPlan.serviceName, serviceName)
                return StepOutcome(changed: true, diffs: [diff], message: "would create", result: ["id": .string(placeholder)])
            }
            let created: KSService = try await client.write(
                "POST", "/services", key: "service",
                body: .object([
                    "service": .object([
                        "name": .string(serviceName), "type": .string(type),
                        "description": .optional(description), "enabled": .bool(enabled ?? true)
                    ])
                ]))
            return StepOutcome(changed: true, diffs: [diff], message: "created (id \(created.id))", result: ["id": .string(created.id)])
        }

        return try await client.reconcile(
            "services", member: "service", id: service.id,
            current: (service.description, service.enabled), description: description,
            enabled: enabled, subject: subject, check: context.check)
    }
}
