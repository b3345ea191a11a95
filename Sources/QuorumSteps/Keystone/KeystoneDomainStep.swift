import OrderedCollections
import QuorumCore
import Synchronization

/// `keystone_domain`: a domain present (with its description and enabled flag) or absent, found by name.
public struct KeystoneDomainStep: KeystoneStepKind {
    public static let name = "keystone_domain"
    public static let summary = "A Keystone domain present or absent (found by name)"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "domain name"),
            KeystoneFields.description,
            KeystoneFields.enabled,
            KeystoneState.field
        ] + KeystoneConnection.fields)

    public let connection: KeystoneConnection
    public let domainName: String
    public let description: String?
    public let enabled: Bool?
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        domainName = try arguments.requiredString("name")
        description = try arguments.string("description")
        enabled = try arguments.bool("enabled")
        state = try KeystoneState(arguments)
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let subject = "keystone domain \(domainName)"
        let existing: KSDomain?
        if let found = try await client.findDomain(domainName), found.name == domainName { existing = found } else { existing = nil }

        guard state == .present else {
            guard let domain = existing else { return StepOutcome(changed: false, message: "absent") }
            let diff = Diff(subject: subject, before: "present (id \(domain.id))", after: nil)
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would delete") }
            // Keystone deletes only disabled domains.
            if domain.enabled != false {
                try await client.call("PATCH", "/domains/\(domain.id)", body: .object(["domain": .object(["enabled": .bool(false)])]))
            }
            try await client.call("DELETE", "/domains/\(domain.id)")
            client.known.withLock { $0 = $0.filter { $0.value.id != domain.id } }
            return StepOutcome(changed: true, diffs: [diff], message: "deleted (id \(domain.id))")
        }

        guard let domain = existing else {
            let diff = Diff(subject: subject, before: nil, after: "present" + (description.map { ", description \($0)" } ?? ""))
            if context.check {
                let placeholder = context.planned.plan(KSPlan.domain, domainName)
                return StepOutcome(changed: true, diffs: [diff], message: "would create", result: ["id": .string(placeholder)])
            }
            let created: KSDomain = try await client.write(
                "POST", "/domains", key: "domain",
                body: .object([
                    "domain": .object([
                        "name": .string(domainName), "description": .optional(description), "enabled": .bool(enabled ?? true)
                    ])
                ]))
            return StepOutcome(changed: true, diffs: [diff], message: "created (id \(created.id))", result: ["id": .string(created.id)])
        }

        return try await client.reconcile(
            "domains", member: "domain", id: domain.id,
            current: (domain.description, domain.enabled), description: description,
            enabled: enabled, subject: subject, check: context.check)
    }
}
