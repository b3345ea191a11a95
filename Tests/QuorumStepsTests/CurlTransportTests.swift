import Foundation
import QuorumHTTP
import Testing

@testable import QuorumSteps

/// CurlTransport against a real HTTP server on loopback (Python's http.server, started per test), which
/// answers with what it received: method, path, headers, body, and the client's port (a reused connection
/// keeps its port).
@Suite struct CurlTransportTests {
    static let serverScript = #"""
        import json, socket, sys, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        class Echo(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def answer(self):
                if self.path == "/silent":
                    time.sleep(60); return
                if self.path == "/hang-up":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR); return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else None
                status = 404 if self.path == "/missing" else 201 if self.command == "POST" else 200
                echo = json.dumps({"method": self.command, "path": self.path, "body": body, "port": self.client_address[1],
                                   "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Subject-Token", "token-" + self.command)
                self.send_header("Content-Length", str(len(echo)))
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(echo)
            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = answer
        server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    /// The server process and its base URL; ended (by its PID) when the test ends. `script` prints its port,
    /// then serves (the echo server by default).
    final class EchoServer {
        let process = Process()
        let base: URL

        init(script: String = CurlTransportTests.serverScript) throws {
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script]
            process.standardOutput = output
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw HTTPTransportError("the echo server did not start") }
                line.append(chunk)
            }
            let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            base = URL(string: "http://127.0.0.1:\(port)")!
        }

        /// SIGKILL: the test runner's children inherit a signal mask that blocks SIGTERM.
        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    struct Echo: Decodable {
        var method: String
        var path: String
        var body: String?
        var port: Int
        var headers: [String: String]
    }

    func echo(_ response: HTTPResponse) throws -> Echo {
        try JSONDecoder().decode(Echo.self, from: response.body)
    }

    @Test("each method reaches the server with its headers and body; status and response headers come back")
    func methodsHeadersAndBodies() async throws {
        let server = try EchoServer()
        let transport = CurlTransport(timeout: 5)
        let body = Data(#"{"user":{"password":"p@ss w:rd"}}"#.utf8)

        let post = try await transport.send(
            HTTPRequest(
                method: "POST", url: server.base.appending(path: "v3/auth/tokens"),
                headers: ["Content-Type": "application/json", "Host": "10.21.22.2:5000"], body: body))
        #expect(post.status == 201)
        #expect(post.header("X-Subject-Token") == "token-POST")
        let posted = try echo(post)
        #expect(posted.method == "POST" && posted.path == "/v3/auth/tokens")
        #expect(posted.body == String(decoding: body, as: UTF8.self))
        #expect(posted.headers["host"] == "10.21.22.2:5000", "the tunnel's real Host header must reach the server")
        #expect(posted.headers["expect"] == nil)

        for method in ["PATCH", "PUT"] {
            let answer = try echo(try await transport.send(HTTPRequest(method: method, url: server.base.appending(path: "x"), body: Data("{}".utf8))))
            #expect(answer.method == method && answer.body == "{}")
        }
        let deleted = try echo(try await transport.send(HTTPRequest(method: "DELETE", url: server.base.appending(path: "v3/services/1"))))
        #expect(deleted.method == "DELETE" && deleted.body == nil)

        let get = try await transport.send(
            HTTPRequest(
                method: "GET", url: URL(string: server.base.absoluteString + "/v3/users?name=magnum&domain_id=d")!,
                headers: ["X-Auth-Token": "t"]))
        let got = try echo(get)
        #expect(got.method == "GET" && got.path == "/v3/users?name=magnum&domain_id=d" && got.body == nil)
        #expect(got.headers["x-auth-token"] == "t")

        let head = try await transport.send(HTTPRequest(method: "HEAD", url: server.base.appending(path: "v3/x")))
        #expect(head.status == 200 && head.body.isEmpty && head.header("x-subject-token") == "token-HEAD")

        let missing = try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "missing")))
        #expect(missing.status == 404)
        await transport.shutdown()
    }

    @Test("requests share one connection while the server keeps it open; shutdown closes it")
    func keepsTheConnection() async throws {
        let server = try EchoServer()
        let transport = CurlTransport(timeout: 5)
        let first = try echo(try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "a"))))
        let second = try echo(try await transport.send(HTTPRequest(method: "POST", url: server.base.appending(path: "b"), body: Data("x".utf8))))
        #expect(first.port == second.port)
        await transport.shutdown()
        let third = try echo(try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "c"))))
        #expect(third.port != first.port, "after shutdown a new connection is made")
        await transport.shutdown()
    }

    @Test("no answer at all: refused, timed out, hung up — each named")
    func failuresAreNamed() async throws {
        let server = try EchoServer()
        let transport = CurlTransport(timeout: 1)
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        do {
            _ = try await transport.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:9/")!))
            Issue.record("nothing listens on port 9")
        } catch let error as HTTPTransportError {
            #expect(error.message.hasPrefix("connection refused"), "\(error.message)")
        }

        let start = ContinuousClock.now
        do {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "silent")))
            Issue.record("a server that never answers must time out")
        } catch let error as HTTPTransportError {
            #expect(error.message.hasPrefix("timed out"), "\(error.message)")
        }
        // The server stays silent for 60 s: "timed out" well before that is the client's own timeout (the bound is
        // loose on purpose: CI runs this while the lab comes up, and a 1 s timeout once took 4.3 s there).
        #expect(ContinuousClock.now - start < .seconds(20), "a 1 s timeout took \(ContinuousClock.now - start)")

        do {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "hang-up")))
            Issue.record("a server that hangs up must be an error")
        } catch let error as HTTPTransportError {
            #expect(error.message.hasPrefix("connection lost"), "\(error.message)")
        }
        // The transport still works after failures.
        let fine = try await transport.send(HTTPRequest(method: "GET", url: server.base.appending(path: "ok")))
        #expect(fine.status == 200)
        await transport.shutdown()
    }
}
