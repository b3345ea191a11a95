import OrderedCollections
import QuorumCore

/// What a RabbitMQ step found to change, built from GETs alone: the diffs, the words for the report, and the
/// requests apply sends in order. Check mode reports the same plan and sends none of them, so its
/// prediction is apply's by construction.
struct RabbitMQPlan {
    /// One write apply sends.
    struct Request {
        var method: String
        var segments: [String]
        var body: JSONBody?
        /// Values masked in errors about this request (the user's password).
        var secrets: [String] = []
    }

    private(set) var diffs: [Diff] = []
    private(set) var requests: [Request] = []
    /// "would create vhost /magnum" / "created vhost /magnum".
    private var actions: [(would: String, did: String)] = []
    /// Remarks that are not changes ("password not checked: …").
    private var notes: [String] = []

    var isEmpty: Bool { diffs.isEmpty && requests.isEmpty }

    mutating func add(_ diffs: [Diff], would: String, did: String, _ request: Request?) {
        self.diffs += diffs
        actions.append((would, did))
        if let request { requests.append(request) }
    }

    mutating func note(_ text: String) { notes.append(text) }

    /// Sends the requests (apply only).
    func apply(_ client: RabbitMQClient) async throws {
        for request in requests {
            try await client.change(request.method, request.segments, body: request.body, secrets: request.secrets)
        }
    }

    func outcome(check: Bool, unchanged: String, result: OrderedDictionary<String, Value>) -> StepOutcome {
        let words = actions.isEmpty ? [unchanged] : actions.map { check ? $0.would : $0.did }
        return StepOutcome(changed: !isEmpty, diffs: diffs, message: (words + notes).joined(separator: "; "), result: result)
    }
}
