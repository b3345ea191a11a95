import OrderedCollections
import QuorumCore
import Synchronization

/// One host's reads made ahead for its next steps (issue 18, point 3). The engine plans the reads of a window
/// of consecutive steps (`plan`); the first step to make one of them sends them all in one round trip; each
/// step then gets its own answer, once, as if it had asked alone. Anything written on the host (a command, a
/// file) drops every answer not used yet: a step never sees the host as it was before a change. A step's
/// second read of the same thing (a retry, a poll) goes to the host.
final class ReadAhead: Sendable {
    private struct Answer {
        var result: RemoteReadResult
        /// How many planned reads this answer still serves (five steps may edit the same file).
        var uses: Int
    }

    private struct State {
        /// The reads planned and not sent yet, in order, with how many steps make each.
        var pending: OrderedDictionary<RemoteRead, Int> = [:]
        var answers: [RemoteRead: Answer] = [:]
        /// The identity the planned reads run as: a step with another `become` is not served.
        var become: BecomeSettings?
        /// The position in the segment where the plan's window ends.
        var windowEnd = 0
    }

    private let state = Mutex(State())

    /// True when nothing planned is left for the step at `position`: time to plan the next window.
    func needsPlan(at position: Int) -> Bool {
        state.withLock { state in
            position >= state.windowEnd || (state.pending.isEmpty && state.answers.isEmpty)
        }
    }

    /// Replaces what was planned with the reads of the steps before `windowEnd`, made as `become`.
    func plan(_ reads: [RemoteRead], become: BecomeSettings?, windowEnd: Int) {
        var counted: OrderedDictionary<RemoteRead, Int> = [:]
        for read in reads { counted[read, default: 0] += 1 }
        state.withLock { state in
            state = State(pending: counted, answers: [:], become: become, windowEnd: windowEnd)
        }
    }

    /// Something was written on the host: the answers read before it are stale.
    func invalidate() {
        state.withLock { state in state.answers.removeAll() }
    }

    /// The answer for `read` made as `become`: served from the batch (sending it first when `read` is in the
    /// plan), or nil when the step must ask the host itself.
    func answer(_ read: RemoteRead, become: BecomeSettings?, from remote: any Remote) async throws -> RemoteReadResult? {
        enum Next {
            case served(RemoteReadResult?)
            case send(OrderedDictionary<RemoteRead, Int>)
        }
        let next = state.withLock { state -> Next in
            guard state.become == become else { return .served(nil) }
            if let answer = Self.take(read, from: &state) { return .served(answer) }
            guard state.pending[read] != nil else { return .served(nil) }
            defer { state.pending = [:] }
            return .send(state.pending)
        }
        switch next {
        case .served(let result): return result
        case .send(let batch):
            let results = try await remote.read(Array(batch.keys))
            return state.withLock { state in
                for ((planned, uses), result) in zip(batch, results) where result != .unanswered {
                    state.answers[planned] = Answer(result: result, uses: uses)
                }
                return Self.take(read, from: &state)
            }
        }
    }

    private static func take(_ read: RemoteRead, from state: inout State) -> RemoteReadResult? {
        guard var answer = state.answers[read] else { return nil }
        answer.uses -= 1
        state.answers[read] = answer.uses > 0 ? answer : nil
        return answer.result
    }
}

/// A step's Remote while the engine reads ahead for its host: planned reads come from `readAhead`, everything
/// else goes to `base` as before; a write drops the answers read ahead (once it is over, failed or not: a host's
/// steps run one after another, so nothing reads ahead while it runs).
struct ReadAheadRemote: Remote {
    let base: any Remote
    let readAhead: ReadAhead
    /// The `become` of `base`.
    let become: BecomeSettings?

    var host: String { base.host }

    func probe(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        try await base.probe(script, stdin: stdin, timeout: timeout)
    }

    func change(_ script: String, stdin: [UInt8], timeout: Duration?) async throws -> CommandResult {
        defer { readAhead.invalidate() }
        return try await base.change(script, stdin: stdin, timeout: timeout)
    }

    func stat(_ path: String) async throws -> FileInfo? {
        if case .stat(let info)? = try await readAhead.answer(.stat(path), become: become, from: base) { return info }
        return try await base.stat(path)
    }

    func readFile(_ path: String) async throws -> RemoteFile? {
        if case .file(let file)? = try await readAhead.answer(.file(path), become: become, from: base) { return file }
        return try await base.readFile(path)
    }

    func writeFile(_ path: String, content: [UInt8], attributes: FileAttributes, validate: String?) async throws {
        defer { readAhead.invalidate() }
        try await base.writeFile(path, content: content, attributes: attributes, validate: validate)
    }

    func tunnel(to host: String, port: Int) async throws -> Int { try await base.tunnel(to: host, port: port) }

    func read(_ reads: [RemoteRead]) async throws -> [RemoteReadResult] { try await base.read(reads) }
}
