import Foundation
import Testing

/// Runs the built `quorum` binary and reads its `--json` report.
enum QuorumCLI {
    static var binary: String { Lab.root + "/.build/debug/quorum" }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var report: Report?
        var all: String { stdout + stderr }
    }

    /// The environment `quorum` runs with in the lab tests: no colour, and no SSH agent (keys come from the inventory).
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "SSH_AUTH_SOCK")
        return environment
    }

    /// `quorum ARGS… --json <temp>`; the report is decoded when the run wrote one.
    static func run(_ arguments: [String], json: Bool = true) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LabError("\(binary) is missing: run `swift build` first (scripts/test.sh does)")
        }
        let jsonPath = NSTemporaryDirectory() + "quorum-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: jsonPath) }
        let argv = [binary] + arguments + (json ? ["--json", jsonPath] : [])
        let result = try Command.run(argv, environment: environment)
        var report: Report?
        if json, let data = FileManager.default.contents(atPath: jsonPath) { report = try Report(data) }
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr, report: report)
    }

    static func apply(_ playbook: String, inventory: String = Lab.inventory, _ extra: [String] = []) throws -> Run {
        try run(["apply", playbook, "-i", inventory] + extra)
    }
}

/// The parts of the `--json` document the tests look at.
struct Report {
    struct Result {
        var host: String
        var play: String
        var step: String
        var kind: String
        var outcome: String
        var error: String?
        var isHandler: Bool
        var diffs: [[String: Any]]
        /// Check mode only: why the step could not know its outcome without acting (a command is not run).
        var unchecked: String?
        /// The step's note ("ran", "not run: …", "would run: …").
        var message: String?
        /// Seconds.
        var duration: Double = 0
    }

    var results: [Result]
    var recap: [String: [String: Int]]
    var exitCode: Int
    var raw: String

    init(_ data: Data) throws {
        raw = String(decoding: data, as: UTF8.self)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw LabError("bad JSON report") }
        results = (object["results"] as? [[String: Any]] ?? []).map {
            Result(host: $0["host"] as? String ?? "", play: $0["play"] as? String ?? "", step: $0["step"] as? String ?? "", kind: $0["kind"] as? String ?? "",
                   outcome: $0["outcome"] as? String ?? "", error: $0["error"] as? String,
                   isHandler: $0["isHandler"] as? Bool ?? false, diffs: $0["diffs"] as? [[String: Any]] ?? [],
                   unchecked: $0["unchecked"] as? String, message: $0["message"] as? String,
                   duration: $0["duration"] as? Double ?? 0)
        }
        recap = (object["recap"] as? [String: [String: Int]]) ?? [:]
        exitCode = object["exit_code"] as? Int ?? -1
    }

    /// (host, step) pairs with the given outcome.
    func pairs(_ outcome: String) -> Set<String> {
        Set(results.filter { $0.outcome == outcome }.map { "\($0.host)/\($0.step)" })
    }

    func changed(on host: String) -> Int { recap[host]?["changed"] ?? -1 }
    var totalChanged: Int { recap.values.reduce(0) { $0 + ($1["changed"] ?? 0) } }
}

/// A temporary folder holding a playbook (and optional files/) for one test.
struct Workspace {
    let path: String

    init(_ name: String = "ws") throws {
        path = NSTemporaryDirectory() + "quorum-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path + "/files", withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
