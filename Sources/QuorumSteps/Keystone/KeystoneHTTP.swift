import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

/// How requests reach Keystone: URLSession in real runs, a recording fake in unit tests.
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

/// Foundation's URLSession (FoundationNetworking on Linux): an ephemeral session (no cookies, no cache).
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let invalidation = InvalidationSignal()
    private let timeout: TimeInterval

    public init(timeout: TimeInterval = 30) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: invalidation, delegateQueue: nil)
        self.timeout = timeout
    }

    /// True once `shutdown` (or the end of the transport) has torn the session down.
    var isInvalidated: Bool { invalidation.isInvalid }

    deinit { if !invalidation.isInvalid { session.finishTasksAndInvalidate() } }

    /// Invalidates the session and waits (up to 5 s) until FoundationNetworking has torn it down: left to the
    /// process's exit, its curl thread could still be closing a connection over an SSH tunnel that is already
    /// gone while the C libraries' exit handlers run.
    public func shutdown() async {
        session.invalidateAndCancel()
        let deadline = ContinuousClock.now + .seconds(5)
        while !invalidation.isInvalid, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch {
            throw HTTPTransportError(Self.describe(error))
        }
        guard let http = response as? HTTPURLResponse else { throw HTTPTransportError("not an HTTP response") }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }

    /// The cause in a few words (URLError's own text on Linux is "(null)" with the curl message inside).
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        var texts: [String] = []
        if let text = ns.userInfo[NSLocalizedDescriptionKey] as? String { texts.append(text) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
           let text = underlying.userInfo[NSLocalizedDescriptionKey] as? String, !texts.contains(text) {
            texts.append(text)
        }
        if let urlError = error as? URLError {
            switch urlError.code {
            case .timedOut: texts.insert("timed out", at: 0)
            case .cannotConnectToHost: texts.insert("connection refused", at: 0)
            case .networkConnectionLost: texts.insert("connection lost", at: 0)
            case .cannotFindHost: texts.insert("unknown host", at: 0)
            default: break
            }
        }
        return texts.isEmpty ? "\(ns.domain) error \(ns.code)" : texts.joined(separator: ": ")
    }
}

/// Tells when a URLSession has finished invalidating (its delegate's last call).
final class InvalidationSignal: NSObject, URLSessionDelegate, @unchecked Sendable {
    private let invalid = Mutex(false)

    var isInvalid: Bool { invalid.withLock { $0 } }

    func urlSession(_ session: URLSession, didBecomeInvalidWithError error: (any Error)?) {
        invalid.withLock { $0 = true }
    }
}
