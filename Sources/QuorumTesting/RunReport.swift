import Foundation

/// The parts of a run's `--json` document the tests look at.
public struct RunReport {
    public struct Result {
        public var host: String
        public var play: String
        public var step: String
        public var kind: String
        public var outcome: String
        public var error: String?
        public var isHandler: Bool
        public var diffs: [[String: Any]]
        /// Check mode only: why the step could not know its outcome without acting (a command is not run).
        public var unchecked: String?
        /// The step's note ("ran", "not run: …", "would run: …").
        public var message: String?
        /// Seconds.
        public var duration: Double = 0
    }

    public var results: [Result]
    public var recap: [String: [String: Int]]
    public var exitCode: Int
    public var raw: String

    public init(_ data: Data) throws {
        raw = String(decoding: data, as: UTF8.self)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw TestError("bad JSON report") }
        results = (object["results"] as? [[String: Any]] ?? []).map {
            Result(
                host: $0["host"] as? String ?? "", play: $0["play"] as? String ?? "", step: $0["step"] as? String ?? "", kind: $0["kind"] as? String ?? "",
                outcome: $0["outcome"] as? String ?? "", error: $0["error"] as? String,
                isHandler: $0["isHandler"] as? Bool ?? false, diffs: $0["diffs"] as? [[String: Any]] ?? [],
                unchecked: $0["unchecked"] as? String, message: $0["message"] as? String,
                duration: $0["duration"] as? Double ?? 0)
        }
        recap = (object["recap"] as? [String: [String: Int]]) ?? [:]
        exitCode = object["exit_code"] as? Int ?? -1
    }

    /// (host, step) pairs with the given outcome.
    public func pairs(_ outcome: String) -> Set<String> {
        Set(results.filter { $0.outcome == outcome }.map { "\($0.host)/\($0.step)" })
    }

    public func changed(on host: String) -> Int { recap[host]?["changed"] ?? -1 }
    public var totalChanged: Int { recap.values.reduce(0) { $0 + ($1["changed"] ?? 0) } }
}
