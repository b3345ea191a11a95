/// What an interrupted run left undone on one host in one play.
public struct LeftUndone: Sendable, Codable, Equatable {
    public var play: String
    /// Steps that never started on the host (the whole play when it never started).
    public var steps: [String]
    /// Handlers notified on the host that never ran.
    public var handlers: [String]
    /// True when the play never started on the host.
    public var playNotStarted: Bool

    public init(play: String, steps: [String], handlers: [String] = [], playNotStarted: Bool = false) {
        self.play = play
        self.steps = steps
        self.handlers = handlers
        self.playNotStarted = playNotStarted
    }

    enum CodingKeys: String, CodingKey {
        case play, steps, handlers
        case playNotStarted = "play_not_started"
    }
}

extension LeftUndone: CustomStringConvertible {
    /// "steps not done: a, b, c (and 2 more); handlers pending: restart haproxy".
    public var description: String {
        func names(_ list: [String]) -> String {
            let shown = list.prefix(6).joined(separator: ", ")
            return list.count > 6 ? shown + " (and \(list.count - 6) more)" : shown
        }
        var parts: [String] = []
        if playNotStarted {
            parts.append("play not started (\(steps.count) step\(steps.count == 1 ? "" : "s"): \(names(steps)))")
        } else if !steps.isEmpty {
            parts.append("steps not done: " + names(steps))
        }
        if !handlers.isEmpty { parts.append("handlers pending: " + names(handlers)) }
        return parts.joined(separator: "; ")
    }
}

/// How a run that was asked to stop ended: why, and per host what it did not do.
public struct InterruptionSummary: Sendable, Codable, Equatable {
    /// The signal (`SIGINT`, `SIGTERM`) or other reason.
    public var reason: String
    /// Per host, in host order, what was left undone (hosts with nothing left are absent).
    public var leftUndone: [String: [LeftUndone]]

    public init(reason: String, leftUndone: [String: [LeftUndone]]) {
        self.reason = reason
        self.leftUndone = leftUndone
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case leftUndone = "left_undone"
    }
}
