import OrderedCollections

/// One preflight check and the lane it belongs to (`StepKind.preflightLane`).
struct LaneWork<Result: Sendable>: Sendable {
    let lane: String
    let work: @Sendable () async -> Result
}

/// Runs each lane's work one after the other, in the order given, and the lanes at once: independent checks
/// (Keystone's requests, a host's `iptables-save`, HAProxy's `-c`) overlap, while checks that see each other's
/// planned objects keep their order. The results come back in the order given, however the lanes interleave.
func runInLanes<Result: Sendable>(_ items: [LaneWork<Result>]) async -> [Result] {
    var lanes: OrderedDictionary<String, [Int]> = [:]
    for (index, item) in items.enumerated() { lanes[item.lane, default: []].append(index) }
    return await withTaskGroup(of: [(Int, Result)].self) { group in
        for indices in lanes.values {
            group.addTask {
                var done: [(Int, Result)] = []
                for index in indices { done.append((index, await items[index].work())) }
                return done
            }
        }
        var results = [Result?](repeating: nil, count: items.count)
        for await done in group {
            for (index, result) in done { results[index] = result }
        }
        return results.compactMap { $0 }
    }
}
