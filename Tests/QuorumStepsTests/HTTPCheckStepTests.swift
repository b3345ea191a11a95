import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import QuorumTesting
import Testing

@testable import QuorumSteps

/// A service for `http_check` unit tests: answers by a handler and records every request.
final class FakeService: HTTPTransport {
    let requests = Locked<[HTTPRequest]>([])
    let answer: @Sendable (HTTPRequest) throws -> HTTPResponse

    init(_ answer: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.withLock { $0.append(request) }
        return try answer(request)
    }

    var sent: [HTTPRequest] { requests.withLock { $0 } }

    /// Magnum's `GET /v1/mservices` with one record per (host, state) given.
    static func mservices(_ conductors: [(String, String)], extra: [[String: Any]] = []) -> HTTPResponse {
        let items: [[String: Any]] =
            conductors.map { ["binary": "magnum-conductor", "host": $0.0, "state": $0.1, "disabled": false] }
            + [["binary": "magnum-api", "host": "ctl9", "state": "down"]] + extra
        return FakeKeystone.json(200, ["mservices": items])
    }
}

@Suite struct HTTPCheckStepTests {
    static let url = "http://10.0.0.10:9511/v1/mservices"
    static let expectUp: Value = .map([
        "path": "mservices", "match": .map(["binary": "magnum-conductor"]), "key": "host",
        "values": .list(["ctl1", "ctl2", "ctl3"]), "require": .map(["state": "up"])
    ])

    /// Runs one `http_check` (default `via: direct`) against `service` (and `keystone` for tokens).
    func run(
        _ values: OrderedDictionary<String, Value>, service: FakeService, keystone: FakeKeystone = FakeKeystone(),
        check: Bool = false, remote: FakeRemote = FakeRemote(), cache: RunCache = RunCache()
    ) async throws -> StepOutcome {
        var arguments = values
        if arguments["url"] == nil { arguments["url"] = .string(Self.url) }
        if arguments["via"] == nil { arguments["via"] = "direct" }
        let step = try HTTPCheckStep(arguments: Arguments(arguments))
        let context = StepContext(
            remote: remote, host: "ctl1", check: check, wantsDiff: true,
            variables: [:], templates: TemplateRenderer(), files: FileResolver(searchPath: []),
            location: nil, cache: cache)
        return try await KeystoneClient.$transportOverride.withValue(keystone) {
            try await HTTPCheckClient.$transportOverride.withValue(service) { try await step.run(context) }
        }
    }

    /// The failure of a check expected to fail.
    func failure(_ values: OrderedDictionary<String, Value>, service: FakeService, check: Bool = false) async throws -> StepFailure {
        do {
            let outcome = try await run(values, service: service, check: check)
            Issue.record("expected a failure, got \(outcome.message ?? "ok")")
            return StepFailure("none")
        } catch let failure as StepFailure {
            return failure
        }
    }

    @Test("every conductor up: ok, never changed, status and JSON body registered, the headers sent")
    func passes() async throws {
        let service = FakeService { _ in FakeService.mservices([("ctl1", "up"), ("ctl2", "up"), ("ctl3", "up")]) }
        let outcome = try await run(
            ["headers": .map(["OpenStack-API-Version": "container-infra latest"]), "expect_items": Self.expectUp],
            service: service)
        #expect(!outcome.changed && outcome.diffs.isEmpty && outcome.unchecked == nil && outcome.skippedReason == nil)
        #expect(outcome.message == "HTTP 200, magnum-conductor on ctl1, ctl2, ctl3: state up")
        #expect(outcome.result["status"] == .int(200))
        let first = outcome.result["json"]?["mservices"]?.listValue?.first
        #expect(first?["host"] == "ctl1" && first?["disabled"] == .bool(false))
        let request = try #require(service.sent.first)
        #expect(service.sent.count == 1 && request.method == "GET" && request.url.absoluteString == Self.url)
        #expect(request.headers["OpenStack-API-Version"] == "container-infra latest")
        #expect(request.headers["X-Auth-Token"] == nil, "no `auth`: no token")
    }

    @Test("a status outside `status` is a health failure naming it, with the start of the answer; accepted statuses pass")
    func wrongStatus() async throws {
        let service = FakeService { _ in FakeKeystone.error(503, "No server is available to handle this request.") }
        let failure = try await failure([:], service: service)
        #expect(failure.health)
        #expect(failure.message == "GET \(Self.url) (directly): HTTP 503 Service Unavailable, want 200")
        #expect(failure.detail?.contains("No server is available") == true)
        #expect(failure.result["status"] == .int(503))

        let accepted = try await run(["status": .list([.int(200), .int(503)])], service: service)
        #expect(accepted.message == "HTTP 503 Service Unavailable" && !accepted.changed)
        let head = FakeService { _ in HTTPResponse(status: 204) }
        let headed = try await run(["method": "HEAD", "status": .int(204)], service: head)
        #expect(headed.result["status"] == .int(204) && head.sent.first?.method == "HEAD")
    }

    @Test("no answer at all is a health failure; a tunnel that cannot open too")
    func noAnswer() async throws {
        let service = FakeService { _ in throw HTTPTransportError("connection refused: Failed to connect") }
        let refused = try await failure([:], service: service)
        #expect(refused.health && refused.message == "GET \(Self.url) (directly): no answer")
        #expect(refused.detail == "connection refused: Failed to connect")

        // FakeRemote opens no tunnel, as a controller whose service port is closed.
        let tunnel = try await failure(["via": "tunnel"], service: service)
        #expect(tunnel.health && tunnel.message.hasPrefix("cannot open an SSH tunnel from ctl1 to the service at 10.0.0.10:9511"))
        #expect(service.sent.count == 1, "nothing is sent without a route")
    }

    @Test(
        "expect_items names each problem: a member down, one missing, a field absent",
        arguments: [
            ([("ctl1", "up"), ("ctl2", "down"), ("ctl3", "up")], "magnum-conductor on ctl2: state down (want up)"),
            ([("ctl1", "up"), ("ctl2", "up")], "no magnum-conductor on ctl3"),
            ([("ctl1", "up"), ("ctl2", "down")], "magnum-conductor on ctl2: state down (want up); no magnum-conductor on ctl3")
        ])
    func itemProblems(conductors: [(String, String)], problems: String) async throws {
        let service = FakeService { _ in FakeService.mservices(conductors) }
        let failure = try await failure(["expect_items": Self.expectUp], service: service)
        #expect(failure.health)
        #expect(failure.message == "GET \(Self.url) (directly): " + problems)
        #expect(failure.result["json"]?["mservices"] != nil, "the answer is registered for `until`")
    }

    @Test("expect_items on answers of the wrong shape, and without `values`")
    func itemShapes() {
        let up = ItemsExpectation(path: ["mservices"], match: ["binary": "magnum-conductor"], key: "host", require: ["state": "up"])
        let list: Value = .map([
            "mservices": .list([
                .map(["binary": "magnum-conductor", "host": "ctl1", "state": "up"]),
                .map(["binary": "magnum-conductor", "host": "ctl2"]),
                .map(["binary": "magnum-conductor", "host": "ctl3", "state": .null])
            ])
        ])
        #expect(up.problems(in: list) == ["magnum-conductor on ctl2: no state (want up)", "magnum-conductor on ctl3: no state (want up)"])
        #expect(up.problems(in: .map(["services": .list([])])) == ["no `mservices` in the answer"])
        #expect(up.problems(in: .map(["mservices": "none"])) == ["`mservices` is a string, not a list"])
        #expect(up.problems(in: .map(["mservices": .list([])])) == ["no magnum-conductor in mservices"])
        let nested = ItemsExpectation(path: ["data", "0", "agents"], key: "name", values: ["a"], require: ["alive": "true"])
        let agents: Value = .map(["data": .list([.map(["agents": .list([.map(["name": "a", "alive": .bool(false)])])])])])
        #expect(nested.problems(in: agents) == ["item with name a: alive false (want true)"])
        #expect(nested.problems(in: .map(["data": .list([])])) == ["no `data.0` in the answer"])
    }

    @Test("an answer that is not JSON fails expect_items as health")
    func notJSON() async throws {
        let service = FakeService { _ in HTTPResponse(status: 200, body: Data("<html>maintenance</html>".utf8)) }
        let failure = try await failure(["expect_items": Self.expectUp], service: service)
        #expect(failure.health && failure.message.hasSuffix(": the answer is not JSON") && failure.detail == "<html>maintenance</html>")
    }

    @Test("with `auth`: one Keystone token sent as X-Auth-Token, never in the message, the error, the result or a diff")
    func tokenIsSentNeverPrinted() async throws {
        let keystone = FakeKeystone()
        let token = "tok-admin-user"
        // A service that echoes the token back in its error and in its JSON.
        let service = FakeService { request in
            let sent = request.headers["X-Auth-Token"] ?? "none"
            return FakeKeystone.json(request.url.path.hasSuffix("broken") ? 500 : 200, ["error": ["message": "token \(sent) rejected"]])
        }
        let auth = KeystoneRun.auth()
        let cache = RunCache()
        let outcome = try await run(["auth": auth], service: service, keystone: keystone, cache: cache)
        #expect(service.sent.first?.headers["X-Auth-Token"] == token)
        let printed = [outcome.message ?? "", String(describing: outcome.result), outcome.diffs.map(\.subject).joined()].joined()
        #expect(!printed.contains(token) && printed.contains("token ******** rejected"), "\(printed)")

        do {
            _ = try await run(["auth": auth, "url": "http://10.0.0.10:9511/broken"], service: service, keystone: keystone, cache: cache)
            Issue.record("a 500 must fail")
        } catch let failure as StepFailure {
            let text = failure.description + String(describing: failure.result)
            #expect(failure.health && !text.contains(token) && text.contains("token ******** rejected"), "\(text)")
        }
        #expect(keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 1, "one token per run")
        #expect(keystone.writes.isEmpty)

        // Credentials Keystone refuses are not the service's health: a failed probe.
        let refused = try await failure(["auth": KeystoneRun.auth(password: "wrong")], service: service)
        #expect(!refused.health && refused.message.contains("refused the credentials"))
    }

    @Test("fresh_token: each check issues a token of its own (never the run's cached one); it needs auth")
    func freshTokenPerCheck() async throws {
        let keystone = FakeKeystone()
        let service = FakeService { _ in FakeKeystone.json(200, [:]) }
        let cache = RunCache()
        for _ in 1...3 {
            _ = try await run(["auth": KeystoneRun.auth(), "fresh_token": .bool(true)], service: service, keystone: keystone, cache: cache)
        }
        _ = try await run(["auth": KeystoneRun.auth()], service: service, keystone: keystone, cache: cache)
        _ = try await run(["auth": KeystoneRun.auth()], service: service, keystone: keystone, cache: cache)
        // Three fresh ones, then the run's token once for the two ordinary checks.
        #expect(keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 4, "\(keystone.requests)")
        #expect(service.sent.count == 5 && service.sent.allSatisfy { $0.headers["X-Auth-Token"] != nil })
        #expect(keystone.writes.isEmpty)
        #expect(throws: StepFailure.self) { try HTTPCheckStep(arguments: Arguments(["url": "http://vip/", "fresh_token": .bool(true)])) }
    }

    @Test("a token the service no longer accepts is renewed once")
    func renewsTheToken() async throws {
        let keystone = FakeKeystone()
        let calls = Locked(0)
        let service = FakeService { _ in
            let n = calls.withLock { count in
                count += 1
                return count
            }
            return n == 1 ? FakeKeystone.error(401, "expired") : FakeKeystone.json(200, [:])
        }
        let outcome = try await run(["auth": KeystoneRun.auth()], service: service, keystone: keystone)
        #expect(outcome.result["status"] == .int(200) && service.sent.count == 2)
        #expect(keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 2)
    }

    @Test("check mode: the same requests and the same outcome as apply, on a read-only host, nothing written")
    func checkModeIsApply() async throws {
        for conductors in [[("ctl1", "up"), ("ctl2", "up"), ("ctl3", "up")], [("ctl1", "up"), ("ctl2", "down")]] {
            var seen: [(String, [String])] = []
            for check in [false, true] {
                let keystone = FakeKeystone()
                let service = FakeService { _ in FakeService.mservices(conductors) }
                let remote = FakeRemote()
                let result: String
                do {
                    let outcome = try await run(
                        ["auth": KeystoneRun.auth(), "expect_items": Self.expectUp], service: service,
                        keystone: keystone, check: check, remote: remote)
                    #expect(!outcome.changed && outcome.unchecked == nil && outcome.skippedReason == nil)
                    result = outcome.message ?? ""
                } catch let failure as StepFailure {
                    #expect(failure.health)
                    result = failure.description
                }
                #expect(keystone.writes.isEmpty && remote.writes.isEmpty)
                seen.append((result, service.sent.map { "\($0.method) \($0.url.absoluteString) \($0.headers.keys.sorted())" }))
            }
            #expect(seen[0].0 == seen[1].0 && seen[0].1 == seen[1].1, "apply \(seen[0]) vs check \(seen[1])")
        }
    }

    @Test("arguments: only GET and HEAD, at load time with file:line:col; URLs with credentials, https through a tunnel, bad statuses refused")
    func arguments() throws {
        let path = NSTemporaryDirectory() + "quorum-http-check-\(UUID().uuidString.prefix(8)).yml"
        try """
        - hosts: all
          steps:
            - http_check: {url: "http://vip:9511/", method: POST}
            - http_check: {url: "http://vip:9511/", expect_items: {path: mservices}}
            - http_check: {url: "http://vip:9511/", auth: ~, status: [200, 204], headers: {X-A: b}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var collector = DiagnosticCollector()
        _ = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(path, into: &collector)
        let errors = collector.diagnostics
        #expect(errors.count == 2, "\(errors.map(\.description))")
        #expect(errors.first?.message.contains("`http_check.method` must be one of `GET`, `HEAD`, found `POST`") == true)
        #expect(errors.first?.location?.line == 3 && errors.first?.location?.column == 53)
        #expect(errors.last?.message.contains("missing the required argument `key`") == true && errors.last?.location?.line == 4)

        func refused(_ values: OrderedDictionary<String, Value>) -> String {
            do {
                _ = try HTTPCheckStep(arguments: Arguments(values))
                return "accepted"
            } catch {
                return String(describing: error)
            }
        }
        #expect(refused(["url": "http://vip/", "method": "DELETE"]).contains("`http_check.method` must be one of `GET`, `HEAD`, found `DELETE`"))
        #expect(refused(["url": "http://admin:pw@vip/"]).contains("must not hold credentials"))
        #expect(refused(["url": "https://vip/"]).contains("`via: tunnel` carries plain http only"))
        #expect(refused(["url": "https://vip/", "via": "direct"]) == "accepted")
        #expect(refused(["url": "vip:9511"]).contains("must be an http(s) URL"))
        #expect(refused(["url": "http://vip/", "status": .list(["ok"])]).contains("`http_check.status[0]` must be an integer from 100 to 599"))
        #expect(refused(["url": "http://vip/", "headers": .map(["Bad Name": "x"])]).contains("header `Bad Name`"))
        #expect(refused(["url": "http://vip/", "headers": .map(["X": "a\r\nInjected: 1"])]).contains("single-line value"))
        #expect(refused(["url": "http://vip/", "method": "HEAD", "expect_items": Self.expectUp]).contains("needs the body"))
        #expect(
            refused(["url": "http://vip/", "expect_items": .map(["key": "host", "valeus": .list(["a"])])]).contains(
                "`http_check.expect_items` has no argument `valeus`"))
        #expect(HTTPCheckStep.isHealthCheck && !WaitForStep.isHealthCheck && HTTPCheckStep.defaultsFamily == "keystone")
    }
}
