import QuorumCore
import Synchronization

/// An in-memory host for unit tests of step logic: files and directories in a dictionary, and commands
/// answered by a handler the test provides. Every write is recorded so tests can assert there was none.
/// Lab tests against real controllers are the ones that prove behaviour; this only exercises logic.
final class FakeRemote: Remote, @unchecked Sendable {
    struct State {
        var files: [String: RemoteFile] = [:]
        var directories: [String: FileInfo] = [:]
        var writes: [String] = []
        var commands: [String] = []
    }

    let host: String
    private let state = Mutex(State())
    /// Answers `probe` and `change` scripts; the default answers every script with exit 0 and no output.
    var commandHandler: @Sendable (String, [UInt8]) -> CommandResult = { _, _ in CommandResult() }

    init(host: String = "fake1") { self.host = host }

    func put(_ path: String, _ text: String, mode: Int = 0o644, owner: String = "root", group: String = "root") {
        state.withLock {
            $0.files[path] = RemoteFile(content: Array(text.utf8), info: FileInfo(kind: .file, mode: mode, owner: owner, group: group))
        }
    }

    func mkdir(_ path: String, mode: Int = 0o755) {
        state.withLock { $0.directories[path] = FileInfo(kind: .directory, mode: mode, owner: "root", group: "root") }
    }

    func file(_ path: String) -> RemoteFile? { state.withLock { $0.files[path] } }
    var writes: [String] { state.withLock { $0.writes } }
    var commands: [String] { state.withLock { $0.commands } }

    func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        state.withLock { $0.commands.append(script) }
        return commandHandler(script, stdin)
    }

    func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        state.withLock {
            $0.commands.append(script)
            $0.writes.append("change: \(script)")
        }
        return commandHandler(script, stdin)
    }

    func stat(_ path: String) async throws -> FileInfo? {
        state.withLock { $0.files[path]?.info ?? $0.directories[path] }
    }

    func readFile(_ path: String) async throws -> RemoteFile? {
        state.withLock { $0.files[path] }
    }

    func tunnel(to host: String, port: Int) async throws -> Int {
        throw StepFailure("FakeRemote has no tunnels")
    }

    func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        try state.withLock {
            if let validate, validate.contains("FAIL") {
                throw StepFailure("validation failed", detail: "fake validator rejected \(path)")
            }
            let old = $0.files[path]?.info
            let info = FileInfo(kind: .file, mode: attributes.mode ?? old?.mode ?? 0o644,
                                owner: attributes.owner ?? old?.owner ?? "root",
                                group: attributes.group ?? old?.group ?? "root")
            $0.files[path] = RemoteFile(content: content, info: info)
            $0.writes.append("write: \(path)")
        }
    }
}
