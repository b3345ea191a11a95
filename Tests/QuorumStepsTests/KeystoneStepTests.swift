import Foundation
import OrderedCollections
import QuorumCore
import Testing

@testable import QuorumSteps

@Suite struct KeystoneStepTests {
    @Test("the Magnum set on an empty Keystone: everything created once, a second run changes nothing, one token per run")
    func magnumSetIsIdempotent() async throws {
        let keystone = FakeKeystone()
        let first = try await KeystoneRun(keystone).magnum()
        #expect(first.allSatisfy { $0.changed }, "\(first.map(\.message))")
        #expect(keystone.objects("endpoints").count == 3)
        #expect(keystone.objects("users").count == 3)
        #expect(keystone.state.withLock { $0.grants.count } == 2)
        let authCalls = keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }
        #expect(authCalls.count == 1, "one admin token per run, got \(authCalls.count)")

        let before = keystone.requests.count
        let second = try await KeystoneRun(keystone).magnum()
        #expect(second.allSatisfy { !$0.changed }, "\(second.map(\.message))")
        #expect(Array(keystone.requests[before...]).filter { !$0.hasPrefix("GET") && !$0.hasPrefix("HEAD") && !$0.hasPrefix("POST /v3/auth/tokens") } == [])
        // Second run: one admin token plus the two password checks (update_password: always).
        #expect(keystone.requests[before...].filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 3)
    }

    @Test("check mode on an empty Keystone: every create predicted, dependent endpoints and grants included, nothing written")
    func checkModePlansDependencies() async throws {
        let keystone = FakeKeystone()
        let outcomes = try await KeystoneRun(keystone, check: true).magnum()
        #expect(outcomes.count == 9)
        #expect(outcomes.allSatisfy { $0.changed }, "\(outcomes.map(\.message))")
        #expect(outcomes[3].message?.contains("would create (for a service this run would create)") == true)
        #expect(outcomes[8].message?.contains("would grant") == true)
        #expect(keystone.writes == [], "check mode sent \(keystone.writes)")
        #expect(keystone.objects("services").isEmpty)

        // Without the earlier steps, the dependent step fails clearly (apply mode never plans).
        await #expect(throws: StepFailure.self) {
            try await KeystoneRun(keystone).run(KeystoneEndpointStep.self, ["service": "nova", "interface": "public", "url": "http://x/v2"])
        }
    }

    @Test("the client refuses every write in check mode before sending it; authentication passes")
    func clientIsReadOnlyInCheckMode() async throws {
        let keystone = FakeKeystone()
        let credentials = KeystoneCredentials(
            url: try KeystoneCredentials.normalize("http://k:5000"), username: "admin",
            password: FakeKeystone.adminPassword, project: "admin")
        let client = KeystoneClient(
            credentials: credentials, base: credentials.url, hostHeader: nil, route: "directly",
            readOnly: true, transport: keystone, cache: RunCache())
        for method in ["POST", "PATCH", "PUT", "DELETE"] {
            let error = await #expect(throws: StepFailure.self) { try await client.call(method, "/users/x", body: .object([:])) }
            #expect(error?.message.contains("check mode is read-only") == true)
        }
        _ = try await client.call("GET", "/users")
        _ = try await client.call("HEAD", "/projects/p/users/u/roles/r", accept: [204, 404])
        #expect(keystone.requests.map { String($0.prefix(while: { $0 != " " })) }.sorted() == ["GET", "HEAD", "POST"])
        #expect(keystone.requests.contains("POST /v3/auth/tokens"))
    }

    @Test("an endpoint URL changed by hand: check predicts it, apply updates that endpoint in place")
    func endpointURLUpdatedInPlace() async throws {
        let keystone = FakeKeystone()
        _ = try await KeystoneRun(keystone).magnum()
        keystone.setField("endpoints", where: "interface", is: "internal", "url", "http://old:9511/v1")
        let id = try #require(keystone.objects("endpoints").first { $0["interface"] as? String == "internal" }?["id"] as? String)

        let step: [String: Value] = ["service": "magnum", "interface": "internal", "url": "http://10.21.22.2:9511/v1", "region": "RegionOne"]
        let check = try await KeystoneRun(keystone, check: true).run(KeystoneEndpointStep.self, .init(uniqueKeysWithValues: step.map { ($0, $1) }))
        #expect(check.changed)
        #expect(
            check.diffs == [Diff(subject: "keystone endpoint magnum internal RegionOne url", before: "http://old:9511/v1", after: "http://10.21.22.2:9511/v1")])
        #expect(keystone.writes.filter { $0.hasPrefix("PATCH") } == [])

        let apply = try await KeystoneRun(keystone).run(KeystoneEndpointStep.self, .init(uniqueKeysWithValues: step.map { ($0, $1) }))
        #expect(apply.changed)
        #expect(keystone.writes.last == "PATCH /v3/endpoints/\(id)")
        #expect(keystone.objects("endpoints").count == 3)
        #expect(keystone.objects("endpoints").first { $0["id"] as? String == id }?["url"] as? String == "http://10.21.22.2:9511/v1")
    }

    @Test("update_password: always detects a password changed by hand by logging in; on_create leaves it")
    func passwordCheckedByLoggingIn() async throws {
        let keystone = FakeKeystone()
        _ = try await KeystoneRun(keystone).magnum()
        keystone.setPassword(user: "magnum", "changed-by-hand")

        let onCreate = try await KeystoneRun(keystone).run(
            KeystoneUserStep.self,
            [
                "name": "magnum", "password": "magnum-Pa55",
                "update_password": "on_create"
            ])
        #expect(!onCreate.changed)

        let check = try await KeystoneRun(keystone, check: true).run(KeystoneUserStep.self, ["name": "magnum", "password": "magnum-Pa55"])
        #expect(check.changed)
        #expect(check.diffs.count == 1 && check.diffs[0].secret)
        #expect(keystone.writes.filter { $0.hasPrefix("PATCH") } == [])

        let apply = try await KeystoneRun(keystone).run(KeystoneUserStep.self, ["name": "magnum", "password": "magnum-Pa55"])
        #expect(apply.changed)
        #expect(keystone.state.withLock { s in s.passwords.values.contains("magnum-Pa55") && !s.passwords.values.contains("changed-by-hand") })
        let again = try await KeystoneRun(keystone).run(KeystoneUserStep.self, ["name": "magnum", "password": "magnum-Pa55"])
        #expect(!again.changed)
        // Nothing the step reports holds a password.
        for outcome in [check, apply, again] {
            let text = "\(outcome.message ?? "") \(outcome.diffs) \(outcome.result)"
            #expect(!text.contains("magnum-Pa55") && !text.contains("changed-by-hand"))
        }
    }

    @Test("wrong admin password, Keystone down, 409 and 403: clear failures naming the call, the status and Keystone's words, no secret")
    func clearErrors() async throws {
        let keystone = FakeKeystone()
        let wrong = await #expect(throws: StepFailure.self) {
            try await KeystoneRun(keystone).run(KeystoneDomainStep.self, ["name": "magnum"], password: "not-the-password")
        }
        #expect(wrong?.description.contains("refused the credentials of user admin") == true)
        #expect(wrong?.description.contains("HTTP 401") == true)
        #expect(wrong?.description.contains("not-the-password") == false)

        keystone.setDown(true)
        let down = await #expect(throws: StepFailure.self) { try await KeystoneRun(keystone).run(KeystoneDomainStep.self, ["name": "magnum"]) }
        #expect(down?.description.contains("no answer from Keystone at http://10.21.22.2:5000/v3 (directly)") == true)
        #expect(down?.description.contains("connection refused") == true)
        keystone.setDown(false)

        let run = KeystoneRun(keystone)
        _ = try await run.run(KeystoneDomainStep.self, ["name": "other"])  // a token in this run's cache
        keystone.failNext(409, "Conflict occurred attempting to store domain - Duplicate entry \(FakeKeystone.adminPassword).")
        let conflict = await #expect(throws: StepFailure.self) { try await run.run(KeystoneDomainStep.self, ["name": "magnum"]) }
        #expect(conflict?.description.contains("GET /v3/domains → HTTP 409 Conflict: Conflict occurred attempting to store domain") == true)
        #expect(conflict?.description.contains(FakeKeystone.adminPassword) == false, "Keystone's echo of the password must be masked")

        keystone.failNext(403, "You are not authorized to perform the requested action: identity:create_domain.")
        let forbidden = await #expect(throws: StepFailure.self) { try await run.run(KeystoneDomainStep.self, ["name": "magnum"]) }
        #expect(forbidden?.description.contains("HTTP 403 Forbidden: You are not authorized") == true)
    }

    @Test("an expired token is renewed once")
    func tokenRenewedOn401() async throws {
        let keystone = FakeKeystone()
        let run = KeystoneRun(keystone)
        _ = try await run.run(KeystoneDomainStep.self, ["name": "magnum"])
        keystone.failNext(401, "The request you have made requires authentication.")
        let outcome = try await run.run(KeystoneDomainStep.self, ["name": "magnum"])
        #expect(!outcome.changed)
        #expect(keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 2)
    }

    @Test("absent: endpoints, grants, users, projects, services and domains removed; a second run is ok")
    func absentRemoves() async throws {
        let keystone = FakeKeystone()
        _ = try await KeystoneRun(keystone).magnum()
        let run = KeystoneRun(keystone)
        #expect(
            try await run.run(
                KeystoneRoleAssignmentStep.self,
                [
                    "user": "magnum_domain_admin", "user_domain": "magnum", "role": "admin",
                    "domain": "magnum", "state": "absent"
                ]
            ).changed)
        #expect(try await run.run(KeystoneUserStep.self, ["name": "magnum_domain_admin", "domain": "magnum", "state": "absent"]).changed)
        #expect(try await run.run(KeystoneDomainStep.self, ["name": "magnum", "state": "absent"]).changed)
        #expect(try await run.run(KeystoneEndpointStep.self, ["service": "magnum", "interface": "admin", "state": "absent"]).changed)
        #expect(keystone.objects("domains").count == 1)
        #expect(keystone.objects("endpoints").count == 2)
        #expect(!(try await run.run(KeystoneDomainStep.self, ["name": "magnum", "state": "absent"]).changed))
        #expect(!(try await run.run(KeystoneEndpointStep.self, ["service": "magnum", "interface": "admin", "state": "absent"]).changed))
    }

    @Test("arguments: auth fields, URL normalisation, via, one role target")
    func arguments() throws {
        let auth = KeystoneRun.auth()
        let step = try KeystoneServiceStep(arguments: Arguments(["name": "magnum", "type": "container-infra", "auth": auth]))
        #expect(step.connection.via == .tunnel)
        #expect(step.connection.credentials.url.absoluteString == "http://10.21.22.2:5000/v3")
        #expect(try KeystoneCredentials.normalize("http://k:5000/v3/").absoluteString == "http://k:5000/v3")
        #expect(throws: StepFailure.self) { try KeystoneCredentials.normalize("ftp://k") }
        #expect(throws: StepFailure.self) {
            try KeystoneDomainStep(arguments: Arguments(["name": "x", "auth": .map(["url": "http://k:5000", "username": "admin"])]))
        }
        #expect(throws: StepFailure.self) {
            try KeystoneRoleAssignmentStep(arguments: Arguments(["user": "u", "role": "admin", "project": "p", "domain": "d", "auth": auth]))
        }
        #expect(throws: StepFailure.self) {
            try KeystoneEndpointStep(arguments: Arguments(["service": "magnum", "interface": "public", "auth": auth]))
        }
        let endpoint = try KeystoneEndpointStep(arguments: Arguments(["service": "magnum", "interface": "public", "url": "http://x", "auth": auth]))
        #expect(endpoint.region == "RegionOne", "the region falls back to auth.region")
        #expect(KeystoneDomainStep.runsOncePerPlay && KeystoneDomainStep.defaultsFamily == "keystone")
        #expect(KeystoneConnection.authSchema.field("password")?.secret == true)
        #expect(KeystoneUserStep.schema.field("password")?.secret == true)
    }
}
