import Foundation
import QuorumCore
import QuorumEngine
import QuorumSteps
import QuorumTesting
import QuorumVault
import Synchronization

/// Runs playbooks through the real engine against in-memory hosts, for the engine's own logic (batches,
/// run_once, handlers, conditions, check mode). The lab tests prove the same against real controllers.
struct EngineHarness {
    /// Every script a host was asked to run, with whether it was a change.
    final class Journal: Sendable {
        let entries = Mutex<[(host: String, script: String, write: Bool)]>([])
        func add(_ host: String, _ script: String, write: Bool) { entries.withLock { $0.append((host, script, write)) } }
        func writes(on host: String? = nil) -> [String] {
            entries.withLock { $0.filter { $0.write && (host == nil || $0.host == host) }.map(\.script) }
        }
        func scripts(on host: String) -> [String] { entries.withLock { $0.filter { $0.host == host }.map(\.script) } }
        /// Files every host already has (path → text), for steps that read before they write.
        let files = Mutex<[String: String]>([:])
        /// Files one host holds ("host:path" → text) that the engine's own bookkeeping writes (the pending
        /// handlers): they persist across the runs of one harness, like a controller's disk.
        let hostFiles = Mutex<[String: String]>([:])
        func hostFile(_ host: String, _ path: String) -> String? { hostFiles.withLock { $0["\(host):\(path)"] } }
    }

    static let pendingPath = "/var/lib/quorum/pending-handlers"

    /// A host that answers every command with exit 0 unless the script contains `FAIL-ON-<host>`; a script with
    /// `DIE-ON-<host>` loses the connection, one with `BLOCK` waits until the run is cancelled (an interrupt), and
    /// nothing runs once it is. The engine's pending-handlers scripts are carried out on `journal.hostFiles`.
    /// `files`: path → text, or "host:path" → text for one host only; `answers`: a script containing the key
    /// prints the value (exit 0). Writes go to the journal and are not kept.
    static func memoryHost(
        _ host: String, journal: Journal, files: [String: String] = [:],
        answers: [String: String] = [:]
    ) -> FakeRemote {
        let remote = FakeRemote(host: host)
        remote.keepsWrites = false
        remote.observer = { event in
            switch event {
            case .probe(let script, _), .change(let script, _):
                try Task.checkCancellation()
                if script.contains("DIE-ON-\(host)") { throw RemoteError(.unreachable, "\(host): connection lost") }
                if script.contains("BLOCK") {
                    journal.add(host, script, write: false)
                    try await Task.sleep(for: .seconds(60))
                }
                if case .change(_, let stdin) = event {
                    journal.add(host, script, write: true)
                    keepPendingHandlers(host, journal, script, lines: String(decoding: stdin, as: UTF8.self))
                } else {
                    journal.add(host, script, write: false)
                }
            case .write(let path, let content):
                journal.add(host, "write \(path): \(String(decoding: content, as: UTF8.self))", write: true)
            case .read, .batch:
                try Task.checkCancellation()
            }
        }
        remote.commandHandler = { script, _ in
            if script.contains("FAIL-ON-\(host)") { return CommandResult(stdout: [], stderr: Array("boom".utf8), status: 1) }
            if script.contains("hostname") { return CommandResult(stdout: Array("\(host)\n".utf8)) }
            if let answer = answers.first(where: { script.contains($0.key) }) { return CommandResult(stdout: Array(answer.value.utf8)) }
            return CommandResult()
        }
        remote.fileSource = { path in
            if let text = journal.hostFile(host, path) {
                return RemoteFile(content: Array(text.utf8), info: FileInfo(kind: .file, mode: 0o600, owner: "root", group: "root"))
            }
            if let text = files["\(host):\(path)"] ?? files[path] {
                return RemoteFile(content: Array(text.utf8), info: FileInfo(kind: .file, mode: 0o644, owner: "root", group: "root"))
            }
            guard let text = journal.files.withLock({ $0[path] }) else { return nil }
            return RemoteFile(content: Array(text.utf8), info: FileInfo(kind: .file, mode: 0o640, owner: "root", group: "root"))
        }
        return remote
    }

    /// What the record and clear scripts do to the host's file (lines appended; exact lines removed).
    static func keepPendingHandlers(_ host: String, _ journal: Journal, _ script: String, lines: String) {
        let key = "\(host):\(EngineHarness.pendingPath)"
        journal.hostFiles.withLock { files in
            if script.hasPrefix("# quorum: record pending handlers") {
                files[key, default: ""] += lines
            } else if script.hasPrefix("# quorum: clear pending handlers") {
                let done = Set(lines.split(separator: "\n"))
                let kept = (files[key] ?? "").split(separator: "\n").filter { !done.contains($0) }
                files[key] = kept.isEmpty ? nil : kept.map { $0 + "\n" }.joined()
            }
        }
    }

    struct Session: HostSession {
        let remote: FakeRemote
        func remote(become: BecomeSettings?) -> any Remote { remote }
        func close() async {}
    }

    struct Connector: HostConnector {
        let journal: Journal
        let unreachable: Set<String>
        var files: [String: String] = [:]
        var answers: [String: String] = [:]
        func connect(host: String, variables: Variables) async throws -> any HostSession {
            if unreachable.contains(host) { throw RemoteError(.unreachable, "\(host): connection refused") }
            return Session(remote: EngineHarness.memoryHost(host, journal: journal, files: files, answers: answers))
        }
    }

    final class Recorder: RunObserver {
        let stopped = Mutex<[String]>([])
        func playStarted(name: String, hosts: [String], check: Bool) {}
        func stepFinished(_ report: StepReport) {}
        func hostUnreachable(host: String, play: String, reason: String) {}
        func playStopped(name: String, reason: String) { stopped.withLock { $0.append(reason) } }
        func runFinished(_ summary: RunSummary) {}
    }

    let journal = Journal()
    let recorder = Recorder()
    let redactor = SecretRedactor()

    /// Writes `inventory` and `playbook` (and `files`, relative path → text) to a temporary folder, loads
    /// them and runs the engine; vault files among them are read with `vault`; `limit`, `tags` and `skipTags`
    /// as on the command line.
    func run(
        inventory: String, playbook: String, check: Bool = false, unreachable: Set<String> = [],
        files: [String: String] = [:], vault: VaultKeyring? = nil,
        remoteFiles: [String: String] = [:], skipPreflight: Bool = false,
        answers: [String: String] = [:], limit: String? = nil, tags: Set<String> = [],
        skipTags: Set<String> = []
    ) async throws -> RunSummary {
        let dir = NSTemporaryDirectory() + "quorum-engine-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try inventory.write(toFile: dir + "/inv.yml", atomically: true, encoding: .utf8)
        try playbook.write(toFile: dir + "/pb.yml", atomically: true, encoding: .utf8)
        for (relative, text) in files {
            try FileManager.default.createDirectory(
                atPath: ((dir + "/" + relative) as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try text.write(toFile: dir + "/" + relative, atomically: true, encoding: .utf8)
        }
        let loadedInventory = try Inventory.load(dir + "/inv.yml", vault: vault)
        let loadedPlaybook = try PlaybookLoader(catalog: StepCatalog.byName, vault: vault).load(dir + "/pb.yml")
        var options = RunOptions()
        options.check = check
        options.vault = vault
        options.skipPreflight = skipPreflight
        options.limit = limit
        options.tags = tags
        options.skipTags = skipTags
        let engine = Engine(
            inventory: loadedInventory, playbooks: [loadedPlaybook], catalog: StepCatalog.byName,
            options: options,
            connector: Connector(
                journal: journal, unreachable: unreachable, files: remoteFiles,
                answers: answers),
            observer: recorder, redactor: redactor)
        return await engine.run()
    }

    /// An engine for `playbook` on `threeHosts` (c1..c3), the files loaded then removed; `catalog` for the
    /// shipped kinds and a test's own.
    static func engine(
        playbook: String, catalog: [String: any StepKind.Type], options: RunOptions, connector: any HostConnector,
        observer: any RunObserver, interruption: RunInterruption
    ) throws -> Engine {
        let dir = NSTemporaryDirectory() + "quorum-engine-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try threeHosts.write(toFile: dir + "/inv.yml", atomically: true, encoding: .utf8)
        try playbook.write(toFile: dir + "/pb.yml", atomically: true, encoding: .utf8)
        return Engine(
            inventory: try Inventory.load(dir + "/inv.yml", vault: nil),
            playbooks: [try PlaybookLoader(catalog: catalog).load(dir + "/pb.yml")], catalog: catalog,
            options: options, connector: connector, observer: observer, redactor: SecretRedactor(), interruption: interruption)
    }

    static let threeHosts = """
        all:
          children:
            controllers:
              hosts: {c1: {}, c2: {}, c3: {}}
        """
}

extension RunSummary {
    func outcomes(_ step: String) -> [String: Outcome] {
        Dictionary(reports.filter { $0.step == step }.map { ($0.host, $0.outcome) }, uniquingKeysWith: { a, _ in a })
    }
}
