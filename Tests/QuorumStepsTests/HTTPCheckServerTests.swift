import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import QuorumTesting
import Testing

@testable import QuorumSteps

/// `http_check` through libcurl (`via: direct`) against a real HTTP server on loopback (Python's http.server,
/// started per test and killed by its PID) that plays Keystone's token endpoint and Magnum's service list.
@Suite struct HTTPCheckServerTests {
    static let script = #"""
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        TOKEN = "gAAAA-real-token-7"
        class Magnum(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def reply(self, status, body, headers={}):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items(): self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                user = body["auth"]["identity"]["password"]["user"]
                if self.path == "/v3/auth/tokens" and user["password"] == "Adm1n-s3cret":
                    self.reply(201, {"token": {}}, {"X-Subject-Token": TOKEN})
                else:
                    self.reply(401, {"error": {"message": "bad credentials"}})
            def do_GET(self):
                if self.headers.get("X-Auth-Token") != TOKEN:
                    return self.reply(401, {"error": {"message": "no token"}})
                if self.headers.get("OpenStack-API-Version") != "container-infra latest":
                    return self.reply(406, {"errors": [{"title": "Not Acceptable"}]})
                down = self.path.endswith("?down")
                self.reply(200, {"mservices": [
                    {"binary": "magnum-conductor", "host": "ctl1", "state": "up"},
                    {"binary": "magnum-conductor", "host": "ctl2", "state": "down" if down else "up"},
                    {"binary": "magnum-api", "host": "ctl3", "state": "up"}]})
        server = ThreadingHTTPServer(("127.0.0.1", 0), Magnum)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    func run(_ server: CurlTransportTests.EchoServer, query: String = "", cache: RunCache) async throws -> StepOutcome {
        let base = server.base.absoluteString
        let step = try HTTPCheckStep(
            arguments: Arguments([
                "url": .string(base + "/v1/mservices" + query), "via": "direct", "timeout": .int(5),
                "auth": .map(["url": .string(base + "/v3"), "username": "admin", "password": "Adm1n-s3cret", "project": "admin"]),
                "headers": .map(["OpenStack-API-Version": "container-infra latest"]),
                "expect_items": .map([
                    "path": "mservices", "match": .map(["binary": "magnum-conductor"]), "key": "host",
                    "values": .list(["ctl1", "ctl2"]), "require": .map(["state": "up"])
                ])
            ]))
        let context = StepContext(
            remote: FakeRemote(), host: "ctl1", check: true, wantsDiff: true, variables: [:],
            templates: TemplateRenderer(), files: FileResolver(searchPath: []), location: nil, cache: cache)
        return try await step.run(context)
    }

    @Test("a token from the server's Keystone, the Magnum header, the list checked: up passes, down is a health failure")
    func realServer() async throws {
        let server = try CurlTransportTests.EchoServer(script: Self.script)
        let cache = RunCache()
        let outcome = try await run(server, cache: cache)
        #expect(outcome.message == "HTTP 200, magnum-conductor on ctl1, ctl2: state up" && !outcome.changed)
        #expect(outcome.result["json"]?["mservices"]?.listValue?.count == 3)
        do {
            _ = try await run(server, query: "?down", cache: cache)
            Issue.record("a conductor down must fail")
        } catch let failure as StepFailure {
            #expect(failure.health)
            #expect(failure.message == "GET \(server.base.absoluteString)/v1/mservices?down (directly): magnum-conductor on ctl2: state down (want up)")
            #expect(!failure.description.contains("gAAAA"))
        }
        for value in await cache.allValues() {
            if let closable = value as? any RunResource { await closable.close() }
        }
    }
}
