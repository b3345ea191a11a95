import Foundation
import OrderedCollections
import QuorumCore

/// `keystone_endpoint`: one endpoint of a service, found by service + interface + region. A URL that
/// differs is changed in place (the endpoint keeps its id), never duplicated. One step declares all
/// interfaces with a `loop`.
public struct KeystoneEndpointStep: KeystoneStepKind {
    public static let name = "keystone_endpoint"
    public static let summary = "A Keystone endpoint (service + interface + region) with its URL, updated in place"
    public static let schema = ArgSchema(
        [
            ArgField("service", .string, required: true, "service name or id"),
            ArgField("service_type", .string, "service type, when several services share the name"),
            ArgField("interface", .choice(["public", "internal", "admin"]), required: true, "public, internal or admin"),
            ArgField("url", .string, "the endpoint's URL (required when present)"),
            ArgField("region", .string, "region id (default: auth.region; none when neither is given)"),
            KeystoneFields.enabled,
            KeystoneState.field
        ] + KeystoneConnection.fields)

    public let connection: KeystoneConnection
    public let service: String
    public let serviceType: String?
    public let interface: String
    public let url: String?
    public let region: String?
    public let enabled: Bool?
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        service = try arguments.requiredString("service")
        serviceType = try arguments.string("service_type")
        interface = try arguments.choice("interface", ["public", "internal", "admin"]) ?? ""
        guard !interface.isEmpty else { throw StepFailure("argument `interface` is required") }
        state = try KeystoneState(arguments)
        url = try arguments.string("url")
        if state == .present {
            guard let url, !url.isEmpty else { throw StepFailure("argument `url` is required when `state` is present") }
        }
        region = try arguments.string("region") ?? connection.credentials.region
        enabled = try arguments.bool("enabled")
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let subject = "keystone endpoint \(service) \(interface)" + (region.map { " \($0)" } ?? "")

        let services = try await client.findServices(service, type: serviceType)
        guard services.count <= 1 else {
            throw StepFailure(
                "endpoint \(interface) of \(service): \(services.count) services match "
                    + "(\(services.map { "\($0.id) \($0.type)" }.joined(separator: ", "))): give `service_type` or the service id")
        }
        let serviceRef: KSRef
        if let found = services.first {
            serviceRef = .found(id: found.id, name: found.name ?? service)
        } else if let placeholder = serviceType.flatMap({ context.planned.placeholder(KSPlan.service, "\(service)/\($0)") })
            ?? context.planned.placeholder(KSPlan.serviceName, service)
        {
            serviceRef = .planned(placeholder: placeholder, name: service)
        } else if state == .absent {
            return StepOutcome(changed: false, message: "absent (no service \(service))")
        } else {
            throw StepFailure(
                "endpoint \(interface) of \(service): service `\(service)` does not exist in Keystone at "
                    + client.credentials.url.absoluteString)
        }

        if let region, state == .present, try await client.getOptional("/regions/" + region) == nil {
            throw StepFailure(
                "endpoint \(interface) of \(service): region `\(region)` does not exist in Keystone at "
                    + client.credentials.url.absoluteString)
        }

        var existing: [KSEndpoint] = []
        if !serviceRef.isPlanned {
            let all: [KSEndpoint] = try await client.list(
                "/endpoints", key: "endpoints",
                query: [("service_id", serviceRef.id), ("interface", interface)])
            existing = all.filter { $0.serviceID == serviceRef.id && $0.interface == interface && $0.regionID == region }
        }
        guard existing.count <= 1 else {
            throw StepFailure(
                "\(existing.count) \(interface) endpoints of \(service)" + (region.map { " in \($0)" } ?? "")
                    + " (ids \(existing.map(\.id).joined(separator: ", "))): remove the duplicates")
        }

        guard state == .present, let url else {
            guard let endpoint = existing.first else { return StepOutcome(changed: false, message: "absent") }
            let diff = Diff(subject: subject, before: endpoint.url, after: nil)
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would delete (id \(endpoint.id))") }
            try await client.call("DELETE", "/endpoints/\(endpoint.id)")
            return StepOutcome(changed: true, diffs: [diff], message: "deleted (id \(endpoint.id))")
        }

        guard let endpoint = existing.first else {
            let diff = Diff(subject: subject, before: nil, after: url)
            if context.check {
                return StepOutcome(
                    changed: true, diffs: [diff],
                    message: "would create" + (serviceRef.isPlanned ? " (for a service this run would create)" : ""),
                    result: ["id": .string("(planned keystone_endpoint \(service) \(interface))")])
            }
            let created: KSEndpoint = try await client.write(
                "POST", "/endpoints", key: "endpoint",
                body: .object([
                    "endpoint": .object([
                        "service_id": .string(serviceRef.id), "interface": .string(interface), "url": .string(url),
                        "region_id": .optional(region), "enabled": .bool(enabled ?? true)
                    ])
                ]))
            return StepOutcome(changed: true, diffs: [diff], message: "created (id \(created.id))", result: ["id": .string(created.id)])
        }

        var patch: [String: JSONBody] = [:]
        var diffs: [Diff] = []
        if endpoint.url != url {
            patch["url"] = .string(url)
            diffs.append(Diff(subject: subject + " url", before: endpoint.url, after: url))
        }
        if let enabled, enabled != (endpoint.enabled ?? true) {
            patch["enabled"] = .bool(enabled)
            diffs.append(Diff(subject: subject + " enabled", before: String(endpoint.enabled ?? true), after: String(enabled)))
        }
        if patch.isEmpty { return .keystoneOK("present (id \(endpoint.id))", id: endpoint.id) }
        if !context.check {
            try await client.call("PATCH", "/endpoints/\(endpoint.id)", body: .object(["endpoint": .object(patch)]))
        }
        return StepOutcome(
            changed: true, diffs: diffs,
            message: (context.check ? "would update in place " : "updated in place ") + "(id \(endpoint.id))",
            result: ["id": .string(endpoint.id)])
    }
}
