import Synchronization
import Testing

@testable import QuorumEngine

/// `runInLanes`: each lane's work in order, the lanes at once, the results in the order given.
@Suite struct PreflightLanesTests {
    @Test("the lanes overlap, a lane's work never does, and the results keep the order given")
    func lanesOverlapInOrder() async {
        let events = Events()
        let bStarted = Mutex(false)
        let record = events.record
        let items: [LaneWork<String>] = [
            LaneWork(lane: "a") {
                record("a1 start")
                // Lane b runs meanwhile: a1 sees it start (2 s at most, so a serial run fails instead of hanging).
                for _ in 0..<200 where !bStarted.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(10)) }
                record(bStarted.withLock { $0 } ? "a1 saw b" : "a1 alone")
                return "a1"
            },
            LaneWork(lane: "b") {
                bStarted.withLock { $0 = true }
                record("b1")
                return "b1"
            },
            LaneWork(lane: "a") {
                record("a2 start")
                return "a2"
            }
        ]
        let results = await runInLanes(items)
        #expect(results == ["a1", "b1", "a2"])
        let seen = events.all
        #expect(seen.contains("a1 saw b"), "\(seen)")
        let a1 = seen.firstIndex(of: "a1 saw b") ?? seen.count
        #expect(seen.firstIndex(of: "a2 start").map { $0 > a1 } == true, "a2 started before a1 ended: \(seen)")
    }

    @Test("no work, no result")
    func empty() async {
        let results: [Int] = await runInLanes([])
        #expect(results.isEmpty)
    }
}

/// What the lanes did, in the order they did it.
private final class Events: Sendable {
    private let list = Mutex<[String]>([])
    var all: [String] { list.withLock { $0 } }
    @Sendable func record(_ event: String) { list.withLock { $0.append(event) } }
}
