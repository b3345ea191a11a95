import Foundation
import QuorumCore

/// The admin login of RabbitMQ's management API (`api: {url, username, password}`) and how it is reached
/// (`via: tunnel|direct`), usually set once per play through `defaults: {rabbitmq: {api: …}}`.
public struct RabbitMQConnection: Sendable, Equatable {
    /// The management API's base URL as the controller sees it, without a trailing `/` or `/api`
    /// (`http://10.0.0.10:15672`; a reverse proxy's prefix such as `/rabbitmq` is kept).
    public var url: URL
    public var username: String
    public var password: String
    public var via: HTTPVia

    /// Inner fields are checked here rather than by the schema: a step may give part of `api` and the
    /// play's `defaults: {rabbitmq: {api: …}}` the rest.
    public static let apiSchema = ArgSchema([
        ArgField("url", .string, required: true, "management API as the controller sees it, e.g. http://VIP:15672"),
        ArgField("username", .string, required: true, "an administrator of the broker"),
        ArgField("password", .string, required: true, secret: true, "that administrator's password")
    ])

    public static let fields: [ArgField] = [
        ArgField(
            "api", .object(apiSchema), required: true,
            "RabbitMQ management API login (usually play `defaults: {rabbitmq: {api: …}}`)"),
        HTTPVia.field("RabbitMQ's management API")
    ]

    public init(url: URL, username: String, password: String, via: HTTPVia = .tunnel) {
        self.url = url
        self.username = username
        self.password = password
        self.via = via
    }

    public init(arguments: Arguments) throws {
        guard let api = try arguments.map("api") else {
            throw StepFailure("argument `api` is required (set it once with `defaults: {rabbitmq: {api: …}}`)")
        }
        let inner = Arguments(api, location: arguments.location)
        url = try Self.normalize(try inner.requiredString("url"))
        username = try inner.requiredString("username")
        password = try inner.requiredString("password")
        via = try HTTPVia(arguments)
    }

    /// `http://vip:15672`, `http://vip:15672/`, `http://vip:15672/api/` → `http://vip:15672`.
    public static func normalize(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix("/api") { trimmed.removeLast(4) }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil
        else {
            throw StepFailure("`api.url` must be an http(s) URL such as http://10.0.0.10:15672, got `\(text)`")
        }
        return url
    }

    /// The run-cache key of the client: route, URL and user (the password only through a per-process hash).
    func cacheKey(host: String) -> String {
        var hasher = Hasher()
        hasher.combine(password)
        return "rabbitmq-client \(via.rawValue) \(via == .tunnel ? host : "-") \(url.absoluteString) user=\(username) #\(hasher.finalize())"
    }
}
