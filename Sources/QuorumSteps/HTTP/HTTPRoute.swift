import Foundation
import QuorumCore

/// How a step's HTTP requests reach a service: through a `direct-tcpip` tunnel of the target's SSH session
/// (the service as the controller sees it), or straight from the machine running Quorum.
public enum HTTPVia: String, Sendable, CaseIterable {
    case tunnel, direct

    /// The `via:` argument every HTTP-speaking step kind shares.
    public static func field(_ service: String) -> ArgField {
        ArgField(
            "via", .choice(allCases.map(\.rawValue)),
            "reach \(service) through the target's SSH session (`tunnel`, default) or from here (`direct`)")
    }

    public init(_ arguments: Arguments) throws {
        self = HTTPVia(rawValue: try arguments.choice("via", Self.allCases.map(\.rawValue)) ?? "tunnel") ?? .tunnel
    }
}

/// Where requests for a service URL are actually sent: the URL itself, or the local end of an SSH tunnel
/// with the real `Host:` header kept.
public struct HTTPRoute: Sendable {
    /// The URL requests go to (`http://127.0.0.1:<tunnel port>/path` through a tunnel).
    public var base: URL
    /// The real `Host:` when going through a tunnel.
    public var hostHeader: String?
    /// "through ctl1's SSH tunnel" / "directly", for messages.
    public var description: String

    /// The route to `url` for the step's host; opens (or reuses) the host's tunnel. `service` names what is
    /// reached, for errors ("Keystone", "RabbitMQ's management API").
    public static func open(_ url: URL, via: HTTPVia, service: String, _ context: StepContext) async throws -> HTTPRoute {
        switch via {
        case .direct:
            return HTTPRoute(base: url, hostHeader: nil, description: "directly")
        case .tunnel:
            guard url.scheme?.lowercased() == "http", let target = url.host else {
                throw StepFailure("\(service) at \(url.absoluteString): `via: tunnel` carries plain http only; use `via: direct` for https")
            }
            let port = url.port ?? 80
            let local: Int
            do {
                local = try await context.remote.tunnel(to: target, port: port)
            } catch let failure as StepFailure {
                throw StepFailure("cannot open an SSH tunnel from \(context.host) to \(service) at \(target):\(port)", detail: failure.description)
            }
            var components = URLComponents()
            components.scheme = "http"
            components.host = "127.0.0.1"
            components.port = local
            let original = URLComponents(url: url, resolvingAgainstBaseURL: false)
            components.percentEncodedPath = original?.percentEncodedPath ?? url.path
            components.percentEncodedQuery = original?.percentEncodedQuery
            guard let base = components.url else { throw StepFailure("cannot build the tunnel URL for \(url.absoluteString)") }
            return HTTPRoute(
                base: base, hostHeader: url.port.map { "\(target):\($0)" } ?? target,
                description: "through \(context.host)'s SSH tunnel")
        }
    }
}
