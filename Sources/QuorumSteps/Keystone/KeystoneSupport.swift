import Foundation
import OrderedCollections
import QuorumCore
import Synchronization

/// The connection arguments every Keystone step shares: `auth: {url, username, password, project,
/// user_domain, project_domain, region}` and `via: tunnel|direct` (default tunnel).
public struct KeystoneConnection: Sendable, Equatable {
    public var credentials: KeystoneCredentials
    public var via: KeystoneVia

    /// Inner fields are checked here rather than by the schema: a step may give part of `auth` and the
    /// play's `defaults: {keystone: {auth: …}}` the rest.
    public static let authSchema = ArgSchema([
        ArgField("url", .string, required: true, "Identity v3 URL as the controller sees it, e.g. http://VIP:5000/v3"),
        ArgField("username", .string, required: true, "admin user"),
        ArgField("password", .string, required: true, secret: true, "admin password"),
        ArgField("project", .string, required: true, "project the admin token is scoped to (e.g. admin)"),
        ArgField("user_domain", .string, "domain of the admin user (default Default)"),
        ArgField("project_domain", .string, "domain of that project (default Default)"),
        ArgField("region", .string, "region of endpoints that name none")
    ])

    public static let fields: [ArgField] = [
        ArgField("auth", .object(authSchema), required: true, "Keystone admin credentials (usually play `defaults: {keystone: {auth: …}}`)"),
        HTTPVia.field("Keystone")
    ]

    public init(credentials: KeystoneCredentials, via: KeystoneVia = .tunnel) {
        self.credentials = credentials
        self.via = via
    }

    public init(arguments: Arguments) throws {
        guard let auth = try arguments.map("auth") else {
            throw StepFailure("argument `auth` is required (set it once with `defaults: {keystone: {auth: …}}`)")
        }
        let inner = Arguments(auth, location: arguments.location)
        credentials = KeystoneCredentials(
            url: try KeystoneCredentials.normalize(try inner.requiredString("url")),
            username: try inner.requiredString("username"),
            password: try inner.requiredString("password"),
            project: try inner.requiredString("project"),
            userDomain: try inner.string("user_domain") ?? "Default",
            projectDomain: try inner.string("project_domain") ?? "Default",
            region: try inner.string("region"))
        via = try HTTPVia(arguments)
    }
}

/// `present` or `absent`.
enum KeystoneState: String, Sendable {
    case present, absent

    static let field = ArgField("state", .choice(["present", "absent"]), "present (default) or absent")

    init(_ arguments: Arguments) throws {
        self = KeystoneState(rawValue: try arguments.choice("state", ["present", "absent"]) ?? "present") ?? .present
    }
}

// MARK: - Identity v3 objects (only the fields Quorum compares)

struct KSDomain: Decodable, Sendable {
    var id: String
    var name: String
    var description: String?
    var enabled: Bool?
}

struct KSProject: Decodable, Sendable {
    var id: String
    var name: String
    var domainID: String
    var description: String?
    var enabled: Bool?

    enum CodingKeys: String, CodingKey {
        case id, name, description, enabled
        case domainID = "domain_id"
    }
}

struct KSUser: Decodable, Sendable {
    var id: String
    var name: String
    var domainID: String
    var defaultProjectID: String?
    var enabled: Bool?

    enum CodingKeys: String, CodingKey {
        case id, name, enabled
        case domainID = "domain_id"
        case defaultProjectID = "default_project_id"
    }
}

struct KSService: Decodable, Sendable {
    var id: String
    var name: String?
    var type: String
    var description: String?
    var enabled: Bool?
}

struct KSEndpoint: Decodable, Sendable {
    var id: String
    var serviceID: String
    var interface: String
    var url: String
    var regionID: String?
    var enabled: Bool?

    enum CodingKeys: String, CodingKey {
        case id, interface, url, enabled
        case serviceID = "service_id"
        case regionID = "region_id"
    }
}

struct KSRole: Decodable, Sendable {
    var id: String
    var name: String
    var domainID: String?

    enum CodingKeys: String, CodingKey {
        case id, name
        case domainID = "domain_id"
    }
}

/// An id found in Keystone, or a placeholder for an object an earlier step would create (check mode).
enum KSRef: Sendable, Equatable {
    case found(id: String, name: String)
    case planned(placeholder: String, name: String)

    var id: String {
        switch self {
        case .found(let id, _), .planned(let id, _): return id
        }
    }

    var name: String {
        switch self {
        case .found(_, let name), .planned(_, let name): return name
        }
    }

    var isPlanned: Bool { if case .planned = self { return true } else { return false } }
}

/// Kinds and identities under which check mode records what it would create (`PlannedObjects`).
enum KSPlan {
    static let domain = "keystone_domain"
    static let project = "keystone_project"
    static let user = "keystone_user"
    static let service = "keystone_service"
    /// Services are also planned by name alone: endpoints name their service without its type.
    static let serviceName = "keystone_service_name"

    static func scoped(_ domain: String, _ name: String) -> String { "\(domain)/\(name)" }
}

// MARK: - Lookups shared by the steps

extension KeystoneClient {
    /// The domain named `name` (or with that id).
    func findDomain(_ name: String) async throws -> KSDomain? {
        let byName: [KSDomain] = try await list("/domains", key: "domains", query: [("name", name)])
        if let first = byName.first { return first }
        guard let data = try await getOptional("/domains/" + name) else { return nil }
        return try decode(data, key: "domain", method: "GET", path: "/domains/" + name)
    }

    /// A domain that exists, or that an earlier step of this check run would create; otherwise an error.
    func resolveDomain(_ name: String, _ context: StepContext, for what: String) async throws -> KSRef {
        if let known = known.withLock({ $0["domain " + name] }) { return known }
        if let domain = try await findDomain(name) {
            let ref = KSRef.found(id: domain.id, name: domain.name)
            known.withLock { $0["domain " + name] = ref }
            return ref
        }
        if let placeholder = context.planned.placeholder(KSPlan.domain, name) { return .planned(placeholder: placeholder, name: name) }
        throw StepFailure("\(what): domain `\(name)` does not exist in Keystone at \(credentials.url.absoluteString)")
    }

    func findProject(_ name: String, domainID: String) async throws -> KSProject? {
        let found: [KSProject] = try await list("/projects", key: "projects", query: [("name", name), ("domain_id", domainID)])
        return found.first
    }

    func findUser(_ name: String, domainID: String) async throws -> KSUser? {
        let found: [KSUser] = try await list("/users", key: "users", query: [("name", name), ("domain_id", domainID)])
        return found.first
    }

    /// A project in `domain` that exists or is planned.
    func resolveProject(_ name: String, domain: KSRef, _ context: StepContext, for what: String) async throws -> KSRef {
        if !domain.isPlanned, let project = try await findProject(name, domainID: domain.id) {
            return .found(id: project.id, name: project.name)
        }
        if let placeholder = context.planned.placeholder(KSPlan.project, KSPlan.scoped(domain.name, name)) {
            return .planned(placeholder: placeholder, name: name)
        }
        throw StepFailure("\(what): project `\(name)` does not exist in domain `\(domain.name)`")
    }

    /// A user in `domain` that exists or is planned.
    func resolveUser(_ name: String, domain: KSRef, _ context: StepContext, for what: String) async throws -> KSRef {
        if !domain.isPlanned, let user = try await findUser(name, domainID: domain.id) {
            return .found(id: user.id, name: user.name)
        }
        if let placeholder = context.planned.placeholder(KSPlan.user, KSPlan.scoped(domain.name, name)) {
            return .planned(placeholder: placeholder, name: name)
        }
        throw StepFailure("\(what): user `\(name)` does not exist in domain `\(domain.name)`")
    }

    /// Global roles by name (or id).
    func resolveRole(_ name: String, for what: String) async throws -> KSRef {
        if let known = known.withLock({ $0["role " + name] }) { return known }
        let ref = try await lookUpRole(name, for: what)
        known.withLock { $0["role " + name] = ref }
        return ref
    }

    private func lookUpRole(_ name: String, for what: String) async throws -> KSRef {
        let roles: [KSRole] = try await list("/roles", key: "roles", query: [("name", name)])
        if let role = roles.first(where: { $0.domainID == nil }) ?? roles.first { return .found(id: role.id, name: role.name) }
        if let data = try await getOptional("/roles/" + name) {
            let role: KSRole = try decode(data, key: "role", method: "GET", path: "/roles/" + name)
            return .found(id: role.id, name: role.name)
        }
        throw StepFailure("\(what): role `\(name)` does not exist in Keystone at \(credentials.url.absoluteString)")
    }

    /// The services named `name` (or with that id), of `type` when given.
    func findServices(_ name: String, type: String?) async throws -> [KSService] {
        let all: [KSService] = try await list("/services", key: "services", query: type.map { [("type", $0)] } ?? [])
        let byName = all.filter { $0.name == name && (type == nil || $0.type == type) }
        if !byName.isEmpty { return byName }
        return all.filter { $0.id == name }
    }
}

extension StepOutcome {
    /// The outcome of a step that found nothing to do.
    static func keystoneOK(_ message: String, id: String) -> StepOutcome {
        StepOutcome(changed: false, message: message, result: ["id": .string(id)])
    }
}

extension KeystoneClient {
    /// The outcome of a `state: absent` step that found its object: deleted, or "would delete" in check mode.
    func deleteOutcome(_ collection: String, id: String, subject: String, check: Bool) async throws -> StepOutcome {
        let diff = Diff(subject: subject, before: "present (id \(id))", after: nil)
        if check { return StepOutcome(changed: true, diffs: [diff], message: "would delete") }
        try await call("DELETE", "/\(collection)/\(id)")
        return StepOutcome(changed: true, diffs: [diff], message: "deleted (id \(id))")
    }

    /// The domain a named object lives in. For `state: absent` only an existing domain counts (nil: there is
    /// nothing to remove); otherwise it is resolved, or planned by an earlier step in check mode.
    func owningDomain(_ name: String, state: KeystoneState, _ context: StepContext, for what: String) async throws -> KSRef? {
        guard state == .absent else { return try await resolveDomain(name, context, for: what) }
        guard let found = try await findDomain(name) else { return nil }
        return .found(id: found.id, name: found.name)
    }
}

extension KeystoneClient {
    /// Brings an existing domain, project or service to the wanted `description` and `enabled` (one PATCH,
    /// none in check mode); `ok` when both already match.
    func reconcile(
        _ collection: String, member: String, id: String, current: (description: String?, enabled: Bool?),
        description: String?, enabled: Bool?, subject: String, check: Bool
    ) async throws -> StepOutcome {
        var patch: [String: JSONBody] = [:]
        var diffs: [Diff] = []
        if let description, description != (current.description ?? "") {
            patch["description"] = .string(description)
            diffs.append(Diff(subject: subject + " description", before: current.description ?? "", after: description))
        }
        if let enabled, enabled != (current.enabled ?? true) {
            patch["enabled"] = .bool(enabled)
            diffs.append(Diff(subject: subject + " enabled", before: String(current.enabled ?? true), after: String(enabled)))
        }
        if patch.isEmpty { return .keystoneOK("present (id \(id))", id: id) }
        if !check {
            try await call("PATCH", "/\(collection)/\(id)", body: .object([member: .object(patch)]))
        }
        return StepOutcome(
            changed: true, diffs: diffs, message: (check ? "would update " : "updated ") + "(id \(id))",
            result: ["id": .string(id)])
    }
}

/// What every Keystone step kind shares: play `defaults: {keystone: …}` apply, and Keystone is a service
/// shared by the controllers, so the step runs once per play.
public protocol KeystoneStepKind: StepKind {}

extension KeystoneStepKind {
    public static var defaultsFamily: String? { "keystone" }
    public static var runsOncePerPlay: Bool { true }
}

/// Arguments several Keystone step kinds take, declared once.
enum KeystoneFields {
    static let description = ArgField("description", .string, "description (left alone when not given)")
    static let enabled = ArgField("enabled", .bool, "enabled (default true on creation; left alone when not given)")
}
