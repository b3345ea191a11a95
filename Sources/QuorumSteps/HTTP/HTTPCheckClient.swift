import Foundation
import QuorumCore
import QuorumHTTP

/// The HTTP connection of `http_check` to one service origin (`http://vip:9511`) for one run and route: one
/// tunnel from the host (or none, `via: direct`) and one libcurl connection, whatever the number of checks.
public final class HTTPCheckClient: Sendable, RunResource {
    let route: HTTPRoute
    let transport: any HTTPTransport

    /// Unit tests replace the network with a fake transport.
    @TaskLocal public static var transportOverride: (any HTTPTransport)?

    init(route: HTTPRoute, transport: any HTTPTransport) {
        self.route = route
        self.transport = transport
    }

    public func close() async { await transport.shutdown() }

    /// The client for `url`'s origin from the step's host (per host through a tunnel, shared `direct`), made
    /// once per run and timeout.
    static func connect(_ url: URL, via: HTTPVia, timeout: Double, _ context: StepContext) async throws -> HTTPCheckClient {
        guard var origin = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw StepFailure("cannot read the URL \(url.absoluteString)")
        }
        origin.percentEncodedPath = ""
        origin.query = nil
        origin.fragment = nil
        guard let originURL = origin.url else { throw StepFailure("cannot read the URL \(url.absoluteString)") }
        let key = "http-check \(via.rawValue) \(via == .tunnel ? context.host : "-") \(originURL.absoluteString) timeout=\(timeout)"
        let override = transportOverride
        return try await context.cache.value(key, as: HTTPCheckClient.self) {
            let route = try await HTTPRoute.open(originURL, via: via, service: "the service", context)
            return HTTPCheckClient(route: route, transport: override ?? CurlTransport(timeout: timeout))
        }
    }

    /// Sends `method` for `url` along the route (the tunnel's `Host:` header set).
    func send(_ method: String, _ url: URL, headers: [String: String]) async throws -> HTTPResponse {
        guard var components = URLComponents(url: route.base, resolvingAgainstBaseURL: false),
            let target = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else {
            throw StepFailure("cannot build the request URL for \(url.absoluteString)")
        }
        components.percentEncodedPath = target.percentEncodedPath
        components.percentEncodedQuery = target.percentEncodedQuery
        guard let requestURL = components.url else { throw StepFailure("cannot build the request URL for \(url.absoluteString)") }
        var headers = headers
        if let host = route.hostHeader { headers["Host"] = host }
        return try await transport.send(HTTPRequest(method: method, url: requestURL, headers: headers))
    }
}
