import Foundation
import QuorumCore
import QuorumHTTP

/// A client of RabbitMQ's management HTTP API for one run (one route, one HTTP connection), logged in with
/// basic authentication as the admin of `api:`. In check mode it refuses — before anything is sent — every
/// request but GET: a dry run cannot change the broker.
public final class RabbitMQClient: Sendable, RunResource {
    public let connection: RabbitMQConnection
    /// Where requests go: the API URL itself, or the local end of the host's SSH tunnel.
    let route: HTTPRoute
    public let readOnly: Bool
    let transport: any HTTPTransport

    /// Unit tests replace the network with a fake broker.
    @TaskLocal public static var transportOverride: (any HTTPTransport)?

    static let service = "RabbitMQ's management API"

    /// "RabbitMQ's management API at http://10.0.0.10:15672 (through ctl1's SSH tunnel)", for errors.
    var server: String { "\(Self.service) at \(connection.url.absoluteString) (\(route.description))" }

    public init(connection: RabbitMQConnection, route: HTTPRoute, readOnly: Bool, transport: any HTTPTransport) {
        self.connection = connection
        self.route = route
        self.readOnly = readOnly
        self.transport = transport
    }

    public func close() async { await transport.shutdown() }

    /// The client for this step's host and login, made once per run.
    public static func connect(_ connection: RabbitMQConnection, _ context: StepContext) async throws -> RabbitMQClient {
        let override = transportOverride
        let check = context.check
        return try await context.cache.value(connection.cacheKey(host: context.host), as: RabbitMQClient.self) {
            let transport = override ?? CurlTransport()
            let route = try await HTTPRoute.open(connection.url, via: connection.via, service: service, context)
            return RabbitMQClient(connection: connection, route: route, readOnly: check, transport: transport)
        }
    }

    // MARK: requests

    /// `/api/` and each segment percent-encoded whole (a vhost `/` is `%2F`).
    static func path(_ segments: [String]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return "/api/" + segments.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
    }

    /// Sends one request; throws for a refused write in check mode, no answer, or a 401 (the admin login).
    /// Other statuses are the caller's to judge. `secrets` are masked in any error (besides the admin password).
    func send(_ method: String, _ segments: [String], body: JSONBody? = nil, secrets: [String] = []) async throws -> HTTPResponse {
        let path = Self.path(segments)
        guard !readOnly || method == "GET" else {
            throw StepFailure("check mode is read-only: refused to send \(method) \(path) to \(Self.service)")
        }
        guard var components = URLComponents(url: route.base, resolvingAgainstBaseURL: false) else {
            throw StepFailure("cannot build a URL of \(Self.service) for \(path)")
        }
        components.percentEncodedPath += path
        guard let url = components.url else { throw StepFailure("cannot build a URL of \(Self.service) for \(path)") }
        let login = Data("\(connection.username):\(connection.password)".utf8).base64EncodedString()
        var headers = ["Accept": "application/json", "User-Agent": "quorum", "Authorization": "Basic " + login]
        if let hostHeader = route.hostHeader { headers["Host"] = hostHeader }
        if body != nil { headers["Content-Type"] = "application/json" }
        let data = try body.map { try JSONEncoder.sortedKeys.encode($0) }
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: method, url: url, headers: headers, body: data))
        } catch let error as HTTPTransportError {
            throw StepFailure(
                "no answer from \(server) to \(method) \(path)",
                detail: scrub(error.message, secrets))
        }
        if response.status == 401 {
            throw StepFailure(
                "\(server) refused the login of user "
                    + "\(connection.username): HTTP 401", detail: serverMessage(response.body, secrets))
        }
        return response
    }

    /// GET that returns nil on 404.
    func get(_ segments: [String]) async throws -> Data? {
        let response = try await send("GET", segments)
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw failure("GET", segments, response, [])
        }
    }

    /// GET decoded as `T`; nil on 404.
    func get<T: Decodable>(_ segments: [String], as type: T.Type = T.self) async throws -> T? {
        guard let data = try await get(segments) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw StepFailure(
                "unexpected answer from \(Self.service) at \(connection.url.absoluteString) to GET \(Self.path(segments))",
                detail: scrub(String(describing: error), []))
        }
    }

    /// PUT or DELETE; any status but 200, 201 and 204 is an error naming the call and the broker's reason.
    func change(_ method: String, _ segments: [String], body: JSONBody? = nil, secrets: [String] = []) async throws {
        let response = try await send(method, segments, body: body, secrets: secrets)
        guard [200, 201, 204].contains(response.status) else { throw failure(method, segments, response, secrets) }
    }

    // MARK: errors

    func failure(_ method: String, _ segments: [String], _ response: HTTPResponse, _ secrets: [String]) -> StepFailure {
        let reason = HTTPURLResponseReason.phrase(response.status)
        let status = reason.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status) \(reason)"
        return StepFailure(
            "\(server): \(method) \(Self.path(segments)) → \(status)",
            detail: serverMessage(response.body, secrets))
    }

    /// The broker's words from an error body (`{"error": "bad_request", "reason": …}`), secrets masked.
    func serverMessage(_ body: Data, _ secrets: [String]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            let error = object["error"] as? String
            let reason: String? =
                switch object["reason"] {
                case let text as String: text
                case .some(let other):
                    (try? JSONSerialization.data(withJSONObject: other, options: [.fragmentsAllowed]))
                        .map { String(decoding: $0, as: UTF8.self) }
                case .none: nil
                }
            let text = [error, reason].compactMap { $0 }.joined(separator: ": ")
            if !text.isEmpty { return scrub(text, secrets) }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return scrub(text, secrets)
    }

    /// Removes the admin password and `secrets` from text that came from elsewhere.
    func scrub(_ text: String, _ secrets: [String]) -> String {
        var out = text
        for secret in [connection.password] + secrets where !secret.isEmpty {
            out = out.replacingOccurrences(of: secret, with: "********")
        }
        return out
    }
}

extension JSONEncoder {
    /// Request bodies with their keys in a stable order.
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
