import Foundation
import QuorumCore

/// The `--json FILE` document: every result of the run (host, play, step, outcome, time, diff, error)
/// and the recap. Everything in it is redacted.
public struct JSONReport: Codable, Sendable {
    public var version = 1
    public var command: String
    public var check: Bool
    public var duration: Double
    public var exitCode: Int32
    public var results: [StepReport]
    public var recap: [String: HostRecap]
    public var unreachable: [String: String]
    /// True when the run was asked to stop (SIGINT, SIGTERM) and ended early: exit code 130.
    public var interrupted: Bool
    /// After an interrupt: per host, the steps not done and the handlers still pending, per play.
    public var leftUndone: [String: [LeftUndone]]?

    public init(command: String, summary: RunSummary) {
        self.command = command
        self.check = summary.check
        self.duration = summary.duration
        self.exitCode = summary.exitStatus.rawValue
        self.results = summary.reports
        self.recap = summary.recap
        self.unreachable = summary.unreachableErrors
        self.interrupted = summary.interruption != nil
        self.leftUndone = summary.interruption?.leftUndone
    }

    enum CodingKeys: String, CodingKey {
        case version, command, check, duration, results, recap, unreachable, interrupted
        case leftUndone = "left_undone"
        case exitCode = "exit_code"
    }

    /// The document, keys sorted, ending in a newline.
    public func data() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Writes the document atomically to `path` ("-" for stdout).
    public func write(to path: String) throws {
        let data = try data()
        if path == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }
}
