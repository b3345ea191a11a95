import Foundation
import OrderedCollections
import QuorumCore
import Synchronization
import Testing

@testable import QuorumSteps

/// Keystone's answers to reads, asked once per run until a write (`KeystoneAnswers`).
@Suite struct KeystoneAnswersTests {
    static func client(_ keystone: FakeKeystone, cache: RunCache = RunCache(), readOnly: Bool = false) throws -> KeystoneClient {
        let credentials = KeystoneCredentials(
            url: try KeystoneCredentials.normalize("http://k:5000"), username: "admin",
            password: FakeKeystone.adminPassword, project: "admin")
        return KeystoneClient(
            credentials: credentials, base: credentials.url, hostHeader: nil, route: "directly",
            readOnly: readOnly, transport: keystone, cache: cache, answers: KeystoneAnswers())
    }

    @Test("a repeated GET and HEAD are sent once; a write drops every answer, so the next read sees it")
    func readsOnceUntilAWrite() async throws {
        let keystone = FakeKeystone()
        let client = try Self.client(keystone)
        let query = [("name", "trustees")]
        let before: [KSDomain] = try await client.list("/domains", key: "domains", query: query)
        let again: [KSDomain] = try await client.list("/domains", key: "domains", query: query)
        #expect(before.isEmpty && again.isEmpty)
        let grant = "/projects/service-project/users/admin-user/roles/admin-role"
        for _ in 0..<2 { #expect(try await client.call("HEAD", grant, accept: [204, 404]).status == 404) }
        #expect(
            keystone.requests.filter { $0.hasPrefix("GET ") || $0.hasPrefix("HEAD ") } == [
                "GET /v3/domains?name=trustees", "HEAD /v3\(grant)"
            ])

        _ = try await client.call("POST", "/domains", body: .object(["domain": .object(["name": .string("trustees")])]), accept: [201])
        let after: [KSDomain] = try await client.list("/domains", key: "domains", query: query)
        #expect(after.map(\.name) == ["trustees"])
        try await client.call("PUT", grant, accept: [204])
        #expect(try await client.call("HEAD", grant, accept: [204, 404]).status == 204)
        #expect(keystone.requests.filter { $0.hasPrefix("GET ") }.count == 2)
        #expect(keystone.requests.filter { $0.hasPrefix("HEAD ") }.count == 2)
    }

    @Test("an answer outside `accept` still fails the call, from the cache too; a refusal is never kept")
    func keptAnswersKeepTheirStatus() async throws {
        let keystone = FakeKeystone()
        let client = try Self.client(keystone)
        for _ in 0..<2 {
            await #expect(throws: StepFailure.self) { try await client.call("GET", "/roles/nope", accept: [200]) }
        }
        #expect(keystone.requests.filter { $0.hasPrefix("GET ") } == ["GET /v3/roles/nope"])
        keystone.failNext(503, "busy")
        await #expect(throws: StepFailure.self) { try await client.call("GET", "/regions/RegionOne", accept: [200]) }
        #expect(try await client.call("GET", "/regions/RegionOne", accept: [200]).status == 200)
        #expect(keystone.requests.filter { $0 == "GET /v3/regions/RegionOne" }.count == 2)
    }

    @Test("an apply's preflight and its steps share the token and the answers: the no-change steps ask Keystone nothing")
    func preflightAnswersServeTheRun() async throws {
        let keystone = FakeKeystone()
        _ = try await KeystoneRun(keystone).magnum()
        let start = keystone.requests.count

        let runCache = RunCache()
        let preflight = try await KeystoneRun(keystone, check: true, cache: RunCache(sharingWith: runCache)).magnum()
        #expect(preflight.allSatisfy { !$0.changed }, "\(preflight.map(\.message))")
        let asked = Array(keystone.requests[start...])
        let reads = asked.filter { $0.hasPrefix("GET ") || $0.hasPrefix("HEAD ") }
        #expect(Set(reads).count == reads.count, "a read asked twice: \(reads)")
        // One admin token, and each user's password checked once.
        #expect(asked.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == 3)

        let middle = keystone.requests.count
        let apply = try await KeystoneRun(keystone, cache: runCache).magnum()
        #expect(apply.map(\.message) == preflight.map(\.message))
        #expect(apply.allSatisfy { !$0.changed })
        #expect(Array(keystone.requests[middle...]) == [])
    }

    @Test("a password changed by hand: the preflight's failed check is kept, the apply's write drops it and the next check logs in")
    func passwordCheckDroppedByTheWrite() async throws {
        let keystone = FakeKeystone()
        _ = try await KeystoneRun(keystone).magnum()
        keystone.setPassword(user: "magnum", "changed-by-hand")
        let runCache = RunCache()
        let step: [String: Value] = ["name": "magnum", "password": "magnum-Pa55"]
        let arguments = OrderedDictionary(uniqueKeysWithValues: step.map { ($0, $1) })
        let check = try await KeystoneRun(keystone, check: true, cache: RunCache(sharingWith: runCache)).run(KeystoneUserStep.self, arguments)
        #expect(check.changed)
        let apply = try await KeystoneRun(keystone, cache: runCache).run(KeystoneUserStep.self, arguments)
        #expect(apply.changed)
        #expect(keystone.writes.last?.hasPrefix("PATCH /v3/users/") == true)
        let logins = keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count
        let again = try await KeystoneRun(keystone, cache: runCache).run(KeystoneUserStep.self, arguments)
        #expect(!again.changed)
        #expect(keystone.requests.filter { $0.hasPrefix("POST /v3/auth/tokens") }.count == logins + 1)
    }

    @Test("a preflight's cache shares only `shared` values with the run's cache")
    func runCacheSharing() async throws {
        let run = RunCache()
        let preflight = RunCache(sharingWith: run)
        let made = Counter()
        let a: Int = try await preflight.shared("token") { made.next() }
        let b: Int = try await run.shared("token") { made.next() }
        let c: Int = try await preflight.value("client") { made.next() }
        let d: Int = try await run.value("client") { made.next() }
        #expect(a == b && c != d)
        await preflight.removeShared("token")
        let e: Int = try await run.shared("token") { made.next() }
        #expect(e != a)
    }
}

/// Numbers 1, 2, 3… from any task.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}
