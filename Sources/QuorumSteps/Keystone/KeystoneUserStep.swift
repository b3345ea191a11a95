import Foundation
import OrderedCollections
import QuorumCore

/// `keystone_user`: a user present or absent, found by name within its domain. Keystone never gives a
/// password back: with `update_password: always` the step authenticates as the user with the wanted
/// password and sets it only when that fails; with `on_create` the password is set only on creation.
public struct KeystoneUserStep: KeystoneStepKind {
    public static let name = "keystone_user"
    public static let summary = "A Keystone user present or absent (by name within its domain); password checked by logging in, never read"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "user name"),
            ArgField("domain", .string, "domain name or id (default Default)"),
            ArgField("password", .string, secret: true, "the user's password"),
            ArgField(
                "update_password", .choice(["always", "on_create"]),
                "always (default): check by logging in as the user and reset when it fails; on_create: set only when creating"),
            ArgField("default_project", .string, "default project name or id (left alone when not given)"),
            ArgField("default_project_domain", .string, "domain of the default project (default: the user's domain)"),
            KeystoneFields.enabled,
            KeystoneState.field
        ] + KeystoneConnection.fields)

    public let connection: KeystoneConnection
    public let userName: String
    public let domain: String
    let password: String?
    public let updateAlways: Bool
    public let defaultProject: String?
    public let defaultProjectDomain: String?
    public let enabled: Bool?
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        userName = try arguments.requiredString("name")
        domain = try arguments.string("domain") ?? "Default"
        password = try arguments.string("password")
        updateAlways = (try arguments.choice("update_password", ["always", "on_create"]) ?? "always") == "always"
        defaultProject = try arguments.string("default_project")
        defaultProjectDomain = try arguments.string("default_project_domain")
        enabled = try arguments.bool("enabled")
        state = try KeystoneState(arguments)
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let what = "user \(userName)"
        let subject = "keystone user \(domain)/\(userName)"
        guard let domainRef = try await client.owningDomain(domain, state: state, context, for: what) else {
            return StepOutcome(changed: false, message: "absent (no domain \(domain))")
        }
        let existing = domainRef.isPlanned ? nil : try await client.findUser(userName, domainID: domainRef.id)

        guard state == .present else {
            guard let user = existing else { return StepOutcome(changed: false, message: "absent") }
            return try await client.deleteOutcome("users", id: user.id, subject: subject, check: context.check)
        }

        var project: KSRef?
        if let defaultProject {
            let projectDomainName = defaultProjectDomain ?? domain
            let projectDomain =
                projectDomainName == domain
                ? domainRef
                : try await client.resolveDomain(projectDomainName, context, for: what)
            project = try await client.resolveProject(defaultProject, domain: projectDomain, context, for: what)
        }

        guard let user = existing else {
            var diffs = [Diff(subject: subject, before: nil, after: "present" + (project.map { ", default project \($0.name)" } ?? ""))]
            if password != nil { diffs.append(Diff(subject: subject + " password", before: nil, after: "set", secret: true)) }
            if context.check {
                let placeholder = context.planned.plan(KSPlan.user, KSPlan.scoped(domainRef.name, userName))
                return StepOutcome(changed: true, diffs: diffs, message: "would create", result: ["id": .string(placeholder)])
            }
            var body: [String: JSONBody] = ["name": .string(userName), "domain_id": .string(domainRef.id), "enabled": .bool(enabled ?? true)]
            if let password { body["password"] = .string(password) }
            if let project { body["default_project_id"] = .string(project.id) }
            let created: KSUser = try await client.write("POST", "/users", key: "user", body: .object(["user": .object(body)]))
            return StepOutcome(changed: true, diffs: diffs, message: "created (id \(created.id))", result: ["id": .string(created.id)])
        }

        var patch: [String: JSONBody] = [:]
        var diffs: [Diff] = []
        var notes: [String] = []
        if let project, project.id != user.defaultProjectID {
            patch["default_project_id"] = .string(project.id)
            diffs.append(Diff(subject: subject + " default project", before: user.defaultProjectID ?? "(none)", after: project.name))
        }
        if let enabled, enabled != (user.enabled ?? true) {
            patch["enabled"] = .bool(enabled)
            diffs.append(Diff(subject: subject + " enabled", before: String(user.enabled ?? true), after: String(enabled)))
        }
        if let password, updateAlways {
            if user.enabled == false && enabled != true {
                // A disabled user cannot log in: the password cannot be checked without changing it every run.
                notes.append("password not checked (the user is disabled)")
            } else if try await !client.passwordWorks(userID: user.id, password: password) {
                patch["password"] = .string(password)
                diffs.append(Diff(subject: subject + " password", before: "differs", after: "set", secret: true))
            }
        }
        let suffix = notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")
        if patch.isEmpty { return .keystoneOK("present (id \(user.id))" + suffix, id: user.id) }
        if !context.check {
            try await client.call("PATCH", "/users/\(user.id)", body: .object(["user": .object(patch)]))
        }
        let changedNames = diffs.map { $0.subject.replacingOccurrences(of: subject + " ", with: "") }.joined(separator: ", ")
        return StepOutcome(
            changed: true, diffs: diffs,
            message: (context.check ? "would update " : "updated ") + "\(changedNames) (id \(user.id))" + suffix,
            result: ["id": .string(user.id)])
    }
}
