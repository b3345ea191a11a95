import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import QuorumTesting

@testable import QuorumSteps

/// A small in-memory Identity v3 server for unit tests of the Keystone steps' logic (the lab runs the
/// real Keystone). It records every request so tests can assert what was — and was not — sent.
final class FakeKeystone: HTTPTransport {
    struct Object {
        var kind: String  // domains, projects, users, services, endpoints, roles, regions
        var fields: [String: Any]
    }

    struct State {
        var objects: [String: Object] = [:]  // id -> object
        var passwords: [String: String] = [:]  // user id -> password
        var grants: Set<String> = []  // "/projects/P/users/U/roles/R"
        var requests: [String] = []  // "METHOD /v3/path?query"
        var bodies: [String] = []
        var next = 1
        var down = false
        var failNext: (status: Int, message: String)?
    }

    let state = Locked(State())
    static let adminPassword = "Adm1n-s3cret"

    init() {
        state.withLock { s in
            s.objects["default"] = Object(kind: "domains", fields: ["id": "default", "name": "Default", "enabled": true, "description": "The default domain"])
            s.objects["admin-user"] = Object(kind: "users", fields: ["id": "admin-user", "name": "admin", "domain_id": "default", "enabled": true])
            s.passwords["admin-user"] = Self.adminPassword
            s.objects["admin-project"] = Object(kind: "projects", fields: ["id": "admin-project", "name": "admin", "domain_id": "default", "enabled": true])
            s.objects["service-project"] = Object(
                kind: "projects", fields: ["id": "service-project", "name": "service", "domain_id": "default", "enabled": true])
            s.objects["admin-role"] = Object(kind: "roles", fields: ["id": "admin-role", "name": "admin"])
            s.objects["RegionOne"] = Object(kind: "regions", fields: ["id": "RegionOne"])
        }
    }

    var requests: [String] { state.withLock { $0.requests } }
    var bodies: [String] { state.withLock { $0.bodies } }
    /// Requests that could change Keystone (anything but GET, HEAD and authentication).
    var writes: [String] {
        requests.filter { !($0.hasPrefix("GET ") || $0.hasPrefix("HEAD ") || $0.hasPrefix("POST /v3/auth/tokens")) }
    }
    func objects(_ kind: String) -> [[String: Any]] { state.withLock { $0.objects.values.filter { $0.kind == kind }.map(\.fields) } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    func failNext(_ status: Int, _ message: String) { state.withLock { $0.failNext = (status, message) } }
    func setPassword(user name: String, _ password: String) {
        state.withLock { s in
            if let id = s.objects.first(where: { $0.value.kind == "users" && $0.value.fields["name"] as? String == name })?.key {
                s.passwords[id] = password
            }
        }
    }
    func setField(_ kind: String, where key: String, is value: String, _ field: String, _ newValue: Any) {
        state.withLock { s in
            for (id, object) in s.objects where object.kind == kind && object.fields[key] as? String == value {
                s.objects[id]?.fields[field] = newValue
            }
        }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.url.path
        let query = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        let line = request.method + " " + path + (query.isEmpty ? "" : "?" + query.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&"))
        let body = request.body.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        return try state.withLock { s -> HTTPResponse in
            s.requests.append(line)
            s.bodies.append(request.body.map { String(decoding: $0, as: UTF8.self) } ?? "")
            if s.down { throw HTTPTransportError("connection refused") }
            if let fail = s.failNext {
                s.failNext = nil
                return Self.error(fail.status, fail.message)
            }
            return Self.handle(&s, request.method, path, query, body, token: request.headers["X-Auth-Token"])
        }
    }

    static func json(_ status: Int, _ object: [String: Any], headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
            body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, ["error": ["code": status, "message": message, "title": "Error"]])
    }

    static func handle(
        _ s: inout State, _ method: String, _ path: String, _ query: [URLQueryItem],
        _ body: [String: Any], token: String?
    ) -> HTTPResponse {
        var parts = path.split(separator: "/").map(String.init)
        guard parts.first == "v3" else { return error(404, "not found") }
        parts.removeFirst()
        if parts.isEmpty { return json(200, ["version": ["id": "v3.14"]]) }

        if parts == ["auth", "tokens"], method == "POST" {
            guard let auth = body["auth"] as? [String: Any], let identity = auth["identity"] as? [String: Any],
                let password = identity["password"] as? [String: Any], let user = password["user"] as? [String: Any],
                let secret = user["password"] as? String
            else { return error(400, "bad auth") }
            let id =
                (user["id"] as? String)
                ?? s.objects.first(where: { $0.value.kind == "users" && $0.value.fields["name"] as? String == user["name"] as? String })?.key
            guard let id, s.passwords[id] == secret, s.objects[id]?.fields["enabled"] as? Bool != false else {
                return error(401, "The request you have made requires authentication.")
            }
            return json(201, ["token": ["user": ["id": id]]], headers: ["X-Subject-Token": "tok-\(id)"])
        }
        guard token == "tok-admin-user" else { return error(401, "The request you have made requires authentication.") }

        let kinds = ["domains", "projects", "users", "services", "endpoints", "roles", "regions"]
        let singular = [
            "domains": "domain", "projects": "project", "users": "user", "services": "service",
            "endpoints": "endpoint", "roles": "role", "regions": "region"
        ]
        let kind = parts[0]
        // Grants: /projects/P/users/U/roles/R, /domains/D/users/U/roles/R
        if parts.count == 6, ["projects", "domains"].contains(kind), parts[2] == "users", parts[4] == "roles" {
            let key = path
            switch method {
            case "HEAD", "GET": return HTTPResponse(status: s.grants.contains(key) ? 204 : 404)
            case "PUT":
                s.grants.insert(key)
                return HTTPResponse(status: 204)
            case "DELETE":
                s.grants.remove(key)
                return HTTPResponse(status: 204)
            default: return error(405, "method not allowed")
            }
        }
        guard kinds.contains(kind), let one = singular[kind] else { return error(404, "not found") }
        if parts.count == 1 {
            switch method {
            case "GET":
                var found = s.objects.values.filter { $0.kind == kind }.map(\.fields)
                for item in query {
                    found = found.filter { ($0[item.name] as? String) == item.value }
                }
                found.sort { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
                return json(200, [kind: found, "links": ["self": "x"]])
            case "POST":
                guard var fields = body[one] as? [String: Any] else { return error(400, "no \(one)") }
                if let name = fields["name"] as? String, ["domains", "projects", "users"].contains(kind),
                    s.objects.values.contains(where: {
                        $0.kind == kind && $0.fields["name"] as? String == name
                            && $0.fields["domain_id"] as? String == fields["domain_id"] as? String
                    })
                {
                    return error(409, "Conflict occurred attempting to store \(one) - Duplicate entry found with name \(name).")
                }
                let id = "\(one)-\(s.next)"
                s.next += 1
                fields["id"] = id
                if let password = fields.removeValue(forKey: "password") as? String { s.passwords[id] = password }
                fields = fields.filter { !($0.value is NSNull) }
                s.objects[id] = Object(kind: kind, fields: fields)
                return json(201, [one: fields])
            default: return error(405, "method not allowed")
            }
        }
        let id = parts[1]
        guard let object = s.objects[id], object.kind == kind else { return error(404, "Could not find \(one): \(id).") }
        switch method {
        case "GET": return json(200, [one: object.fields])
        case "PATCH":
            guard let fields = body[one] as? [String: Any] else { return error(400, "no \(one)") }
            for (key, value) in fields {
                if key == "password", let password = value as? String { s.passwords[id] = password } else { s.objects[id]?.fields[key] = value }
            }
            return json(200, [one: s.objects[id]?.fields ?? [:]])
        case "DELETE":
            if kind == "domains", object.fields["enabled"] as? Bool != false {
                return error(403, "Cannot delete a domain that is enabled, please disable it first.")
            }
            s.objects[id] = nil
            return HTTPResponse(status: 204)
        default: return error(405, "method not allowed")
        }
    }
}

/// A step run against the fake Keystone, `via: direct`, sharing one run's cache and planned objects.
struct KeystoneRun {
    let keystone: FakeKeystone
    let check: Bool
    let cache: RunCache
    let planned = PlannedObjects()

    init(_ keystone: FakeKeystone, check: Bool = false, cache: RunCache = RunCache()) {
        self.keystone = keystone
        self.check = check
        self.cache = cache
    }

    static func auth(password: String = FakeKeystone.adminPassword) -> Value {
        .map([
            "url": .string("http://10.21.22.2:5000/v3"), "username": .string("admin"), "password": .string(password),
            "project": .string("admin"), "region": .string("RegionOne")
        ])
    }

    func run<K: StepKind>(
        _ kind: K.Type, _ values: OrderedDictionary<String, Value>,
        password: String = FakeKeystone.adminPassword
    ) async throws -> StepOutcome {
        var arguments = values
        if arguments["auth"] == nil { arguments["auth"] = Self.auth(password: password) }
        if arguments["via"] == nil { arguments["via"] = .string("direct") }
        let step = try K(arguments: Arguments(arguments))
        let remote = FakeRemote()
        let context = StepContext(
            remote: remote, host: "ctl1", check: check, wantsDiff: true,
            variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []),
            location: nil, planned: planned, cache: cache)
        return try await KeystoneClient.$transportOverride.withValue(keystone) {
            try await step.run(context)
        }
    }

    /// Everything the Magnum install needs, in playbook order; returns the outcomes.
    func magnum(userPassword: String = "magnum-Pa55") async throws -> [StepOutcome] {
        var outcomes: [StepOutcome] = []
        outcomes.append(
            try await run(
                KeystoneUserStep.self,
                [
                    "name": "magnum", "domain": "Default", "password": .string(userPassword),
                    "default_project": "service"
                ]))
        outcomes.append(try await run(KeystoneRoleAssignmentStep.self, ["user": "magnum", "role": "admin", "project": "service"]))
        outcomes.append(
            try await run(
                KeystoneServiceStep.self,
                [
                    "name": "magnum", "type": "container-infra",
                    "description": "Container Infrastructure Management Service"
                ]))
        for interface in ["public", "internal", "admin"] {
            outcomes.append(
                try await run(
                    KeystoneEndpointStep.self,
                    [
                        "service": "magnum", "interface": .string(interface),
                        "url": "http://10.21.22.2:9511/v1", "region": "RegionOne"
                    ]))
        }
        outcomes.append(try await run(KeystoneDomainStep.self, ["name": "magnum", "description": "Owns users and projects created by magnum"]))
        outcomes.append(try await run(KeystoneUserStep.self, ["name": "magnum_domain_admin", "domain": "magnum", "password": .string(userPassword)]))
        outcomes.append(
            try await run(
                KeystoneRoleAssignmentStep.self,
                [
                    "user": "magnum_domain_admin", "user_domain": "magnum",
                    "role": "admin", "domain": "magnum"
                ]))
        return outcomes
    }
}

/// String literals as argument values in these tests (`["name": "magnum"]`).
extension Value: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// A lock around state that holds non-Sendable JSON values (`[String: Any]`), for the fake server only.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
