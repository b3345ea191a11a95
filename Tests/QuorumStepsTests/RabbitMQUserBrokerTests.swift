import Foundation
import OrderedCollections
import QuorumCore
import QuorumHTTP
import Testing

@testable import QuorumSteps

/// `rabbitmq_user` against a real RabbitMQ 3.10 (Debian's rabbitmq-server) started on loopback for this test,
/// through libcurl, `via: direct`. One broker for every case: starting one takes from 10 s to a minute.
@Suite(.enabled(if: LoopbackRabbitMQ.installed, "rabbitmq-server is not installed"))
struct RabbitMQUserBrokerTests {
    @Test(
        "create, no change, check mode writes nothing and predicts apply, password change (old refused, new accepted), tags, permissions, absent",
        .timeLimit(.minutes(10)))
    func realBroker() async throws {
        let broker = try LoopbackRabbitMQ()
        defer { broker.stop() }
        try await broker.ready()
        let run = { (check: Bool, values: OrderedDictionary<String, Value>) in
            try await RabbitMQRun(nil, check: check, url: broker.url, admin: (broker.adminUser, broker.adminPassword)).run(values)
        }
        #expect(try await whoami(broker, broker.adminUser, broker.adminPassword) == 200)
        let first = "Magnum-1st \"pw\" ü"
        let second = "Magnum-2nd-pw"
        var magnum: OrderedDictionary<String, Value> = [
            "name": "magnum", "password": .string(first), "vhost": "/magnum",
            "tags": .list(["management"])
        ]

        // Check mode on a fresh broker: the whole creation predicted, nothing written (rabbitmqctl's view).
        let pristine = try await snapshot(broker)
        let predicted = try await run(true, magnum)
        #expect(try await snapshot(broker) == pristine)
        #expect(predicted.message == "would create vhost /magnum; would create user magnum; would set permissions on /magnum")

        let created = try await run(false, magnum)
        #expect(created.changed && created.diffs == predicted.diffs)
        #expect(created.message == "created vhost /magnum; created user magnum; set permissions on /magnum")
        #expect(try await whoami(broker, "magnum", first) == 200)
        let afterCreate = try await snapshot(broker)
        #expect(afterCreate.users.contains("magnum\t[management]"), "\(afterCreate.users)")
        #expect(afterCreate.vhosts.contains("/magnum"))
        #expect(afterCreate.permissions.contains("/magnum\t.*\t.*\t.*"), "\(afterCreate.permissions)")

        let again = try await run(false, magnum)
        #expect(!again.changed && again.diffs.isEmpty, "\(again.message ?? "")")
        #expect(!(try await run(true, magnum)).changed)

        // A new password: check predicts it and changes nothing; apply sets it; the old one is refused.
        magnum["password"] = .string(second)
        let before = try await snapshot(broker)
        let checkPassword = try await run(true, magnum)
        #expect(try await snapshot(broker) == before)
        #expect(try await whoami(broker, "magnum", first) == 200, "check mode left the password alone")
        #expect(checkPassword.diffs == [Diff(subject: "password of rabbitmq user magnum", before: "(stored)", after: "(new)", secret: true)])
        let setPassword = try await run(false, magnum)
        #expect(setPassword.changed && setPassword.diffs == checkPassword.diffs)
        #expect(try await whoami(broker, "magnum", first) == 401)
        #expect(try await whoami(broker, "magnum", second) == 200)
        #expect(!(try await run(false, magnum)).changed)

        // Tags alone: the user is updated in place, its password (the stored hash is sent back) and permissions kept.
        magnum["tags"] = .list(["management", "monitoring"])
        let beforeTags = try await snapshot(broker)
        let tagged = try await run(false, magnum)
        #expect(tagged.diffs == [Diff(subject: "tags of rabbitmq user magnum", before: "management", after: "management, monitoring")])
        let afterTags = try await snapshot(broker)
        #expect(afterTags.permissions == beforeTags.permissions && afterTags.vhosts == beforeTags.vhosts)
        #expect(afterTags.users.contains("magnum\t[management, monitoring]"), "\(afterTags.users)")
        #expect(try await whoami(broker, "magnum", second) == 200)

        // Permissions with regexps, on another vhost as well.
        magnum["vhost"] = nil
        magnum["permissions"] = .list([
            .map(["vhost": "/magnum", "configure": "^magnum-.*", "write": ".*", "read": ".*"]),
            .map(["vhost": "/", "configure": "^$", "write": "^$", "read": "^amq\\.status$"])
        ])
        let check = try await run(true, magnum)
        let apply = try await run(false, magnum)
        #expect(check.diffs == apply.diffs)
        #expect(
            apply.diffs == [
                Diff(
                    subject: "permissions of magnum on /magnum", before: "configure .* write .* read .*",
                    after: "configure ^magnum-.* write .* read .*"),
                Diff(subject: "permissions of magnum on /", before: "(none)", after: "configure ^$ write ^$ read ^amq\\.status$")
            ])
        #expect(try await whoami(broker, "magnum", second) == 200)
        let permissions = try await snapshot(broker).permissions
        #expect(permissions.contains("/magnum\t^magnum-.*\t.*\t.*") && permissions.contains("/\t^$\t^$\t^amq\\.status$"), "\(permissions)")
        #expect(!(try await run(false, magnum)).changed)

        // Absent: check predicts and keeps the user; apply deletes it; a second run is ok.
        let gone: OrderedDictionary<String, Value> = ["name": "magnum", "state": "absent"]
        let beforeDelete = try await snapshot(broker)
        #expect(try await run(true, gone).message == "would delete user magnum")
        #expect(try await snapshot(broker) == beforeDelete)
        #expect(try await run(false, gone).changed)
        #expect(try await whoami(broker, "magnum", second) == 401)
        #expect(!(try await snapshot(broker).users.contains("magnum")))
        #expect(!(try await run(false, gone)).changed)
    }

    /// The broker as rabbitmqctl lists it: users with tags, vhosts, and magnum's permissions.
    struct Snapshot: Equatable {
        var users: String
        var vhosts: String
        var permissions: String
    }

    func snapshot(_ broker: LoopbackRabbitMQ) async throws -> Snapshot {
        let users = try await broker.ctl(["list_users"])
        let vhosts = try await broker.ctl(["list_vhosts"])
        let permissions = try await broker.ctl(["list_user_permissions", "magnum"])
        #expect(users.status == 0 && vhosts.status == 0, "\(users.output) \(vhosts.output)")
        return Snapshot(users: users.output, vhosts: vhosts.output, permissions: "\(permissions.status) \(permissions.output)")
    }

    /// The status of `GET /api/whoami` with basic authentication: the broker's own password check.
    func whoami(_ broker: LoopbackRabbitMQ, _ user: String, _ password: String) async throws -> Int {
        let transport = CurlTransport(timeout: 30)
        let login = Data("\(user):\(password)".utf8).base64EncodedString()
        let url = try #require(URL(string: broker.url + "/api/whoami"))
        let response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: ["Authorization": "Basic " + login]))
        await transport.shutdown()
        return response.status
    }
}
