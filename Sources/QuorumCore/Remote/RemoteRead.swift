/// A read a step's probe makes of its host before anything else: the engine may ask a host for the reads of
/// several consecutive steps at once (`Remote.read(_:)`, one round trip), then serve each step its own.
public enum RemoteRead: Sendable, Hashable {
    /// `Remote.readFile(path)`.
    case file(String)
    /// `Remote.stat(path)`.
    case stat(String)
}

/// The answer to one `RemoteRead`, as the single call would have given it.
public enum RemoteReadResult: Sendable, Equatable {
    case file(RemoteFile?)
    case stat(FileInfo?)
    /// The host could not answer this read (a file it cannot read, a path that is not a regular file): the
    /// step makes the single call itself, which reports the cause as it always does.
    case unanswered
}

extension Remote {
    /// The reads one by one: for Remotes that have no cheaper way. A read that fails for a reason the step
    /// would explain (`StepFailure`) is left unanswered; an error of the transport ends the whole batch.
    public func readEach(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] {
        var results: [RemoteReadResult] = []
        for read in reads {
            do {
                switch read {
                case .file(let path): results.append(.file(try await readFile(path)))
                case .stat(let path): results.append(.stat(try await stat(path)))
                }
            } catch is StepFailure {
                results.append(.unanswered)
            }
        }
        return results
    }

    public func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] { try await readEach(reads) }
}
