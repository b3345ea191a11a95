import Foundation

/// One HTTP request as the Keystone client builds it.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?

    public init(method: String, url: URL, headers: [String: String] = [:], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response; header names lower-cased.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How requests reach Keystone: libcurl in real runs (CurlTransport), a recording fake in unit tests.
public protocol HTTPTransport: Sendable {
    /// Sends the request; throws `HTTPTransportError` when no HTTP answer came back at all.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Releases the connection machinery before the run's tunnels close and the process exits.
    func shutdown() async
}

extension HTTPTransport {
    public func shutdown() async {}
}

/// No HTTP answer: connection refused, reset, timed out.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
