import Foundation

/// Runs the built `quorum` binary and reads its `--json` report.
public enum QuorumCLI {
    public struct Run {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var report: RunReport?
        public var all: String { stdout + stderr }
    }

    /// The environment of the caller without colour and without an SSH agent (keys come from the inventory).
    /// For the lab, whose runs need the operator's PATH and HOME as they are.
    public static var inheritedEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "SSH_AUTH_SOCK")
        return environment
    }

    /// A fixed environment, built without reading this process's own: tests running in parallel may call
    /// setenv(), and reading environ at the same moment is a data race.
    public static func fixedEnvironment(home: String) -> [String: String] {
        [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home,
            "LANG": "C.UTF-8", "NO_COLOR": "1"
        ]
    }

    /// `quorum ARGS… --json <temp>`; the report is decoded when the run wrote one. `directory` is its working
    /// directory; `setsid` runs it without a controlling terminal, as a job that cannot prompt.
    public static func run(
        _ arguments: [String], json: Bool = true, environment: [String: String]? = nil,
        directory: String? = nil, setsid: Bool = false
    ) throws -> Run {
        let binary = PackageRoot.quorumBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestError("\(binary) is missing: run `swift build` first (scripts/test.sh does)")
        }
        let jsonPath = NSTemporaryDirectory() + "quorum-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: jsonPath) }
        let argv = (setsid ? ["/usr/bin/setsid", "-w"] : []) + [binary] + arguments + (json ? ["--json", jsonPath] : [])
        let result = try Command.run(argv, environment: environment ?? inheritedEnvironment, directory: directory)
        var report: RunReport?
        if json, let data = FileManager.default.contents(atPath: jsonPath) { report = try RunReport(data) }
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr, report: report)
    }
}
