import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP

/// `http_check`: a health check of a running service over HTTP, read-only (GET or HEAD): the answer's status,
/// and optionally a list in its JSON body (`expect_items`: "a magnum-conductor is up on every controller").
/// With `auth:` (the Keystone steps' credentials, also from the play's `defaults: {keystone: …}`) it sends a
/// Keystone token as `X-Auth-Token`; the token is never printed. It runs alike in apply, check mode and
/// audits, and never changes anything; a service that does not answer as declared is a health failure.
public struct HTTPCheckStep: StepKind {
    public static let name = "http_check"
    public static let summary = "Health check: a service answers an HTTP GET/HEAD with an accepted status (and listed items up), in apply and audit alike"
    public static let schema = ArgSchema([
        ArgField("url", .string, required: true, "the URL as the target host sees it, e.g. http://VIP:9511/v1/mservices"),
        HTTPVia.field("the service"),
        ArgField("method", .choice(["GET", "HEAD"]), default: .string("GET"), "GET or HEAD: a health check only reads"),
        ArgField("headers", .map(.string), "request headers, e.g. {OpenStack-API-Version: container-infra latest}"),
        ArgField("status", .list(.intRange(100...599)), default: .list([.int(200)]), "accepted statuses"),
        ArgField("timeout", .number, default: .double(10), "seconds to connect, and without a byte of the answer"),
        ArgField(
            "auth", .object(KeystoneConnection.authSchema),
            "Keystone credentials: a token goes in X-Auth-Token (the play's `defaults: {keystone: {auth: …}}` apply; `auth: ~` sends none)"),
        ArgField("expect_items", .object(ItemsExpectation.schema), "an assertion over a list in the JSON answer"),
        ArgField(
            "fresh_token", .bool,
            "with `auth`: a token issued for this check alone, so the service must validate it with Keystone itself "
                + "(controllers whose keystonemiddleware shares a memcached token cache accept a token another one "
                + "validated, even with a wrong service password); default false: the run's token")
    ])
    public static var defaultsFamily: String? { "keystone" }
    public static var isHealthCheck: Bool { true }

    public let url: URL
    public let via: HTTPVia
    public let method: String
    public let headers: [String: String]
    public let accepted: [Int]
    public let timeout: Double
    /// Keystone credentials for a token, nil: no token.
    public let keystone: KeystoneConnection?
    public let expectation: ItemsExpectation?
    /// A token of its own for this check (`fresh_token`), never one from the run's cache.
    public let freshToken: Bool

    public init(checked arguments: Arguments) throws {
        let text = try arguments.requiredString("url")
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw StepFailure("argument `url` must be an http(s) URL such as http://10.0.0.10:9511/v1/mservices, got `\(text)`")
        }
        guard url.user == nil, url.password == nil else {
            throw StepFailure("argument `url` must not hold credentials (they would be printed): use `headers` or `auth`")
        }
        via = try HTTPVia(arguments)
        if via == .tunnel, scheme == "https" {
            throw StepFailure("`via: tunnel` carries plain http only; use `via: direct` for \(text)")
        }
        self.url = url
        method = try arguments.value(arguments.string, "method")
        var headers: [String: String] = [:]
        for (name, value) in try arguments.map("headers") ?? [:] {
            guard let text = value.scalarText, value.listValue == nil, value.mapValue == nil else {
                throw StepFailure("header `\(name)` must be a string, got a \(value.typeName)")
            }
            guard Self.isHeaderName(name), !text.contains("\n"), !text.contains("\r") else {
                throw StepFailure("header `\(name)` must be a token name with a single-line value")
            }
            headers[name] = text
        }
        self.headers = headers
        accepted = try arguments.value(arguments.intList, "status")
        timeout = try arguments.value(arguments.number, "timeout")
        guard timeout > 0 else { throw StepFailure("argument `timeout` must be more than 0 seconds") }
        keystone = arguments.has("auth") ? try KeystoneConnection(arguments: arguments) : nil
        expectation = try arguments.map("expect_items").map(ItemsExpectation.init)
        freshToken = try arguments.bool("fresh_token") ?? false
        if freshToken, keystone == nil { throw StepFailure("`fresh_token` needs `auth` (a token to issue)") }
        if expectation != nil, method == "HEAD" {
            throw StepFailure("`expect_items` needs the body: use `method: GET`")
        }
    }

    /// RFC 9110 token characters.
    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0)
            }
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        var keystoneClient: KeystoneClient?
        if let keystone { keystoneClient = try await KeystoneClient.connect(keystone, context) }
        var token = try await freshToken ? keystoneClient?.issueAdminToken() : keystoneClient?.token()
        let client: HTTPCheckClient
        do {
            client = try await HTTPCheckClient.connect(url, via: via, timeout: timeout, context)
        } catch let failure as StepFailure {
            throw StepFailure.unhealthy(failure.message, detail: failure.detail)
        }
        let request = "\(method) \(url.absoluteString) (\(client.route.description))"

        var response = try await send(client, token: token, request: request)
        // A token Keystone revoked since the run began: a new one, once.
        if response.status == 401, let keystoneClient {
            await keystoneClient.forgetToken()
            token = try await freshToken ? keystoneClient.issueAdminToken() : keystoneClient.token()
            response = try await send(client, token: token, request: request)
        }

        var result: OrderedDictionary<String, Value> = ["status": .int(response.status)]
        let document = Value(json: response.body).map { scrub($0, token) }
        if let document { result["json"] = document }
        guard accepted.contains(response.status) else {
            throw StepFailure.unhealthy(
                "\(request): \(Self.statusText(response.status)), want \(accepted.map(String.init).joined(separator: " or "))",
                detail: excerpt(response.body, token), result: result)
        }
        var message = "\(Self.statusText(response.status))"
        if let expectation {
            guard let document else {
                throw StepFailure.unhealthy("\(request): the answer is not JSON", detail: excerpt(response.body, token), result: result)
            }
            let problems = expectation.problems(in: document)
            guard problems.isEmpty else {
                throw StepFailure.unhealthy("\(request): " + problems.joined(separator: "; "), result: result)
            }
            message += ", " + expectation.summary
        }
        return StepOutcome(changed: false, message: message, result: result)
    }

    func send(_ client: HTTPCheckClient, token: String?, request: String) async throws -> HTTPResponse {
        // Header names are case-insensitive: a later one replaces an earlier one however it is spelt.
        var headers: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            headers = headers.filter { $0.key.caseInsensitiveCompare(name) != .orderedSame }
            headers[name] = value
        }
        set("Accept", "application/json")
        set("User-Agent", "quorum")
        for (name, value) in self.headers { set(name, value) }
        if let token { set("X-Auth-Token", token) }
        do {
            return try await client.send(method, url, headers: headers)
        } catch let error as HTTPTransportError {
            throw StepFailure.unhealthy("\(request): no answer", detail: scrubText(error.message, token))
        }
    }

    /// "HTTP 503 Service Unavailable".
    static func statusText(_ status: Int) -> String {
        let reason = HTTPURLResponseReason.phrase(status)
        return reason.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(reason)"
    }

    /// The start of an answer, for a failure's detail, without the token.
    func excerpt(_ body: Data, _ token: String?) -> String? {
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : scrubText(text, token)
    }

    func scrubText(_ text: String, _ token: String?) -> String {
        guard let token, !token.isEmpty else { return text }
        return text.replacingOccurrences(of: token, with: SecretRedactor.mask)
    }

    /// The answer as registered, with the token masked wherever a service echoed it.
    func scrub(_ value: Value, _ token: String?) -> Value {
        guard let token, !token.isEmpty else { return value }
        switch value {
        case .string(let text): return .string(scrubText(text, token))
        case .list(let items): return .list(items.map { scrub($0, token) })
        case .map(let map): return .map(map.mapValues { scrub($0, token) })
        default: return value
        }
    }
}
