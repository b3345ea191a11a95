/// What a command printed and how it ended.
public struct CommandResult: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var status: Int32

    public init(stdout: [UInt8] = [], stderr: [UInt8] = [], status: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { status == 0 }
}

/// A file's metadata on a host, as `stat` reports it.
public struct FileInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case file, directory, link, other }
    public var kind: Kind
    /// Permission bits, e.g. 0o644.
    public var mode: Int
    public var owner: String
    public var group: String

    public init(kind: Kind, mode: Int, owner: String, group: String) {
        self.kind = kind
        self.mode = mode
        self.owner = owner
        self.group = group
    }
}

/// A regular file's content and metadata.
public struct RemoteFile: Sendable, Equatable {
    public var content: [UInt8]
    public var info: FileInfo

    public init(content: [UInt8], info: FileInfo) {
        self.content = content
        self.info = info
    }

    public var text: String { String(decoding: content, as: UTF8.self) }
}

/// Mode and ownership wanted for a written file; nil keeps what the file has (or the default for a new one).
public struct FileAttributes: Sendable, Equatable {
    public var mode: Int?
    public var owner: String?
    public var group: String?

    public init(mode: Int? = nil, owner: String? = nil, group: String? = nil) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }
}

/// A host as a step sees it. A step's context gives it the real connection, or in check mode a read-only
/// view of it on which every write throws `RemoteError.readOnly`: a dry run cannot write by construction.
public protocol Remote: Sendable {
    /// The host's inventory name.
    var host: String { get }
    /// Runs a shell script that only reads state (allowed in check mode).
    func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult
    /// Runs a shell script that changes state.
    func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult
    /// Metadata of `path`, nil when nothing is there.
    func stat(_ path: String) async throws -> FileInfo?
    /// Content and metadata of the regular file `path`, nil when absent.
    func readFile(_ path: String) async throws -> RemoteFile?
    /// Writes `content` to `path` atomically: a 0600 temporary file in the same directory gets the owner and
    /// mode, then `validate` (if any, with `%s` standing for the temporary file) must pass, then it is renamed
    /// over `path`. On any failure the temporary file is removed and `path` is untouched.
    func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws
    /// A local TCP port on 127.0.0.1 that reaches `host:port` *as the host sees it* (an SSH `direct-tcpip`
    /// tunnel of the host's session). One tunnel per destination per run, reused. Reading through a tunnel
    /// is allowed in check mode: what the peer may do (SQL, HTTP) is the step's own read-only discipline.
    func tunnel(to host: String, port: Int) async throws -> Int
    /// Answers several reads at once, in order, each as `readFile` or `stat` would have (the default asks them
    /// one by one; a Remote over a network sends them together). Changes nothing: allowed in check mode.
    func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult]
}

extension Remote {
    public func probe(_ script: String) async throws -> CommandResult {
        try await probe(script, stdin: [], timeout: nil)
    }

    public func change(_ script: String) async throws -> CommandResult {
        try await change(script, stdin: [], timeout: nil)
    }
}

/// Errors a Remote raises itself (as opposed to a command that ran and failed).
public struct RemoteError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case readOnly, unreachable, timeout, failed }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func readOnly(_ what: String) -> RemoteError {
        RemoteError(.readOnly, "check mode is read-only, refused to \(what)")
    }
}

/// Wraps a Remote so that nothing can be written through it: the Remote of check mode.
public struct ReadOnlyRemote: Remote {
    public let base: any Remote

    public init(_ base: any Remote) { self.base = base }

    public var host: String { base.host }

    public func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await base.probe(script, stdin: stdin, timeout: timeout)
    }

    public func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        throw RemoteError.readOnly("run a command that changes state")
    }

    public func stat(_ path: String) async throws -> FileInfo? { try await base.stat(path) }

    public func readFile(_ path: String) async throws -> RemoteFile? { try await base.readFile(path) }

    public func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        throw RemoteError.readOnly("write \(path)")
    }

    public func tunnel(to host: String, port: Int) async throws -> Int { try await base.tunnel(to: host, port: port) }

    public func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] { try await base.read(reads) }
}
