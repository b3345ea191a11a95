import Foundation
import QuorumCore
import Synchronization

/// This machine as a host: scripts really run in `/bin/sh` (dash, as on Debian controllers), so quoting, loops
/// and the tools' behaviour are exercised for real. Files are read and written only by scripts: `readFile`
/// reads a local file only when `readsFiles` is set, `stat` knows nothing, `writeFile` refuses.
public final class LocalShellRemote: Remote, Sendable {
    public let host: String
    /// The scripts' working directory (the test's own by default).
    let directory: String?
    /// When set, `change` refuses with this message: for steps that must never change a host.
    let refusal: String?
    let readsFiles: Bool
    private let log = Mutex<[String]>([])

    public init(host: String = "local", directory: String? = nil, refusingChanges refusal: String? = nil, readsFiles: Bool = false) {
        self.host = host
        self.directory = directory
        self.refusal = refusal
        self.readsFiles = readsFiles
    }

    /// Every script run, in order.
    public var scripts: [String] { log.withLock { $0 } }

    /// Runs `script` with `stdin`, waiting for it.
    public func run(_ script: String, stdin: [UInt8] = []) throws -> CommandResult {
        log.withLock { $0.append(script) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = try Command.capture(process, stdin: Data(stdin))
        return CommandResult(stdout: Array(output.stdout), stderr: Array(output.stderr), status: output.status)
    }

    public func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try run(script, stdin: stdin)
    }

    public func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        if let refusal { throw RemoteError(.failed, refusal) }
        return try run(script, stdin: stdin)
    }

    public func stat(_ path: String) async throws -> FileInfo? { nil }

    public func readFile(_ path: String) async throws -> RemoteFile? {
        guard readsFiles, let data = FileManager.default.contents(atPath: path) else { return nil }
        return RemoteFile(content: Array(data), info: FileInfo(kind: .file, mode: 0o600, owner: "root", group: "root"))
    }

    public func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        throw RemoteError(.failed, "LocalShellRemote writes files only through scripts")
    }

    public func tunnel(to host: String, port: Int) async throws -> Int { throw StepFailure("LocalShellRemote has no tunnels") }
}
