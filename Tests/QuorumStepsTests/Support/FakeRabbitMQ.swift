import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import QuorumTesting

@testable import QuorumSteps

/// A small in-memory RabbitMQ management API for unit tests of `rabbitmq_user`'s logic (RabbitMQUserBrokerTests
/// drives a real broker). It stores users with salted hashes as RabbitMQ does, and records every request.
final class FakeRabbitMQ: HTTPTransport {
    struct User {
        var hash: String
        var algorithm: String
        var tags: [String]
    }

    struct State {
        var users: [String: User] = [:]
        var vhosts: Set<String> = ["/"]
        /// "vhost\u{1F}user" → permission
        var permissions: [String: RabbitMQPermission] = [:]
        /// "METHOD /api/percent-encoded/path"
        var requests: [String] = []
        var bodies: [String] = []
        var authorizations: [String] = []
        var down = false
    }

    static let adminPassword = "Rabb1t-adm1n"
    let state = Locked(State())

    init() {
        state.withLock {
            $0.users["admin"] = User(
                hash: Self.hashed(Self.adminPassword), algorithm: "rabbit_password_hashing_sha256",
                tags: ["administrator"])
        }
    }

    static func hashed(_ password: String, _ algorithm: RabbitMQPasswordHash.Algorithm = .sha256) -> String {
        let salt = (0..<4).map { _ in UInt8.random(in: 0...255) }
        return Data(RabbitMQPasswordHash.hash(password, salt: salt, algorithm: algorithm)).base64EncodedString()
    }

    var requests: [String] { state.withLock { $0.requests } }
    var bodies: [String] { state.withLock { $0.bodies } }
    var writes: [String] { requests.filter { !$0.hasPrefix("GET ") } }
    func user(_ name: String) -> User? { state.withLock { $0.users[name] } }
    func permission(_ user: String, _ vhost: String) -> RabbitMQPermission? { state.withLock { $0.permissions["\(vhost)\u{1F}\(user)"] } }
    var vhosts: Set<String> { state.withLock { $0.vhosts } }

    func putUser(_ name: String, password: String, algorithm: RabbitMQPasswordHash.Algorithm = .sha256, tags: [String] = []) {
        state.withLock { $0.users[name] = User(hash: Self.hashed(password, algorithm), algorithm: algorithm.rawValue, tags: tags) }
    }

    func setUser(_ name: String, _ change: (inout User) -> Void) {
        state.withLock { s in
            if var user = s.users[name] {
                change(&user)
                s.users[name] = user
            }
        }
    }

    func grant(_ user: String, _ permission: RabbitMQPermission) {
        state.withLock { s in
            s.vhosts.insert(permission.vhost)
            s.permissions["\(permission.vhost)\u{1F}\(user)"] = permission
        }
    }

    /// A snapshot of everything stored, to prove a check run left it as it was.
    var snapshot: String {
        state.withLock { s in
            let users = s.users.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.hash) \($0.value.algorithm) \($0.value.tags)" }
            let perms = s.permissions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.summary)" }
            return (users + s.vhosts.sorted() + perms).joined(separator: "\n")
        }
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let encoded = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        let segments = encoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { $0.removingPercentEncoding ?? String($0) }
        let body = request.body.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        return try state.withLock { s -> HTTPResponse in
            s.requests.append("\(request.method) \(encoded)")
            s.bodies.append(request.body.map { String(decoding: $0, as: UTF8.self) } ?? "")
            s.authorizations.append(request.headers["Authorization"] ?? "")
            if s.down { throw HTTPTransportError("connection refused") }
            let admin = "Basic " + Data("admin:\(Self.adminPassword)".utf8).base64EncodedString()
            guard request.headers["Authorization"] == admin else {
                return Self.json(401, ["error": "not_authorized", "reason": "Login failed"])
            }
            return Self.handle(&s, request.method, Array(segments), body)
        }
    }

    static func json(_ status: Int, _ object: Any) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "application/json"],
            body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    static let notFound = json(404, ["error": "Object Not Found", "reason": "Not Found"])

    static func handle(_ s: inout State, _ method: String, _ path: [String], _ body: [String: Any]) -> HTTPResponse {
        guard path.first == "api" else { return notFound }
        switch (method, Array(path.dropFirst())) {
        case ("GET", let p) where p.count == 2 && p[0] == "users":
            guard let user = s.users[p[1]] else { return notFound }
            return json(200, ["name": p[1], "password_hash": user.hash, "hashing_algorithm": user.algorithm, "tags": user.tags, "limits": [:]])
        case ("PUT", let p) where p.count == 2 && p[0] == "users":
            let tags = (body["tags"] as? [String]) ?? RabbitMQTags.split([(body["tags"] as? String) ?? ""])
            let user: User
            if let password = body["password"] as? String {
                user = User(hash: hashed(password), algorithm: "rabbit_password_hashing_sha256", tags: tags)
            } else if let hash = body["password_hash"] as? String {
                user = User(hash: hash, algorithm: (body["hashing_algorithm"] as? String) ?? "rabbit_password_hashing_sha256", tags: tags)
            } else {
                return json(400, ["error": "bad_request", "reason": "password or password_hash required"])
            }
            let created = s.users[p[1]] == nil
            s.users[p[1]] = user
            return HTTPResponse(status: created ? 201 : 204)
        case ("DELETE", let p) where p.count == 2 && p[0] == "users":
            guard s.users.removeValue(forKey: p[1]) != nil else { return notFound }
            s.permissions = s.permissions.filter { !$0.key.hasSuffix("\u{1F}" + p[1]) }
            return HTTPResponse(status: 204)
        case ("GET", let p) where p.count == 3 && p[0] == "users" && p[2] == "permissions":
            guard s.users[p[1]] != nil else { return notFound }
            let list = s.permissions.filter { $0.key.hasSuffix("\u{1F}" + p[1]) }.values.sorted { $0.vhost < $1.vhost }.map {
                ["user": p[1], "vhost": $0.vhost, "configure": $0.configure, "write": $0.write, "read": $0.read]
            }
            return json(200, list)
        case ("GET", let p) where p.count == 2 && p[0] == "vhosts":
            return s.vhosts.contains(p[1]) ? json(200, ["name": p[1], "tracing": false]) : notFound
        case ("PUT", let p) where p.count == 2 && p[0] == "vhosts":
            return HTTPResponse(status: s.vhosts.insert(p[1]).inserted ? 201 : 204)
        case ("PUT", let p) where p.count == 3 && p[0] == "permissions":
            guard s.vhosts.contains(p[1]), s.users[p[2]] != nil else {
                return json(400, ["error": "bad_request", "reason": "vhost_or_user_not_found"])
            }
            let key = "\(p[1])\u{1F}\(p[2])"
            let created = s.permissions[key] == nil
            s.permissions[key] = RabbitMQPermission(
                vhost: p[1], configure: body["configure"] as? String ?? "",
                write: body["write"] as? String ?? "", read: body["read"] as? String ?? "")
            return HTTPResponse(status: created ? 201 : 204)
        case ("DELETE", let p) where p.count == 3 && p[0] == "permissions":
            return s.permissions.removeValue(forKey: "\(p[1])\u{1F}\(p[2])") == nil ? notFound : HTTPResponse(status: 204)
        default:
            return json(405, ["error": "Method Not Allowed"])
        }
    }
}

/// A `rabbitmq_user` step run against a fake (or real) broker, `via: direct`, sharing one run's cache and
/// planned objects.
struct RabbitMQRun {
    let transport: (any HTTPTransport)?
    let check: Bool
    let url: String
    let admin: (user: String, password: String)
    let cache = RunCache()
    let planned: PlannedObjects

    init(
        _ transport: (any HTTPTransport)?, check: Bool = false, url: String = "http://10.21.22.2:15672",
        admin: (user: String, password: String) = ("admin", FakeRabbitMQ.adminPassword), planned: PlannedObjects = PlannedObjects()
    ) {
        self.transport = transport
        self.check = check
        self.url = url
        self.admin = admin
        self.planned = planned
    }

    func run(_ values: OrderedDictionary<String, Value>) async throws -> StepOutcome {
        var arguments = values
        if arguments["api"] == nil {
            arguments["api"] = .map(["url": .string(url), "username": .string(admin.user), "password": .string(admin.password)])
        }
        if arguments["via"] == nil { arguments["via"] = "direct" }
        let step = try RabbitMQUserStep(arguments: Arguments(arguments))
        let remote = FakeRemote()
        let context = StepContext(
            remote: remote, host: "ctl1", check: check, wantsDiff: true,
            variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []),
            location: nil, planned: planned, cache: cache)
        if let transport {
            return try await RabbitMQClient.$transportOverride.withValue(transport) { try await step.run(context) }
        }
        return try await step.run(context)
    }
}
