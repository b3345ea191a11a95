import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import Testing

@testable import QuorumSteps

@Suite struct RabbitMQUserStepTests {
    static let password = "magnum-Pa55"
    static let magnum: OrderedDictionary<String, Value> = [
        "name": "magnum", "password": .string(password), "vhost": "/magnum", "tags": .list(["management"])
    ]

    @Test("create on an empty broker: vhost, user, permissions in that order; a second run sends only GETs and changes nothing")
    func createThenNoChange() async throws {
        let broker = FakeRabbitMQ()
        let first = try await RabbitMQRun(broker).run(Self.magnum)
        #expect(first.changed)
        #expect(
            first.diffs == [
                Diff(subject: "rabbitmq vhost /magnum", before: nil, after: "present"),
                Diff(subject: "rabbitmq user magnum", before: nil, after: "present"),
                Diff(subject: "password of rabbitmq user magnum", before: nil, after: "(set)", secret: true),
                Diff(subject: "tags of rabbitmq user magnum", before: nil, after: "management"),
                Diff(subject: "permissions of magnum on /magnum", before: "(none)", after: "configure .* write .* read .*")
            ])
        #expect(first.message == "created vhost /magnum; created user magnum; set permissions on /magnum")
        #expect(broker.writes == ["PUT /api/vhosts/%2Fmagnum", "PUT /api/users/magnum", "PUT /api/permissions/%2Fmagnum/magnum"])
        #expect(first.result["user"] == "magnum" && first.result["vhost"] == "/magnum")
        let stored = try #require(broker.user("magnum"))
        #expect(RabbitMQPasswordHash.verify(Self.password, storedHash: stored.hash, algorithm: stored.algorithm) == .matches)
        #expect(stored.tags == ["management"])
        #expect(broker.permission("magnum", "/magnum") == RabbitMQPermission(vhost: "/magnum"))

        let before = broker.requests.count
        let second = try await RabbitMQRun(broker).run(Self.magnum)
        #expect(!second.changed && second.diffs.isEmpty && second.message == "present")
        #expect(broker.requests[before...].allSatisfy { $0.hasPrefix("GET ") }, "\(broker.requests[before...])")
    }

    @Test("check mode sends only GETs, leaves the broker as it was, and reports exactly what apply then does")
    func checkPredictsApply() async throws {
        // From nothing, and from drift: a password, tags and permissions changed by hand, an extra vhost granted.
        let drifted = FakeRabbitMQ()
        drifted.putUser("magnum", password: "changed-by-hand", tags: ["monitoring"])
        drifted.grant("magnum", RabbitMQPermission(vhost: "/magnum", configure: "^$"))
        drifted.grant("magnum", RabbitMQPermission(vhost: "/old"))
        let cases: [(FakeRabbitMQ, would: String, did: String)] = [
            (
                FakeRabbitMQ(), "would create vhost /magnum; would create user magnum; would set permissions on /magnum",
                "created vhost /magnum; created user magnum; set permissions on /magnum"
            ),
            (
                drifted, "would update password and tags of user magnum; would set permissions on /magnum; would remove permissions on /old",
                "updated password and tags of user magnum; set permissions on /magnum; removed permissions on /old"
            )
        ]
        for (broker, would, did) in cases {
            let snapshot = broker.snapshot
            let before = broker.requests.count
            let check = try await RabbitMQRun(broker, check: true).run(Self.magnum)
            #expect(broker.requests[before...].allSatisfy { $0.hasPrefix("GET ") }, "check sent \(broker.writes)")
            #expect(broker.snapshot == snapshot)
            let apply = try await RabbitMQRun(broker).run(Self.magnum)
            #expect(check.changed && apply.changed)
            #expect(check.diffs == apply.diffs)
            #expect(check.message == would && apply.message == did)
            #expect(try await !RabbitMQRun(broker).run(Self.magnum).changed)
        }
        // The drifted broker's diffs, in full.
        let again = FakeRabbitMQ()
        again.putUser("magnum", password: "changed-by-hand", tags: ["monitoring"])
        again.grant("magnum", RabbitMQPermission(vhost: "/magnum", configure: "^$"))
        again.grant("magnum", RabbitMQPermission(vhost: "/old"))
        let check = try await RabbitMQRun(again, check: true).run(Self.magnum)
        #expect(
            check.diffs == [
                Diff(subject: "password of rabbitmq user magnum", before: "(stored)", after: "(new)", secret: true),
                Diff(subject: "tags of rabbitmq user magnum", before: "monitoring", after: "management"),
                Diff(subject: "permissions of magnum on /magnum", before: "configure ^$ write .* read .*", after: "configure .* write .* read .*"),
                Diff(subject: "permissions of magnum on /old", before: "configure .* write .* read .*", after: "(none)")
            ])
    }

    @Test("the client refuses every method but GET in check mode, before sending it")
    func clientIsReadOnlyInCheckMode() async throws {
        let broker = FakeRabbitMQ()
        let connection = RabbitMQConnection(
            url: try RabbitMQConnection.normalize("http://r:15672/api/"), username: "admin",
            password: FakeRabbitMQ.adminPassword, via: .direct)
        #expect(connection.url.absoluteString == "http://r:15672")
        let client = RabbitMQClient(
            connection: connection, route: HTTPRoute(base: connection.url, hostHeader: nil, description: "directly"),
            readOnly: true, transport: broker)
        for method in ["PUT", "POST", "DELETE", "PATCH", "HEAD"] {
            let error = await #expect(throws: StepFailure.self) { try await client.change(method, ["users", "x"], body: .object([:])) }
            #expect(error?.message.contains("check mode is read-only") == true)
        }
        #expect(broker.requests.isEmpty)
        _ = try await client.get(["users", "x"])
        #expect(broker.requests == ["GET /api/users/x"])
    }

    @Test("password: a stored hash of another password differs (then reset); sha512 and md5 hashes of the right one match")
    func passwordComparedBothWays() async throws {
        let broker = FakeRabbitMQ()
        _ = try await RabbitMQRun(broker).run(Self.magnum)
        broker.setUser("magnum") { $0.hash = FakeRabbitMQ.hashed("changed-by-hand") }
        let reset = try await RabbitMQRun(broker).run(Self.magnum)
        #expect(reset.changed)
        #expect(reset.diffs == [Diff(subject: "password of rabbitmq user magnum", before: "(stored)", after: "(new)", secret: true)])
        #expect(reset.message == "updated password of user magnum")
        let body = try #require(broker.bodies.last)
        #expect(body.contains("\"password\":\"\(Self.password)\"") && body.contains("\"tags\":\"management\""))
        let stored = try #require(broker.user("magnum"))
        #expect(RabbitMQPasswordHash.verify(Self.password, storedHash: stored.hash, algorithm: stored.algorithm) == .matches)
        #expect(RabbitMQPasswordHash.verify("changed-by-hand", storedHash: stored.hash, algorithm: stored.algorithm) == .differs)

        for algorithm in [RabbitMQPasswordHash.Algorithm.sha512, .md5] {
            broker.setUser("magnum") {
                $0.hash = FakeRabbitMQ.hashed(Self.password, algorithm)
                $0.algorithm = algorithm.rawValue
            }
            #expect(try await !RabbitMQRun(broker).run(Self.magnum).changed, "\(algorithm)")
        }

        // update_password: on_create never looks at the password of an existing user.
        broker.setUser("magnum") { $0.hash = FakeRabbitMQ.hashed("changed-by-hand") }
        var onCreate = Self.magnum
        onCreate["update_password"] = "on_create"
        #expect(try await !RabbitMQRun(broker).run(onCreate).changed)
    }

    @Test("tags alone: the PUT sends the stored hash back, so the password stays exactly as it was")
    func tagsKeepThePassword() async throws {
        let broker = FakeRabbitMQ()
        _ = try await RabbitMQRun(broker).run(Self.magnum)
        let hashBefore = try #require(broker.user("magnum")?.hash)
        var withTags = Self.magnum
        withTags["tags"] = .list(["management", "monitoring"])
        withTags["update_password"] = "on_create"
        let outcome = try await RabbitMQRun(broker).run(withTags)
        #expect(outcome.diffs == [Diff(subject: "tags of rabbitmq user magnum", before: "management", after: "management, monitoring")])
        let body = try #require(broker.bodies.last)
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
        #expect(sent == ["password_hash": hashBefore, "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "management,monitoring"])
        #expect(!body.contains(Self.password))
        #expect(broker.user("magnum")?.hash == hashBefore)
        #expect(broker.user("magnum")?.tags == ["management", "monitoring"])
        // Order does not matter; `tags` not given leaves them alone; `[]` clears them.
        withTags["tags"] = "monitoring, management"
        #expect(try await !RabbitMQRun(broker).run(withTags).changed)
        withTags["tags"] = nil
        #expect(try await !RabbitMQRun(broker).run(withTags).changed)
        withTags["tags"] = .list([])
        let cleared = try await RabbitMQRun(broker).run(withTags)
        #expect(cleared.diffs == [Diff(subject: "tags of rabbitmq user magnum", before: "management, monitoring", after: "(none)")])
        #expect(broker.user("magnum")?.tags == [])
    }

    @Test("permissions: regexps per vhost, other vhosts' removed unless append_permissions, [] removes all")
    func permissions() async throws {
        let broker = FakeRabbitMQ()
        broker.putUser("magnum", password: Self.password)
        broker.grant("magnum", RabbitMQPermission(vhost: "/"))
        let wanted: Value = .list([
            .map(["vhost": "/magnum", "configure": "^magnum-.*", "write": ".*", "read": ".*"]),
            .map(["vhost": "/shared", "configure": "^$"])
        ])
        let appended = try await RabbitMQRun(broker).run(["name": "magnum", "permissions": wanted, "append_permissions": .bool(true)])
        #expect(appended.message == "created vhost /magnum; created vhost /shared; set permissions on /magnum; set permissions on /shared")
        #expect(broker.permission("magnum", "/") != nil)
        #expect(broker.permission("magnum", "/shared") == RabbitMQPermission(vhost: "/shared", configure: "^$"))
        #expect(broker.permission("magnum", "/magnum")?.configure == "^magnum-.*")

        let exact = try await RabbitMQRun(broker).run(["name": "magnum", "permissions": wanted])
        #expect(exact.diffs == [Diff(subject: "permissions of magnum on /", before: "configure .* write .* read .*", after: "(none)")])
        #expect(broker.writes.last == "DELETE /api/permissions/%2F/magnum")
        #expect(broker.permission("magnum", "/") == nil)

        let none = try await RabbitMQRun(broker).run(["name": "magnum", "permissions": .list([])])
        #expect(none.diffs.count == 2)
        #expect(broker.state.withLock { $0.permissions.isEmpty })
        #expect(none.result["vhost"] == nil && none.result["vhosts"] == .list([]))
    }

    @Test("create_vhost: false: a missing vhost fails before any write, unless an earlier step of a check run plans it")
    func missingVhost() async throws {
        let broker = FakeRabbitMQ()
        var step = Self.magnum
        step["create_vhost"] = .bool(false)
        let error = await #expect(throws: StepFailure.self) { try await RabbitMQRun(broker).run(step) }
        #expect(error?.message.contains("vhost `/magnum` does not exist on the broker at http://10.21.22.2:15672") == true)
        #expect(broker.writes.isEmpty)

        // In one check run, a first user would create the vhost; a second user's step sees it planned.
        let planned = PlannedObjects()
        let first = try await RabbitMQRun(broker, check: true, planned: planned).run(Self.magnum)
        #expect(first.diffs.first == Diff(subject: "rabbitmq vhost /magnum", before: nil, after: "present"))
        var other = step
        other["name"] = "heat"
        let second = try await RabbitMQRun(broker, check: true, planned: planned).run(other)
        #expect(second.changed)
        #expect(!second.diffs.contains { $0.subject.hasPrefix("rabbitmq vhost") }, "the vhost is the first step's to create")
        #expect(second.message?.contains("vhost /magnum is planned by an earlier step") == true)
        #expect(broker.writes.isEmpty)
    }

    @Test("absent: deleted with its permissions; a second run is ok; check mode only predicts")
    func absent() async throws {
        let broker = FakeRabbitMQ()
        _ = try await RabbitMQRun(broker).run(Self.magnum)
        let gone: OrderedDictionary<String, Value> = ["name": "magnum", "state": "absent"]
        let check = try await RabbitMQRun(broker, check: true).run(gone)
        #expect(check.changed && check.message == "would delete user magnum")
        #expect(broker.user("magnum") != nil)
        let apply = try await RabbitMQRun(broker).run(gone)
        #expect(apply.diffs == check.diffs && apply.diffs == [Diff(subject: "rabbitmq user magnum", before: "present", after: nil)])
        #expect(broker.writes.last == "DELETE /api/users/magnum")
        #expect(broker.user("magnum") == nil)
        #expect(broker.vhosts.contains("/magnum"), "vhosts are left alone")
        let again = try await RabbitMQRun(broker).run(gone)
        #expect(!again.changed && again.message == "absent")
    }

    @Test("secrets: never in messages, diffs, results or errors; the wrong admin login, a broker down, an echoing 400")
    func secretsNeverLeak() async throws {
        let broker = FakeRabbitMQ()
        var outcomes: [StepOutcome] = []
        outcomes.append(try await RabbitMQRun(broker, check: true).run(Self.magnum))
        outcomes.append(try await RabbitMQRun(broker).run(Self.magnum))
        broker.setUser("magnum") { $0.hash = FakeRabbitMQ.hashed("changed-by-hand") }
        outcomes.append(try await RabbitMQRun(broker).run(Self.magnum))
        for outcome in outcomes {
            let text = "\(outcome.message ?? "") \(outcome.diffs) \(outcome.result)"
            #expect(!text.contains(Self.password) && !text.contains("changed-by-hand") && !text.contains(FakeRabbitMQ.adminPassword))
        }

        let wrong = await #expect(throws: StepFailure.self) {
            try await RabbitMQRun(broker, admin: ("admin", "not-the-password")).run(Self.magnum)
        }
        #expect(
            wrong?.description
                == "RabbitMQ's management API at http://10.21.22.2:15672 (directly) refused the login of user admin: HTTP 401: not_authorized: Login failed")

        broker.state.withLock { $0.down = true }
        let down = await #expect(throws: StepFailure.self) { try await RabbitMQRun(broker).run(Self.magnum) }
        #expect(
            down?.description == "no answer from RabbitMQ's management API at http://10.21.22.2:15672 (directly) to GET /api/users/magnum: connection refused")
        broker.state.withLock { $0.down = false }

        // A broker that echoes what it was sent: the user's and the admin's passwords are masked.
        broker.setUser("magnum") { $0.hash = FakeRabbitMQ.hashed("changed-by-hand") }
        let echo = "{\"error\":\"bad_request\",\"reason\":\"cannot store {password,<<\\\"\(Self.password)\\\">>} as \(FakeRabbitMQ.adminPassword)\"}"
        let failing = FailingOnWrite(broker, status: 400, body: echo)
        let bad = await #expect(throws: StepFailure.self) {
            try await RabbitMQRun(failing).run(Self.magnum)
        }
        #expect(bad?.message == "RabbitMQ's management API at http://10.21.22.2:15672 (directly): PUT /api/users/magnum → HTTP 400 Bad Request")
        #expect(bad?.detail == "bad_request: cannot store {password,<<\"********\">>} as ********")
    }

    @Test("RabbitMQ's hashes: vectors computed with Python's hashlib (sha256, sha512, md5, UTF-8) and one from a real 3.10 broker")
    func hashVectors() {
        let vectors: [(password: String, algorithm: String?, hash: String)] = [
            // base64(salt + H(salt + utf8(password))), salt 01020304 / deadbeef / 00ff1080 / 7f000001
            ("magnum-Pa55", "rabbit_password_hashing_sha256", "AQIDBAygnPTEx0tKh0aYEUcmzAo83cd4qLrcZb6dD6Hnvcci"),
            (
                "magnum-Pa55", "rabbit_password_hashing_sha512",
                "3q2+72mlCS+pKH9IyJMKvmDHSJ3NG4MUx5L3r6qV2nip2vb+2P+ABMbn5dmUk+QM7LU+Jw5K8ngDeuGKf2Jer4oqBm4="
            ),
            ("magnum-Pa55", "rabbit_password_hashing_md5", "AP8QgGkDUAA20k+IJFatjyavGrc="),
            ("magnum-Pa55", nil, "AP8QgGkDUAA20k+IJFatjyavGrc="),
            ("pässwörd ☃ \"quote\\", "rabbit_password_hashing_sha256", "fwAAAYygVtlpUNyN6NnyPwcEBaRQRJM6phfJy0p9cVQxzxWn"),
            // `rabbitmqctl add_user admin` with password S3cr3t!pw, read back with GET /api/users/admin.
            ("S3cr3t!pw", "rabbit_password_hashing_sha256", "Ox8fTtar2H7ZDBx4Yf06rsFLIvDO12omxm+Qm1URV5HSxjcb")
        ]
        for vector in vectors {
            #expect(
                RabbitMQPasswordHash.verify(vector.password, storedHash: vector.hash, algorithm: vector.algorithm) == .matches,
                "\(vector.algorithm ?? "none") \(vector.hash)")
            #expect(RabbitMQPasswordHash.verify(vector.password + "x", storedHash: vector.hash, algorithm: vector.algorithm) == .differs)
            #expect(RabbitMQPasswordHash.verify(String(vector.password.dropLast()), storedHash: vector.hash, algorithm: vector.algorithm) == .differs)
        }
        let salt: [UInt8] = [1, 2, 3, 4]
        #expect(
            Data(RabbitMQPasswordHash.hash("magnum-Pa55", salt: salt, algorithm: .sha256)).base64EncodedString()
                == "AQIDBAygnPTEx0tKh0aYEUcmzAo83cd4qLrcZb6dD6Hnvcci")
        // The sha256 hash read as sha512 (wrong module), an empty hash (no password), garbage: all differ.
        #expect(RabbitMQPasswordHash.verify("magnum-Pa55", storedHash: vectors[0].hash, algorithm: "rabbit_password_hashing_sha512") == .differs)
        #expect(RabbitMQPasswordHash.verify("magnum-Pa55", storedHash: "", algorithm: "rabbit_password_hashing_sha256") == .differs)
        #expect(RabbitMQPasswordHash.verify("magnum-Pa55", storedHash: "not base64!", algorithm: "rabbit_password_hashing_sha256") == .differs)
        #expect(RabbitMQPasswordHash.verify("x", storedHash: vectors[0].hash, algorithm: "my_plugin_hashing") == .unknownAlgorithm("my_plugin_hashing"))
    }

    @Test("a hash made by an unknown module: the password is left alone, with a note, in check and apply alike")
    func unknownAlgorithm() async throws {
        let broker = FakeRabbitMQ()
        _ = try await RabbitMQRun(broker).run(Self.magnum)
        broker.setUser("magnum") { $0.algorithm = "my_plugin_hashing" }
        let outcome = try await RabbitMQRun(broker).run(Self.magnum)
        #expect(!outcome.changed)
        #expect(outcome.message == "present; password not checked (hashing algorithm `my_plugin_hashing` is unknown to Quorum)")
    }

    @Test("a user created without a password cannot log in with one; names with / and spaces are percent-encoded")
    func noPasswordAndEncoding() async throws {
        let broker = FakeRabbitMQ()
        let outcome = try await RabbitMQRun(broker).run(["name": "svc user/1", "vhost": "/a b"])
        #expect(outcome.diffs.map(\.subject) == ["rabbitmq vhost /a b", "rabbitmq user svc user/1", "permissions of svc user/1 on /a b"])
        #expect(broker.writes == ["PUT /api/vhosts/%2Fa%20b", "PUT /api/users/svc%20user%2F1", "PUT /api/permissions/%2Fa%20b/svc%20user%2F1"])
        #expect(broker.user("svc user/1")?.hash == "")
        #expect(RabbitMQClient.path(["permissions", "/", "ü?#%"]) == "/api/permissions/%2F/%C3%BC%3F%23%25")
    }

    @Test("via: tunnel opens the host's SSH tunnel to the API's host and port; a failure names the host and the service")
    func tunnelFailureIsClear() async throws {
        var step = Self.magnum
        step["via"] = "tunnel"
        let error = await #expect(throws: StepFailure.self) { try await RabbitMQRun(FakeRabbitMQ()).run(step) }
        #expect(error?.message == "cannot open an SSH tunnel from ctl1 to RabbitMQ's management API at 10.21.22.2:15672")
    }

    @Test("arguments: api fields, URL normalisation, via, vhost or permissions, empty password; schema and catalog")
    func arguments() throws {
        let api: Value = .map(["url": "http://10.0.0.10:15672/", "username": "admin", "password": "pw"])
        let step = try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": api]))
        #expect(step.connection.via == .tunnel && step.connection.url.absoluteString == "http://10.0.0.10:15672")
        #expect(step.permissions == [RabbitMQPermission(vhost: "/")])
        #expect(step.updateAlways && step.createVhost && step.present && step.tags == nil)
        #expect(try RabbitMQConnection.normalize("https://mq/rabbitmq/api").absoluteString == "https://mq/rabbitmq")
        #expect(throws: StepFailure.self) { try RabbitMQConnection.normalize("amqp://mq:5672") }
        #expect(throws: StepFailure.self) { try RabbitMQConnection.normalize("http://guest:guest@mq:15672") }
        #expect(throws: StepFailure.self) { try RabbitMQUserStep(arguments: Arguments(["name": "magnum"])) }
        #expect(throws: StepFailure.self) {
            try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": .map(["url": "http://mq:15672", "username": "admin"])]))
        }
        #expect(throws: StepFailure.self) {
            try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": .map(["url": "http://mq", "username": "a", "password": "p", "pasword": "p"])]))
        }
        #expect(throws: StepFailure.self) { try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "password": "", "api": api])) }
        #expect(throws: StepFailure.self) {
            try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": api, "vhost": "/a", "permissions": .list([.map(["vhost": "/b"])])]))
        }
        #expect(throws: StepFailure.self) {
            try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": api, "permissions": .list([.map(["vhost": "/b"]), .map(["vhost": "/b"])])]))
        }
        #expect(throws: StepFailure.self) {
            try RabbitMQUserStep(arguments: Arguments(["name": "magnum", "api": api, "permissions": .list([.map(["vhost": "/b", "writ": ".*"])])]))
        }
        let single = try RabbitMQUserStep(
            arguments: Arguments([
                "name": "magnum", "api": api, "tags": "administrator,management",
                "permissions": .map(["vhost": "/b", "read": "^r"])
            ]))
        #expect(single.permissions == [RabbitMQPermission(vhost: "/b", read: "^r")])
        #expect(single.tags == ["administrator", "management"])

        #expect(RabbitMQUserStep.runsOncePerPlay && RabbitMQUserStep.defaultsFamily == "rabbitmq")
        #expect(RabbitMQUserStep.schema.field("password")?.secret == true)
        #expect(RabbitMQConnection.apiSchema.field("password")?.secret == true)
        #expect(StepCatalog.byName["rabbitmq_user"] is RabbitMQUserStep.Type)
    }
}

/// Passes GETs to the fake broker and answers every write with a fixed error.
struct FailingOnWrite: HTTPTransport {
    let broker: FakeRabbitMQ
    let status: Int
    let body: String

    init(_ broker: FakeRabbitMQ, status: Int, body: String) {
        self.broker = broker
        self.status = status
        self.body = body
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.method == "GET" else { return HTTPResponse(status: status, body: Data(body.utf8)) }
        return try await broker.send(request)
    }
}
