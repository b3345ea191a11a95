import Foundation
import OrderedCollections
import QuorumCore

/// `rabbitmq_user`: a RabbitMQ user present (password, tags, permissions per vhost, missing vhosts created)
/// or absent, through the broker's management HTTP API. Probes with GETs only; the password is checked by
/// hashing it locally with the salt of the stored hash, so no request carries it unless it must be set.
public struct RabbitMQUserStep: StepKind {
    public static let name = "rabbitmq_user"
    public static let summary = "A RabbitMQ user present (password, tags, permissions per vhost) or absent, through the management API"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "user name"),
            ArgField("password", .string, secret: true, "the user's password (without it, a new user cannot log in with one)"),
            ArgField(
                "update_password", .choice(["always", "on_create"]),
                "always (default): compare with the stored hash and reset when it differs; on_create: set only when creating"),
            ArgField("tags", .list(.string), "tags such as `administrator`, `management` (left alone when not given; `[]` clears them)"),
            ArgField("vhost", .string, "full permissions (`.*`) on this vhost (default `/`), when `permissions` is not given"),
            ArgField(
                "permissions", .list(.object(RabbitMQPermission.schema)),
                "one map per vhost: {vhost, configure, write, read} (regexps, default `.*`); vhosts not listed lose theirs (`[]`: none at all)"),
            ArgField("append_permissions", .bool, default: .bool(false), "keep permissions on vhosts not listed"),
            ArgField("create_vhost", .bool, default: .bool(true), "create a missing vhost (false: a missing vhost is an error)"),
            ArgField("state", .choice(["present", "absent"]), "present (default) or absent")
        ] + RabbitMQConnection.fields, mutuallyExclusive: [["vhost", "permissions"]])
    public static var defaultsFamily: String? { "rabbitmq" }
    /// The broker is one service shared by the controllers.
    public static var runsOncePerPlay: Bool { true }

    /// Check mode records vhosts it would create under this kind, so later steps see them as planned.
    static let plannedVhost = "rabbitmq_vhost"

    public let connection: RabbitMQConnection
    public let userName: String
    let password: String?
    public let updateAlways: Bool
    /// nil: tags are not managed.
    public let tags: [String]?
    let permissions: [RabbitMQPermission]
    public let appendPermissions: Bool
    public let createVhost: Bool
    public let present: Bool

    public init(checked arguments: Arguments) throws {
        connection = try RabbitMQConnection(arguments: arguments)
        userName = try arguments.requiredString("name")
        password = try arguments.string("password")
        if password?.isEmpty == true {
            throw StepFailure("`password` must not be empty (leave it out for a user that logs in otherwise)")
        }
        updateAlways = (try arguments.choice("update_password", ["always", "on_create"]) ?? "always") == "always"
        tags = try arguments.stringList("tags").map(RabbitMQTags.split)
        permissions = try RabbitMQPermission.parse(arguments)
        appendPermissions = try arguments.value(arguments.bool, "append_permissions")
        createVhost = try arguments.value(arguments.bool, "create_vhost")
        present = try arguments.choice("state", ["present", "absent"]) != "absent"
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await RabbitMQClient.connect(connection, context)
        let existing: RMQUser? = try await client.get(["users", userName])
        let subject = "rabbitmq user \(userName)"
        var plan = RabbitMQPlan()

        guard present else {
            if existing != nil {
                plan.add(
                    [Diff(subject: subject, before: "present", after: nil)], would: "would delete user \(userName)",
                    did: "deleted user \(userName)", .init(method: "DELETE", segments: ["users", userName]))
            }
            if !context.check { try await plan.apply(client) }
            return plan.outcome(check: context.check, unchanged: "absent", result: ["user": .string(userName)])
        }

        try await planVhosts(&plan, client, context)
        planUser(&plan, existing, subject: subject)
        let current: [RabbitMQPermission] = existing == nil ? [] : try await client.get(["users", userName, "permissions"]) ?? []
        planPermissions(&plan, current: current)
        if !context.check { try await plan.apply(client) }

        var result: OrderedDictionary<String, Value> = ["user": .string(userName)]
        if let first = permissions.first { result["vhost"] = .string(first.vhost) }
        result["vhosts"] = .list(permissions.map { .string($0.vhost) })
        result["tags"] = .list((tags ?? existing?.tags ?? []).map(Value.string))
        return plan.outcome(check: context.check, unchanged: "present", result: result)
    }

    /// Vhosts the permissions need: present; created (when `create_vhost`); or, in check mode, planned by an
    /// earlier step. Otherwise an error before anything is written.
    func planVhosts(_ plan: inout RabbitMQPlan, _ client: RabbitMQClient, _ context: StepContext) async throws {
        for vhost in permissions.map(\.vhost) {
            guard try await client.get(["vhosts", vhost]) == nil else { continue }
            let identity = "\(connection.url.absoluteString) \(vhost)"
            if context.check, context.planned.placeholder(Self.plannedVhost, identity) != nil {
                plan.note("vhost \(vhost) is planned by an earlier step")
                continue
            }
            guard createVhost else {
                throw StepFailure(
                    "vhost `\(vhost)` does not exist on the broker at \(connection.url.absoluteString) "
                        + "(create it first, or let this step create it: `create_vhost: true`)")
            }
            if context.check { context.planned.plan(Self.plannedVhost, identity) }
            plan.add(
                [Diff(subject: "rabbitmq vhost \(vhost)", before: nil, after: "present")],
                would: "would create vhost \(vhost)", did: "created vhost \(vhost)",
                .init(method: "PUT", segments: ["vhosts", vhost], body: .object([:])))
        }
    }

    /// The user itself: created, or its password and tags brought to what is wanted (one PUT). A PUT replaces
    /// the user whole, so one that keeps the password sends the stored hash back unchanged.
    func planUser(_ plan: inout RabbitMQPlan, _ existing: RMQUser?, subject: String) {
        let secrets = password.map { [$0] } ?? []
        guard let user = existing else {
            var diffs = [Diff(subject: subject, before: nil, after: "present")]
            var body: [String: JSONBody] = ["tags": RabbitMQTags.body(tags ?? [])]
            if let password {
                body["password"] = .string(password)
                diffs.append(Diff(subject: "password of \(subject)", before: nil, after: "(set)", secret: true))
            } else {
                body["password_hash"] = .string("")
            }
            if let tags, !tags.isEmpty {
                diffs.append(Diff(subject: "tags of \(subject)", before: nil, after: RabbitMQTags.summary(tags)))
            }
            plan.add(
                diffs, would: "would create user \(userName)", did: "created user \(userName)",
                .init(method: "PUT", segments: ["users", userName], body: .object(body), secrets: secrets))
            return
        }

        var diffs: [Diff] = []
        var changed: [String] = []
        var body: [String: JSONBody] = ["tags": RabbitMQTags.body(tags ?? user.tags)]
        if let password, updateAlways {
            switch RabbitMQPasswordHash.verify(password, storedHash: user.passwordHash ?? "", algorithm: user.hashingAlgorithm) {
            case .matches:
                break
            case .differs:
                body["password"] = .string(password)
                diffs.append(Diff(subject: "password of \(subject)", before: "(stored)", after: "(new)", secret: true))
                changed.append("password")
            case .unknownAlgorithm(let module):
                plan.note("password not checked (hashing algorithm `\(module)` is unknown to Quorum)")
            }
        }
        if let tags, Set(tags) != Set(user.tags) {
            diffs.append(Diff(subject: "tags of \(subject)", before: RabbitMQTags.summary(user.tags), after: RabbitMQTags.summary(tags)))
            changed.append("tags")
        }
        guard !diffs.isEmpty else { return }
        if body["password"] == nil {
            body["password_hash"] = .string(user.passwordHash ?? "")
            if let algorithm = user.hashingAlgorithm { body["hashing_algorithm"] = .string(algorithm) }
        }
        let what = changed.joined(separator: " and ")
        plan.add(
            diffs, would: "would update \(what) of user \(userName)", did: "updated \(what) of user \(userName)",
            .init(method: "PUT", segments: ["users", userName], body: .object(body), secrets: secrets))
    }

    /// Permissions set where they differ, and (unless `append_permissions`) removed from vhosts not listed.
    func planPermissions(_ plan: inout RabbitMQPlan, current: [RabbitMQPermission]) {
        for wanted in permissions {
            let now = current.first { $0.vhost == wanted.vhost }
            guard now != wanted else { continue }
            plan.add(
                [Diff(subject: "permissions of \(userName) on \(wanted.vhost)", before: now?.summary ?? "(none)", after: wanted.summary)],
                would: "would set permissions on \(wanted.vhost)", did: "set permissions on \(wanted.vhost)",
                .init(method: "PUT", segments: ["permissions", wanted.vhost, userName], body: wanted.body))
        }
        guard !appendPermissions else { return }
        for extra in current where !permissions.contains(where: { $0.vhost == extra.vhost }) {
            plan.add(
                [Diff(subject: "permissions of \(userName) on \(extra.vhost)", before: extra.summary, after: "(none)")],
                would: "would remove permissions on \(extra.vhost)", did: "removed permissions on \(extra.vhost)",
                .init(method: "DELETE", segments: ["permissions", extra.vhost, userName]))
        }
    }
}
