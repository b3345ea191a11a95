import Foundation
import QuorumCore
import QuorumHTTP
import Synchronization

/// The admin credentials a Keystone step authenticates with (`auth:`), usually set once per play through
/// `defaults: {keystone: {auth: …}}`.
public struct KeystoneCredentials: Sendable, Equatable {
    /// Identity v3 base URL as the controller sees it, normalised to end in `/v3` (no trailing slash).
    public var url: URL
    public var username: String
    public var password: String
    public var project: String
    public var userDomain: String
    public var projectDomain: String
    /// Default region of endpoint steps that name none.
    public var region: String?

    public init(
        url: URL, username: String, password: String, project: String,
        userDomain: String = "Default", projectDomain: String = "Default", region: String? = nil
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.project = project
        self.userDomain = userDomain
        self.projectDomain = projectDomain
        self.region = region
    }

    /// `http://vip:5000`, `http://vip:5000/`, `http://vip:5000/v3/` → `http://vip:5000/v3`.
    public static func normalize(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if !trimmed.hasSuffix("/v3") { trimmed += "/v3" }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil
        else {
            throw StepFailure("`auth.url` must be an http(s) URL such as http://10.0.0.10:5000/v3, got `\(text)`")
        }
        return url
    }

    /// The run-cache key of the token: URL, user and scope (the password only through a per-process hash).
    var cacheKey: String {
        var hasher = Hasher()
        hasher.combine(password)
        return "\(url.absoluteString) user=\(username)@\(userDomain) project=\(project)@\(projectDomain) #\(hasher.finalize())"
    }
}

/// How requests reach Keystone (see `HTTPVia`).
public typealias KeystoneVia = HTTPVia

/// A small JSON value for request bodies.
public enum JSONBody: Sendable, Equatable, Encodable {
    case string(String)
    case bool(Bool)
    case null
    case array([JSONBody])
    case object([String: JSONBody])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .bool(let b): try container.encode(b)
        case .null: try container.encodeNil()
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    public static func optional(_ s: String?) -> JSONBody { s.map { .string($0) } ?? .null }
}

/// A client of Keystone's Identity v3 API for one run: authenticates once per run (the token lives in the
/// run's cache, keyed by URL, user and scope, and is renewed once if Keystone stops accepting it), and in
/// check mode refuses — before anything is sent — every request that could change Keystone: only GET, HEAD
/// and `POST /v3/auth/tokens` (authentication, which stores nothing) go out. Reads and password checks are
/// asked once per run until a write (`KeystoneAnswers`).
public final class KeystoneClient: Sendable, RunResource {
    public let credentials: KeystoneCredentials
    /// Where requests are sent: the auth URL itself, or `http://127.0.0.1:<tunnel port>/…`.
    let base: URL
    /// The real `Host:` when going through a tunnel.
    let hostHeader: String?
    /// "through ctl1's SSH tunnel" / "directly", for messages.
    public let route: String
    public let readOnly: Bool
    let transport: any HTTPTransport
    let cache: RunCache
    let tokenKey: String
    /// Answers to reads, shared with the run's other clients of this Keystone.
    let answers: KeystoneAnswers
    /// Domains and roles found by name during this run (found ones only: a lookup that failed is repeated).
    let known = Mutex<[String: KSRef]>([:])

    /// Unit tests replace the network with a recording transport.
    @TaskLocal public static var transportOverride: (any HTTPTransport)?

    public convenience init(
        credentials: KeystoneCredentials, base: URL, hostHeader: String?, route: String, readOnly: Bool,
        transport: any HTTPTransport, cache: RunCache
    ) {
        self.init(
            credentials: credentials, base: base, hostHeader: hostHeader, route: route, readOnly: readOnly,
            transport: transport, cache: cache, answers: KeystoneAnswers())
    }

    init(
        credentials: KeystoneCredentials, base: URL, hostHeader: String?, route: String, readOnly: Bool,
        transport: any HTTPTransport, cache: RunCache, answers: KeystoneAnswers
    ) {
        self.credentials = credentials
        self.base = base
        self.hostHeader = hostHeader
        self.route = route
        self.readOnly = readOnly
        self.transport = transport
        self.cache = cache
        self.answers = answers
        self.tokenKey = "keystone-token " + credentials.cacheKey
    }

    public func close() async { await transport.shutdown() }

    /// The client for this step's host and credentials, made once per run (one tunnel, one HTTP connection).
    public static func connect(_ connection: KeystoneConnection, _ context: StepContext) async throws -> KeystoneClient {
        let credentials = connection.credentials
        let via = connection.via
        let key = "keystone-client \(via.rawValue) \(via == .tunnel ? context.host : "-") " + credentials.cacheKey
        let override = transportOverride
        let check = context.check
        let cache = context.cache
        return try await context.cache.value(key, as: KeystoneClient.self) {
            let transport = override ?? CurlTransport()
            let route = try await HTTPRoute.open(credentials.url, via: via, service: "Keystone", context)
            let answers = try await cache.shared("keystone-answers " + credentials.url.absoluteString) { KeystoneAnswers() }
            return KeystoneClient(
                credentials: credentials, base: route.base, hostHeader: route.hostHeader, route: route.description,
                readOnly: check, transport: transport, cache: cache, answers: answers)
        }
    }

    // MARK: requests

    /// What came back from Keystone.
    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]
    }

    /// Methods check mode lets through.
    static func isReadOnly(_ method: String, _ path: String) -> Bool {
        method == "GET" || method == "HEAD" || (method == "POST" && path == "/auth/tokens")
    }

    /// Sends one request (path relative to `/v3`). Never throws for an HTTP status: the caller decides.
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: JSONBody? = nil,
        token: String?
    ) async throws -> Reply {
        guard !readOnly || Self.isReadOnly(method, path) else {
            throw StepFailure("check mode is read-only: refused to send \(method) \(displayPath(path)) to Keystone")
        }
        guard var components = URLComponents(url: base, resolvingAgainstBaseURL: false) else {
            throw StepFailure("cannot build a Keystone URL for \(path)")
        }
        let basePath = components.percentEncodedPath
        components.percentEncodedPath = basePath + Self.encodePath(path)
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components.url else { throw StepFailure("cannot build a Keystone URL for \(path)") }
        var headers = ["Accept": "application/json", "User-Agent": "quorum"]
        if let hostHeader { headers["Host"] = hostHeader }
        if let token { headers["X-Auth-Token"] = token }
        var data: Data?
        if let body {
            headers["Content-Type"] = "application/json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            data = try encoder.encode(body)
        }
        do {
            let response = try await transport.send(HTTPRequest(method: method, url: url, headers: headers, body: data))
            return Reply(status: response.status, body: response.body, headers: response.headers)
        } catch let error as HTTPTransportError {
            throw StepFailure(
                "no answer from Keystone at \(credentials.url.absoluteString) (\(route)) to \(method) \(displayPath(path))",
                detail: scrub(error.message))
        }
    }

    /// Percent-encodes each segment of a path built from ids and names.
    static func encodePath(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }
            .joined(separator: "/")
    }

    func displayPath(_ path: String) -> String { "/v3" + path }

    /// An authenticated request; a 401 renews the token once. Throws on any status outside `accept`. A read
    /// Keystone already answered in this run gets that answer; any other request drops them all.
    @discardableResult
    public func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: JSONBody? = nil,
        accept: Set<Int> = [200, 201, 202, 204]
    ) async throws -> Reply {
        let isRead = method == "GET" || method == "HEAD"
        let key = KeystoneAnswers.key(credentials, method, path, query)
        if isRead, let known = answers.reply(key) {
            guard accept.contains(known.status) else { throw failure(method, path, known) }
            return known
        }
        if !isRead { answers.drop() }
        defer { if !isRead { answers.drop() } }
        var reply = try await send(method, path, query: query, body: body, token: try await token())
        if reply.status == 401 {
            await forgetToken()
            reply = try await send(method, path, query: query, body: body, token: try await token())
        }
        if isRead { answers.store(reply, for: key) }
        guard accept.contains(reply.status) else { throw failure(method, path, reply) }
        return reply
    }

    /// GET that returns nil on 404.
    public func getOptional(_ path: String, query: [(String, String)] = []) async throws -> Data? {
        let reply = try await call("GET", path, query: query, accept: [200, 404])
        return reply.status == 404 ? nil : reply.body
    }

    /// GET a collection: the array under `key` (`domains`, `users`…), decoded.
    public func list<T: Decodable>(_ path: String, key: String, query: [(String, String)] = [], as type: T.Type = T.self) async throws -> [T] {
        let reply = try await call("GET", path, query: query, accept: [200])
        return try decode(reply.body, key: key, method: "GET", path: path)
    }

    /// POST/PATCH whose reply holds the object under `key`.
    public func write<T: Decodable>(_ method: String, _ path: String, key: String, body: JSONBody, as type: T.Type = T.self) async throws -> T {
        let reply = try await call(method, path, body: body, accept: [200, 201])
        return try decode(reply.body, key: key, method: method, path: path)
    }

    func decode<T: Decodable>(_ data: Data, key: String, method: String, path: String) throws -> T {
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let inner = object[key] else {
                throw StepFailure("no `\(key)` in the answer")
            }
            let innerData = try JSONSerialization.data(withJSONObject: inner)
            return try JSONDecoder().decode(T.self, from: innerData)
        } catch {
            throw StepFailure(
                "unexpected answer from Keystone at \(credentials.url.absoluteString) to \(method) \(displayPath(path))",
                detail: scrub(String(describing: error)))
        }
    }

    // MARK: authentication

    /// The run's admin token (one authentication per run and credentials, shared with an apply's preflight).
    public func token() async throws -> String {
        try await cache.shared(tokenKey, as: String.self) { [self] in try await self.issueAdminToken() }
    }

    /// Forgets the run's token (Keystone stopped accepting it): the next `token()` authenticates again.
    public func forgetToken() async { await cache.removeShared(tokenKey) }

    func issueAdminToken() async throws -> String {
        let c = credentials
        let body = Self.passwordAuth(
            user: .object(["name": .string(c.username), "domain": Self.domainRef(c.userDomain)]),
            password: c.password,
            scope: .object(["project": .object(["name": .string(c.project), "domain": Self.domainRef(c.projectDomain)])]))
        let reply = try await send("POST", "/auth/tokens", body: body, token: nil)
        guard reply.status == 201, let token = reply.headers["x-subject-token"], !token.isEmpty else {
            if reply.status == 401 {
                throw StepFailure(
                    "Keystone at \(c.url.absoluteString) (\(route)) refused the credentials of user \(c.username) "
                        + "(domain \(c.userDomain)) for project \(c.project) (domain \(c.projectDomain)): HTTP 401",
                    detail: keystoneMessage(reply.body))
            }
            throw failure("POST", "/auth/tokens", reply)
        }
        return token
    }

    /// True when `password` is the stored password of the user `userID`: authenticates as that user
    /// (unscoped, so no role is needed). The password itself is never read back — Keystone cannot give it.
    public func passwordWorks(userID: String, password: String) async throws -> Bool {
        if let known = answers.passwordWorks(userID: userID, password: password) { return known }
        let works = try await checkPassword(userID: userID, password: password)
        answers.storePasswordCheck(userID: userID, password: password, works: works)
        return works
    }

    private func checkPassword(userID: String, password: String) async throws -> Bool {
        let body = Self.passwordAuth(user: .object(["id": .string(userID)]), password: password, scope: .string("unscoped"))
        let reply = try await send("POST", "/auth/tokens", body: body, token: nil)
        switch reply.status {
        case 201: return true
        case 401: return false
        default: throw failure("POST", "/auth/tokens", reply)
        }
    }

    static func passwordAuth(user: JSONBody, password: String, scope: JSONBody) -> JSONBody {
        guard case .object(var userObject) = user else { return .null }
        userObject["password"] = .string(password)
        return .object([
            "auth": .object([
                "identity": .object(["methods": .array([.string("password")]), "password": .object(["user": .object(userObject)])]),
                "scope": scope
            ])
        ])
    }

    /// `{"name": "Default"}`, or `{"id": "default"}` for Keystone's default domain id.
    static func domainRef(_ domain: String) -> JSONBody {
        domain == "default" ? .object(["id": .string(domain)]) : .object(["name": .string(domain)])
    }

    // MARK: errors

    /// Keystone's own words from an error body (`{"error": {"message": …}}`), secrets removed.
    func keystoneMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = object["error"] as? [String: Any], let message = error["message"] as? String
        {
            return scrub(message)
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return scrub(text)
    }

    func failure(_ method: String, _ path: String, _ reply: Reply) -> StepFailure {
        let reason = HTTPURLResponseReason.phrase(reply.status)
        let status = reason.isEmpty ? "HTTP \(reply.status)" : "HTTP \(reply.status) \(reason)"
        return StepFailure(
            "Keystone at \(credentials.url.absoluteString) (\(route)): \(method) \(displayPath(path)) → \(status)",
            detail: keystoneMessage(reply.body))
    }

    /// Removes the admin password from text that came from elsewhere (Keystone echoes some inputs).
    func scrub(_ text: String) -> String {
        guard !credentials.password.isEmpty else { return text }
        return text.replacingOccurrences(of: credentials.password, with: "********")
    }
}

/// The reason phrases of the statuses Keystone uses.
enum HTTPURLResponseReason {
    static func phrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 409: return "Conflict"
        case 413: return "Request Entity Too Large"
        case 415: return "Unsupported Media Type"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }
}
