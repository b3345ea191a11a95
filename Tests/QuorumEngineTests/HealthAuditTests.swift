import Foundation
import QuorumCore
import QuorumHTTP
import QuorumSteps
import Synchronization
import Testing

@testable import QuorumEngine

/// Health checks (`http_check`) through the real engine against in-memory hosts and a fake service: reported
/// as health in audits (HEALTH, `health` in JSON, JUnit `type="health"`, exit 5), as a failure in apply.
@Suite struct HealthAuditTests {
    /// Keystone's token endpoint and Magnum's service list; the conductors' states change as the test says.
    final class FakeCloud: HTTPTransport {
        static let token = "gAAAA-fake-token-42"
        let state = Mutex<(conductors: [String: String], requests: [HTTPRequest], downFor: Int)>(([:], [], 0))

        init(_ conductors: [String: String], downFor: Int = 0) {
            state.withLock { $0 = (conductors, [], downFor) }
        }

        var serviceRequests: [HTTPRequest] { state.withLock { $0.requests.filter { !$0.url.path.hasPrefix("/v3") } } }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let (conductors, downFor) = state.withLock { state in
                state.requests.append(request)
                return (state.conductors, state.downFor)
            }
            if request.url.path == "/v3/auth/tokens" {
                let ok = request.body.map { String(decoding: $0, as: UTF8.self).contains("\"Adm1n-s3cret\"") } ?? false
                return ok
                    ? HTTPResponse(status: 201, headers: ["X-Subject-Token": Self.token], body: Data("{}".utf8))
                    : HTTPResponse(status: 401, body: Data(#"{"error": {"message": "bad credentials"}}"#.utf8))
            }
            let attempt = serviceRequests.count
            let items = conductors.sorted { $0.key < $1.key }.map { host, state in
                #"{"binary": "magnum-conductor", "host": "\#(host)", "state": "\#(attempt <= downFor ? "down" : state)"}"#
            }
            // A service that echoes the token it got: it must not reach any report.
            let body = #"{"seen": "\#(request.headers["X-Auth-Token"] ?? "")", "mservices": [\#(items.joined(separator: ", "))]}"#
            return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data(body.utf8))
        }
    }

    static func playbook(retries: String = "retries: 3\n      delay: 0.01", extra: String = "") -> String {
        """
        - name: config
          hosts: controllers
          vars: {admin_password: Adm1n-s3cret}
          defaults:
            keystone:
              auth: {url: "http://10.0.0.10:5000", username: admin, password: "{{ admin_password }}", project: admin}
              via: direct
          steps:
            - name: api port
              ini: {path: /etc/magnum/magnum.conf, settings: {api: {port: 9511}}}
            - name: conductors up
              http_check:
                url: "http://10.0.0.10:9511/v1/mservices"
                headers: {OpenStack-API-Version: container-infra latest}
                expect_items: {path: mservices, match: {binary: magnum-conductor}, key: host, values: "{{ groups.controllers }}", require: {state: up}}
              \(retries)
        \(extra)
            - name: after the check
              ini: {path: /etc/magnum/magnum.conf, settings: {api: {workers: 2}}}
        """
    }

    static let conf = "[api]\nport = 9511\nworkers = 2\n"
    static let clean = ["/etc/magnum/magnum.conf": conf]
    static let allUp = ["c1": "up", "c2": "up", "c3": "up"]
    static let c2Down = ["c1": "up", "c2": "down", "c3": "up"]

    func audit(
        _ cloud: FakeCloud, playbook: String = HealthAuditTests.playbook(), files: [String: String] = HealthAuditTests.clean,
        unreachable: Set<String> = [], check: Bool = true
    ) async throws -> (RunSummary, AuditReport, EngineHarness) {
        let h = EngineHarness()
        let summary = try await KeystoneClient.$transportOverride.withValue(cloud) {
            try await HTTPCheckClient.$transportOverride.withValue(cloud) {
                try await h.run(inventory: EngineHarness.threeHosts, playbook: playbook, check: check, unreachable: unreachable, remoteFiles: files)
            }
        }
        return (summary, AuditReport(summary: summary, command: "quorum audit", strict: false), h)
    }

    @Test("all up: the checks pass and count as probes, the token from `defaults: {keystone: …}` is sent, exit 0")
    func healthy() async throws {
        let cloud = FakeCloud(Self.allUp)
        let (summary, report, h) = try await audit(cloud)
        #expect(report.exitStatus == .success && summary.exitStatus == .success, "\(AuditTable(report).render())")
        #expect(report.summary.probes == 9 && report.summary.unhealthy == 0)
        #expect(cloud.serviceRequests.count == 3 && cloud.serviceRequests.allSatisfy { $0.headers["X-Auth-Token"] == FakeCloud.token })
        #expect(cloud.serviceRequests.allSatisfy { $0.headers["OpenStack-API-Version"] == "container-infra latest" })
        #expect(h.journal.writes().isEmpty)
    }

    @Test("a conductor down, configuration clean: HEALTH on every host, exit 5, the audit goes on, no retries, no token printed")
    func unhealthyAlone() async throws {
        let cloud = FakeCloud(Self.c2Down)
        let (summary, report, h) = try await audit(cloud)
        #expect(report.exitStatus == .unhealthy && report.exitCode == 5)
        #expect(summary.exitStatus == .unhealthy, "`quorum apply --check` exits 5 too")
        #expect(report.hosts.map(\.status) == [.unhealthy, .unhealthy, .unhealthy])
        #expect(
            report.summary.unhealthy == 3 && report.summary.failed == 0 && report.summary.probes == 9,
            "the step after the failed check is still probed: \(report.summary)")
        #expect(cloud.serviceRequests.count == 3, "check mode does not retry a health check: \(cloud.serviceRequests.count)")
        let health = try #require(report.hosts.first?.health.first)
        #expect(health.step == "conductors up" && health.location.hasSuffix("pb.yml:11:7"))
        #expect(health.problem == "GET http://10.0.0.10:9511/v1/mservices (directly): magnum-conductor on c2: state down (want up)")
        #expect(report.hosts.allSatisfy { $0.failures.isEmpty && $0.drift.isEmpty })

        let table = AuditTable(report).render()
        #expect(table.contains("\nHEALTH\n  c1  step \"conductors up\" (\(health.location)): \(health.problem)\n"))
        #expect(table.contains("0 failed, 0 unreachable, 3 unhealthy, 0 not audited"))
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        let junit = AuditJUnit(report: report, results: summary.reports).render()
        #expect(junit.contains("<failure type=\"health\" message=\"health: GET http://10.0.0.10:9511/v1/mservices (directly): magnum-conductor on c2"))
        for text in [table, json, junit, summary.reports.map { "\($0)" }.joined()] {
            #expect(!text.contains(FakeCloud.token) && !text.contains("Adm1n-s3cret"))
        }
        #expect(h.journal.writes().isEmpty)
    }

    @Test("drift wins over health (exit 4); a failed probe (2) and an unreachable host (3) win over both")
    func priorities() async throws {
        var files = Self.clean
        files["c2:/etc/magnum/magnum.conf"] = "[api]\nport = 9999\nworkers = 2\n"
        let (_, drift, _) = try await audit(FakeCloud(Self.c2Down), files: files)
        #expect(drift.exitCode == 4 && drift.hosts.map(\.status) == [.unhealthy, .drift, .unhealthy])
        #expect(drift.hosts[1].health.count == 1, "a drifted host keeps its health entry")

        // Credentials Keystone refuses: the check could not be made, a failed probe, not health.
        let refused = Self.playbook(
            extra: """
                    - name: with wrong credentials
                      http_check: {url: "http://10.0.0.10:9511/v1", auth: {password: wrong}}
                """)
        let (_, failed, _) = try await audit(FakeCloud(Self.c2Down), playbook: refused, files: files)
        #expect(failed.exitCode == 2 && failed.summary.failed == 3 && failed.summary.unhealthy == 3)
        #expect(failed.hosts.allSatisfy { $0.failures.first?.error.contains("refused the credentials") == true })

        let (_, unreachable, _) = try await audit(FakeCloud(Self.c2Down), playbook: refused, files: files, unreachable: ["c3"])
        #expect(unreachable.exitCode == 3)
    }

    @Test("apply: a failed health check is a failed step (exit 2) after its retries; retries without until wait until it passes")
    func apply() async throws {
        let down = FakeCloud(Self.c2Down)
        let (failed, _, _) = try await audit(down, check: false)
        #expect(failed.exitStatus == .stepFailed)
        #expect(failed.outcomes("conductors up") == ["c1": .failed, "c2": .failed, "c3": .failed])
        let unhealthy = failed.reports.filter { $0.step == "conductors up" }.map(\.unhealthy)
        #expect(unhealthy == [true, true, true])
        #expect(failed.outcomes("after the check").isEmpty, "apply stops the host at a failed check")
        #expect(down.serviceRequests.count == 12, "1 + 3 retries per host: \(down.serviceRequests.count)")

        // Down for the first 3 answers (all hosts together), then up: each host passes within its retries.
        let recovering = FakeCloud(Self.allUp, downFor: 3)
        let (passed, _, _) = try await audit(recovering, check: false)
        #expect(passed.exitStatus == .success, "\(passed.reports.compactMap(\.error))")
        #expect(passed.outcomes("conductors up") == ["c1": .ok, "c2": .ok, "c3": .ok])
        #expect(recovering.serviceRequests.count > 3)

        // The same service in check mode: one request per host, reported now.
        let checked = FakeCloud(Self.allUp, downFor: 3)
        let (_, report, _) = try await audit(checked)
        #expect(checked.serviceRequests.count == 3 && report.exitCode == 5)
    }

    @Test("`until` on a health check: waited on in apply only; `auth: ~` sends no token despite the play's defaults")
    func untilAndNoAuth() async throws {
        let playbook = Self.playbook(
            retries: """
                register: conductors
                      until: conductors.json.mservices | length == 4
                      retries: 2
                      delay: 0.01
                """,
            extra: """
                    - name: open page
                      http_check: {url: "http://10.0.0.10:9511/", auth: ~}
                """)
        let cloud = FakeCloud(Self.allUp)
        let (_, report, _) = try await audit(cloud, playbook: playbook)
        #expect(report.exitCode == 5 && report.hosts.allSatisfy { $0.health.first?.problem == "`until` condition still false after 1 attempts" })
        #expect(cloud.serviceRequests.filter { $0.url.path == "/v1/mservices" }.count == 3)
        #expect(cloud.serviceRequests.filter { $0.url.path == "/" }.allSatisfy { $0.headers["X-Auth-Token"] == nil })

        let applied = FakeCloud(Self.allUp)
        let (summary, _, _) = try await audit(applied, playbook: playbook, check: false)
        #expect(summary.exitStatus == .stepFailed)
        #expect(applied.serviceRequests.filter { $0.url.path == "/v1/mservices" }.count == 9)
    }
}
