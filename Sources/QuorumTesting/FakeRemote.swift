import QuorumCore
import Synchronization

/// The tests' one in-memory host, for the logic of steps and of the engine: files and directories in a
/// dictionary, commands answered by a handler the test provides, and every command and write recorded so a
/// test can assert there was none. Lab tests against real controllers are the ones that prove behaviour.
public final class FakeRemote: Remote, @unchecked Sendable {
    /// What reaches the host, in order, as `observer` sees it before the fake acts.
    public enum Event: Sendable {
        case probe(String, stdin: [UInt8])
        case change(String, stdin: [UInt8])
        case write(String, content: [UInt8])
        case read(String)
        /// Several reads in one round trip (`read(_:)`); they are not reported one by one.
        case batch([RemoteRead])
    }

    struct State {
        var files: [String: RemoteFile] = [:]
        var directories: [String: FileInfo] = [:]
        var writes: [String] = []
        var commands: [String] = []
    }

    public let host: String
    private let state = Mutex(State())
    /// Answers `probe` and `change` scripts; the default answers every script with exit 0 and no output.
    public var commandHandler: @Sendable (String, [UInt8]) async throws -> CommandResult = { _, _ in CommandResult() }
    /// Called first with everything that reaches the host: to keep a journal of several hosts, or to fail, wait
    /// or lose the connection on a given script (it throws or sleeps).
    public var observer: @Sendable (Event) async throws -> Void = { _ in }
    /// Files the fake does not hold itself (a disk several fakes share), asked after its own.
    public var fileSource: @Sendable (String) -> RemoteFile? = { _ in nil }
    /// False: a write is recorded but not kept, and a later read finds what was there before.
    public var keepsWrites = true

    public init(host: String = "fake1") { self.host = host }

    public func put(_ path: String, _ text: String, mode: Int = 0o644, owner: String = "root", group: String = "root") {
        state.withLock {
            $0.files[path] = RemoteFile(content: Array(text.utf8), info: FileInfo(kind: .file, mode: mode, owner: owner, group: group))
        }
    }

    public func mkdir(_ path: String, mode: Int = 0o755) {
        state.withLock { $0.directories[path] = FileInfo(kind: .directory, mode: mode, owner: "root", group: "root") }
    }

    public func file(_ path: String) -> RemoteFile? { state.withLock { $0.files[path] } }
    /// `change: SCRIPT` and `write: PATH`, in order.
    public var writes: [String] { state.withLock { $0.writes } }
    /// Every probe and change script, in order.
    public var commands: [String] { state.withLock { $0.commands } }

    public func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await observer(.probe(script, stdin: stdin))
        state.withLock { $0.commands.append(script) }
        return try await commandHandler(script, stdin)
    }

    public func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await observer(.change(script, stdin: stdin))
        state.withLock {
            $0.commands.append(script)
            $0.writes.append("change: \(script)")
        }
        return try await commandHandler(script, stdin)
    }

    public func stat(_ path: String) async throws -> FileInfo? {
        try await observer(.read(path))
        return stored(info: path)
    }

    public func readFile(_ path: String) async throws -> RemoteFile? {
        try await observer(.read(path))
        return stored(file: path)
    }

    private func stored(file path: String) -> RemoteFile? { state.withLock { $0.files[path] } ?? fileSource(path) }

    private func stored(info path: String) -> FileInfo? {
        state.withLock { $0.files[path]?.info ?? $0.directories[path] } ?? fileSource(path)?.info
    }

    public func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] {
        try await observer(.batch(reads))
        return reads.map { read in
            switch read {
            case .file(let path): .file(stored(file: path))
            case .stat(let path): .stat(stored(info: path))
            }
        }
    }

    public func tunnel(to host: String, port: Int) async throws -> Int {
        throw StepFailure("FakeRemote has no tunnels")
    }

    /// A `validate` command containing `FAIL` is a validator that rejects the file.
    public func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        try await observer(.write(path, content: content))
        let keeps = keepsWrites
        try state.withLock {
            if let validate, validate.contains("FAIL") {
                throw StepFailure("validation failed", detail: "fake validator rejected \(path)")
            }
            $0.writes.append("write: \(path)")
            guard keeps else { return }
            let old = $0.files[path]?.info
            let info = FileInfo(
                kind: .file, mode: attributes.mode ?? old?.mode ?? 0o644,
                owner: attributes.owner ?? old?.owner ?? "root",
                group: attributes.group ?? old?.group ?? "root")
            $0.files[path] = RemoteFile(content: content, info: info)
        }
    }
}
