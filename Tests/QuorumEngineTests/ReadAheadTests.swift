import Foundation
import OrderedCollections
import QuorumCore
import QuorumSteps
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumEngine

/// Reading ahead (issue 18, point 3): the probes of consecutive steps reach a host in one round trip, and every
/// step still sees the host as the steps before it left it.
@Suite struct ReadAheadTests {
    /// What reached each host, in order: `batch N` (N reads at once), `read PATH`, `change SCRIPT`, `write PATH`.
    final class Log: Sendable {
        let entries = Mutex<[String: [String]]>([:])
        func add(_ host: String, _ entry: String) { entries.withLock { $0[host, default: []].append(entry) } }
        func of(_ host: String) -> [String] { entries.withLock { $0[host] ?? [] } }
    }

    struct Connector: HostConnector {
        let log: Log
        let hosts: [String: FakeRemote]
        func connect(host: String, variables: Variables) async throws -> any HostSession {
            guard let remote = hosts[host] else { throw RemoteError(.unreachable, "\(host): no such host") }
            let log = log
            remote.observer = { event in
                switch event {
                case .batch(let reads): log.add(host, "batch \(reads.count)")
                case .read(let path): log.add(host, "read \(path)")
                case .probe(let script, _): log.add(host, "probe \(script)")
                case .change(let script, _): log.add(host, "change \(script)")
                case .write(let path, _): log.add(host, "write \(path)")
                }
            }
            return EngineHarness.Session(remote: remote)
        }
    }

    static let playbook = """
        - name: read ahead
          hosts: controllers
          steps:
            - name: directory
              file: {path: /etc/magnum, state: directory}
            - name: conf
              copy: {content: "[DEFAULT]\\nlisten = 9511\\n", dest: /etc/magnum/magnum.conf, mode: "0640"}
            - name: pipeline
              ini: {path: /etc/magnum/api-paste.ini, settings: {"pipeline:main": {pipeline: "cors authtoken api"}}}
            - name: app
              ini: {path: /etc/magnum/api-paste.ini, settings: {"app:api": {paste.app_factory: "magnum.api.app:factory"}}}
            - name: allow
              line: {path: /etc/hosts.allow, line: "magnum-api: LOCAL"}
            - name: schema
              command: {cmd: "touch /etc/magnum/stamp", creates: /etc/magnum/stamp}
            - name: listens
              command: {cmd: "grep -c listen /etc/magnum/magnum.conf"}
              changed_when: false
            - name: owner
              file: {path: /etc/magnum/magnum.conf, owner: root, group: root, mode: "0640"}
        """

    /// The engine's first read of a host in a run: what handlers an earlier run left owed there.
    static let pendingRead = "read \(PendingHandlerFile.standard.path)"
    static let steps = ["directory", "conf", "pipeline", "app", "allow", "schema", "listens", "owner"]
    static let pasteIni = "[pipeline:main]\npipeline = cors authtoken api\n\n[app:api]\npaste.app_factory = magnum.api.app:factory\n"

    /// A controller as the play leaves it; `drifted`, one where api-paste.ini has neither option and hosts.allow
    /// lacks the line.
    static func host(_ name: String, drifted: Bool) -> FakeRemote {
        let remote = FakeRemote(host: name)
        remote.mkdir("/etc/magnum")
        remote.put("/etc/magnum/magnum.conf", "[DEFAULT]\nlisten = 9511\n", mode: 0o640)
        remote.put("/etc/magnum/api-paste.ini", drifted ? "[filter:cors]\nallowed_origin = *\n" : pasteIni)
        remote.put("/etc/hosts.allow", drifted ? "sshd: ALL\n" : "magnum-api: LOCAL\n")
        remote.put("/etc/magnum/stamp", "")
        return remote
    }

    func run(_ hosts: [String: FakeRemote], check: Bool = false) async throws -> (RunSummary, Log) {
        let log = Log()
        var options = RunOptions()
        options.check = check
        let engine = try EngineHarness.engine(
            playbook: Self.playbook, catalog: StepCatalog.byName, options: options,
            connector: Connector(log: log, hosts: hosts), observer: EngineHarness.Recorder(), interruption: RunInterruption())
        return (await engine.run(), log)
    }

    func outcomes(_ summary: RunSummary, on host: String) -> [Outcome] {
        Self.steps.map { step in summary.reports.first { $0.host == host && $0.step == step }?.outcome ?? .skipped }
    }

    @Test("a no-change play reads each host in one round trip up to its first command, then one after it")
    func noChangeRoundTrips() async throws {
        let hosts = Dictionary(uniqueKeysWithValues: ["c1", "c2", "c3"].map { ($0, Self.host($0, drifted: false)) })
        let (summary, log) = try await run(hosts)
        for host in ["c1", "c2", "c3"] {
            #expect(outcomes(summary, on: host) == [.ok, .ok, .ok, .ok, .ok, .ok, .ok, .ok], "\(host)")
            // Five distinct reads for six steps (two edit api-paste.ini), the command, then the last step's stat.
            #expect(log.of(host) == [Self.pendingRead, "batch 5", "change grep -c listen /etc/magnum/magnum.conf", "batch 1"], "\(host)")
        }
    }

    @Test("a step sees what the step before it wrote, never the host as it was read ahead")
    func writesAreSeen() async throws {
        let hosts = Dictionary(uniqueKeysWithValues: ["c1", "c2", "c3"].map { ($0, Self.host($0, drifted: true)) })
        let (summary, log) = try await run(hosts)
        for (name, remote) in hosts {
            #expect(outcomes(summary, on: name) == [.ok, .ok, .changed, .changed, .changed, .ok, .ok, .ok], "\(name)")
            let ini = remote.file("/etc/magnum/api-paste.ini")?.text ?? ""
            // `app` read the file after `pipeline` wrote it: both options are there, and what was there before.
            #expect(ini.contains("pipeline = cors authtoken api"), "\(name)")
            #expect(ini.contains("paste.app_factory = magnum.api.app:factory"), "\(name)")
            #expect(ini.contains("allowed_origin = *"), "\(name)")
            #expect(remote.file("/etc/hosts.allow")?.text == "sshd: ALL\nmagnum-api: LOCAL\n", "\(name)")
            #expect(
                log.of(name) == [
                    Self.pendingRead, "batch 5", "write /etc/magnum/api-paste.ini", "batch 3", "write /etc/magnum/api-paste.ini", "batch 2",
                    "write /etc/hosts.allow", "batch 1", "change grep -c listen /etc/magnum/magnum.conf", "batch 1"
                ], "\(name)")
        }
        let (again, _) = try await run(hosts)
        for name in hosts.keys { #expect(outcomes(again, on: name) == Array(repeating: .ok, count: 8), "\(name)") }
    }

    @Test("check mode predicts from the reads made ahead what apply does, and writes nothing")
    func checkMode() async throws {
        let hosts = Dictionary(uniqueKeysWithValues: ["c1", "c2", "c3"].map { ($0, Self.host($0, drifted: true)) })
        let (summary, log) = try await run(hosts, check: true)
        for (name, remote) in hosts {
            #expect(outcomes(summary, on: name) == [.ok, .ok, .changed, .changed, .changed, .ok, .ok, .ok], "\(name)")
            #expect(remote.writes.isEmpty, "\(name)")
            #expect(log.of(name) == [Self.pendingRead, "batch 5", "batch 1"], "\(name)")
        }
    }

    @Test("an answer read ahead serves its step once; a second read, another become, or a write go to the host")
    func servedOnce() async throws {
        let fake = Self.host("c1", drifted: false)
        let log = Log()
        _ = try await Connector(log: log, hosts: ["c1": fake]).connect(host: "c1", variables: [:])
        let readAhead = ReadAhead()
        let root = BecomeSettings(user: "root")
        let remote = ReadAheadRemote(base: fake, readAhead: readAhead, become: root)
        readAhead.plan([.stat("/etc/magnum"), .file("/etc/hosts.allow"), .file("/etc/hosts.allow")], become: root, windowEnd: 3)
        #expect(try await remote.stat("/etc/magnum")?.kind == .directory)
        #expect(try await remote.readFile("/etc/hosts.allow")?.text == "magnum-api: LOCAL\n")
        #expect(try await remote.readFile("/etc/hosts.allow")?.text == "magnum-api: LOCAL\n")
        #expect(log.of("c1") == ["batch 2"])
        // One read of a file planned twice, served twice: the third read is the host's; the stat was served.
        _ = try await remote.readFile("/etc/hosts.allow")
        _ = try await remote.stat("/etc/magnum")
        #expect(log.of("c1") == ["batch 2", "read /etc/hosts.allow", "read /etc/magnum"])

        readAhead.plan([.file("/etc/hosts.allow"), .stat("/etc/magnum/stamp")], become: root, windowEnd: 2)
        // Another identity may see other files: it reads alone, and leaves the plan to the step it was made for.
        let other = ReadAheadRemote(base: fake, readAhead: readAhead, become: nil)
        _ = try await other.readFile("/etc/hosts.allow")
        _ = try await remote.readFile("/etc/hosts.allow")
        // A write drops the answers not used yet: the stamp is read again, after it.
        try await remote.writeFile("/etc/hosts.allow", content: Array("changed\n".utf8), attributes: FileAttributes(), validate: nil)
        #expect(try await remote.stat("/etc/magnum/stamp") != nil)
        #expect(
            log.of("c1").suffix(4) == ["read /etc/hosts.allow", "batch 2", "write /etc/hosts.allow", "read /etc/magnum/stamp"])
        #expect(readAhead.needsPlan(at: 1))
    }
}
