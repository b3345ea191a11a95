import CCurl
import Foundation
import QuorumThreading

/// Keystone's HTTP through libcurl's easy interface: one handle per transport (so a Keystone that keeps
/// connections alive is reached over one connection), driven by blocking calls on a thread of its own.
///
/// Why not URLSession: on Linux, FoundationNetworking drives curl's sockets through Dispatch sources that
/// wake up thousands of times per request while it waits for the answer (measured: ~5,000 `ioctl`s in one
/// audit), so three audits running at once starved a 2-core controller and timed out after 30 s; and its
/// teardown races those sources at exit (the cause of a `quorum audit` crash with signal 11).
public actor CurlTransport: HTTPTransport {
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let timeout: TimeInterval
    /// Made on first use; `shutdown()` lets it go.
    private var easy: EasyHandle?

    /// - Parameter timeout: seconds allowed to connect, and without a byte from the server; a whole request
    ///   may take twice as long.
    public init(timeout: TimeInterval = 30) {
        self.timeout = timeout
        executor = ThreadExecutor(name: "keystone http")
    }

    deinit { executor.shutdown() }

    /// Closes the connection before the run's tunnels close. A later `send` opens a new one.
    public func shutdown() async { easy = nil }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let problem = Self.libraryProblem { throw HTTPTransportError(problem) }
        if easy == nil { easy = EasyHandle() }
        guard let handle = easy?.pointer else { throw HTTPTransportError("libcurl could not make a handle") }
        quorum_curl_easy_reset(handle)

        let sink = ResponseSink()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headers: UnsafeMutablePointer<curl_slist>?
        defer {
            quorum_curl_slist_free_all(headers)
            errorBuffer.deallocate()
        }
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headers = quorum_curl_slist_append(headers, "\(name): \(value)")
        }
        // No `Expect: 100-continue` round trip before a body.
        headers = quorum_curl_slist_append(headers, "Expect:")

        let options = CurlOptions(handle)
        try options.set(CURLOPT_ERRORBUFFER, pointer: errorBuffer)
        try options.set(CURLOPT_URL, request.url.absoluteString)
        try options.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try options.set(CURLOPT_NOSIGNAL, 1)
        // A tunnel's local end is never reached through a proxy of the environment.
        try options.set(CURLOPT_NOPROXY, "127.0.0.1,localhost,::1")
        let milliseconds = Int(timeout * 1000)
        try options.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds)
        try options.set(CURLOPT_TIMEOUT_MS, 2 * milliseconds)
        try options.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try options.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(timeout.rounded(.up))))
        try options.set(CURLOPT_HTTPHEADER, pointer: headers)
        try setMethod(request, options)

        let user = Unmanaged.passUnretained(sink).toOpaque()
        try options.set(CURLOPT_WRITEFUNCTION, function: ResponseSink.receiveBody)
        try options.set(CURLOPT_WRITEDATA, pointer: user)
        try options.set(CURLOPT_HEADERFUNCTION, function: ResponseSink.receiveHeader)
        try options.set(CURLOPT_HEADERDATA, pointer: user)

        let code = withExtendedLifetime(sink) { quorum_curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            throw HTTPTransportError(Self.describe(code, detail: String(cString: errorBuffer)))
        }
        var status = 0
        _ = quorum_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// GET and HEAD carry no body; POST, PUT, PATCH and DELETE send theirs (copied by libcurl) when they have one.
    private func setMethod(_ request: HTTPRequest, _ options: CurlOptions) throws {
        switch request.method.uppercased() {
        case "GET":
            try options.set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            try options.set(CURLOPT_NOBODY, 1)
        case let method:
            let body = request.body ?? Data()
            if method == "POST" || !body.isEmpty {
                // COPYPOSTFIELDS copies exactly POSTFIELDSIZE bytes, set first.
                try options.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: curl_off_t(body.count))
                if body.isEmpty {
                    try options.set(CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    try body.withUnsafeBytes { try options.set(CURLOPT_COPYPOSTFIELDS, pointer: $0.baseAddress) }
                }
            }
            if method != "POST" { try options.set(CURLOPT_CUSTOMREQUEST, method) }
        }
    }

    /// Opens and initialises libcurl on first use (Sources/CCurl/include/CCurl.h): nil, or why it failed.
    private static let libraryProblem: String? = {
        if let problem = quorum_curl_load() { return String(cString: problem) }
        guard quorum_curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK else {
            return "libcurl could not be initialised"
        }
        return nil
    }()

    /// The cause in a few words first (as the Keystone messages show it), then libcurl's own text.
    static func describe(_ code: CURLcode, detail: String) -> String {
        let text = detail.isEmpty ? String(cString: quorum_curl_easy_strerror(code)) : detail
        let cause: String? =
            switch code {
            case CURLE_OPERATION_TIMEDOUT: "timed out"
            case CURLE_COULDNT_CONNECT: "connection refused"
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: "unknown host"
            case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: "connection lost"
            default: nil
            }
        return cause.map { "\($0): \(text)" } ?? text
    }
}

/// libcurl's `CURL *`: its connection closes when this goes.
private final class EasyHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    init() { pointer = quorum_curl_easy_init() }
    deinit { if let pointer { quorum_curl_easy_cleanup(pointer) } }
}

/// Typed `curl_easy_setopt` calls (the C function is variadic; see Sources/CCurl/include/CCurl.h).
private struct CurlOptions {
    let handle: UnsafeMutableRawPointer

    init(_ handle: UnsafeMutableRawPointer) { self.handle = handle }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(option, quorum_curl_set_long(handle, option, value))
    }

    func set(_ option: CURLoption, offset value: curl_off_t) throws {
        try check(option, quorum_curl_set_offset(handle, option, value))
    }

    /// libcurl copies string options.
    func set(_ option: CURLoption, _ value: String) throws {
        try check(option, value.withCString { quorum_curl_set_pointer(handle, option, $0) })
    }

    func set(_ option: CURLoption, pointer value: UnsafeRawPointer?) throws {
        try check(option, quorum_curl_set_pointer(handle, option, value))
    }

    func set(_ option: CURLoption, function: quorum_curl_data_fn) throws {
        try check(option, quorum_curl_set_data_function(handle, option, function))
    }

    private func check(_ option: CURLoption, _ code: CURLcode) throws {
        guard code == CURLE_OK else {
            throw HTTPTransportError("libcurl refused option \(option.rawValue): \(String(cString: quorum_curl_easy_strerror(code)))")
        }
    }
}

/// What libcurl hands back during one request: the body, and the headers of the last response (a `100
/// Continue` or any interim response starts over).
private final class ResponseSink {
    var body = Data()
    var headers: [String: String] = [:]

    static let receiveBody: quorum_curl_data_fn = { data, size, count, user in
        let length = size * count
        guard let data, let user, length > 0 else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue()
        sink.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
        return length
    }

    static let receiveHeader: quorum_curl_data_fn = { data, size, count, user in
        let length = size * count
        guard let data, let user, length > 0 else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            sink.headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty, sink.headers[name] == nil { sink.headers[name] = value }
        }
        return length
    }
}
