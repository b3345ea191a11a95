import Foundation
import QuorumCore

/// `keystone_role_assignment`: a user holds a role on a project or on a domain (found by actor + role +
/// target; granting twice is never attempted).
public struct KeystoneRoleAssignmentStep: KeystoneStepKind {
    public static let name = "keystone_role_assignment"
    public static let summary = "A Keystone role granted to (or revoked from) a user on a project or a domain"
    public static let schema = ArgSchema(
        [
            ArgField("user", .string, required: true, "user name"),
            ArgField("user_domain", .string, "domain of the user (default Default)"),
            ArgField("role", .string, required: true, "role name or id (e.g. admin)"),
            ArgField("project", .string, "project name or id (the target; or `domain`)"),
            ArgField("project_domain", .string, "domain of the project (default Default)"),
            ArgField("domain", .string, "domain name or id (the target; or `project`)"),
            KeystoneState.field
        ] + KeystoneConnection.fields, mutuallyExclusive: [["project", "domain"]], oneRequired: [["project", "domain"]])

    public enum Target: Sendable, Equatable {
        case project(name: String, domain: String)
        case domain(String)
    }

    public let connection: KeystoneConnection
    public let user: String
    public let userDomain: String
    public let role: String
    public let target: Target
    let state: KeystoneState

    public init(checked arguments: Arguments) throws {
        connection = try KeystoneConnection(arguments: arguments)
        user = try arguments.requiredString("user")
        userDomain = try arguments.string("user_domain") ?? "Default"
        role = try arguments.requiredString("role")
        switch (try arguments.string("project"), try arguments.string("domain")) {
        case (let project?, nil):
            target = .project(name: project, domain: try arguments.string("project_domain") ?? "Default")
        case (nil, let domain?):
            guard !arguments.has("project_domain") else { throw StepFailure("`project_domain` only applies with `project`") }
            target = .domain(domain)
        default:
            throw StepFailure("give exactly one target: `project` or `domain`")
        }
        state = try KeystoneState(arguments)
    }

    var targetText: String {
        switch target {
        case .project(let name, let domain): return "project \(domain)/\(name)"
        case .domain(let name): return "domain \(name)"
        }
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let client = try await KeystoneClient.connect(connection, context)
        let what = "role \(role) for user \(user) on \(targetText)"
        let subject = "keystone role \(role) of user \(userDomain)/\(user) on \(targetText)"

        // Resolve actor, role and target; in check mode any of them may be an object an earlier step would create.
        let resolved: (user: KSRef, role: KSRef, target: KSRef)
        do {
            let userDomainRef = try await client.resolveDomain(userDomain, context, for: what)
            let userRef = try await client.resolveUser(user, domain: userDomainRef, context, for: what)
            let roleRef = try await client.resolveRole(role, for: what)
            let targetRef: KSRef
            switch target {
            case .project(let name, let domain):
                let domainRef = try await client.resolveDomain(domain, context, for: what)
                targetRef = try await client.resolveProject(name, domain: domainRef, context, for: what)
            case .domain(let name):
                targetRef = try await client.resolveDomain(name, context, for: what)
            }
            resolved = (userRef, roleRef, targetRef)
        } catch let failure as StepFailure where state == .absent && failure.message.contains("does not exist") {
            return StepOutcome(changed: false, message: "absent (\(failure.message.replacingOccurrences(of: what + ": ", with: "")))")
        }

        let targetPath: String
        switch target {
        case .project: targetPath = "/projects/\(resolved.target.id)"
        case .domain: targetPath = "/domains/\(resolved.target.id)"
        }
        let grantPath = "\(targetPath)/users/\(resolved.user.id)/roles/\(resolved.role.id)"

        let planned = resolved.user.isPlanned || resolved.target.isPlanned
        let granted: Bool
        if planned {
            granted = false
        } else {
            granted = try await client.call("HEAD", grantPath, accept: [200, 204, 404]).status != 404
        }

        switch (state, granted) {
        case (.present, true), (.absent, false):
            return StepOutcome(changed: false, message: state == .present ? "granted" : "not granted")
        case (.present, false):
            let diff = Diff(subject: subject, before: nil, after: "granted")
            if context.check {
                return StepOutcome(changed: true, diffs: [diff], message: "would grant" + (planned ? " (to objects this run would create)" : ""))
            }
            try await client.call("PUT", grantPath, accept: [200, 201, 204])
            return StepOutcome(changed: true, diffs: [diff], message: "granted")
        case (.absent, true):
            let diff = Diff(subject: subject, before: "granted", after: nil)
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would revoke") }
            try await client.call("DELETE", grantPath, accept: [200, 204])
            return StepOutcome(changed: true, diffs: [diff], message: "revoked")
        }
    }
}
