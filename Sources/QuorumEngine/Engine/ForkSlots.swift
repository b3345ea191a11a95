/// `--forks N` for hosts that go through a run of steps each at its own pace: at most N of them run a step at
/// once. A freed slot goes to the host whose next step comes first (then the first host in the play's order),
/// whether or not that host has asked yet, so the order in which hosts start is the same as when every host
/// finishes a step before the next one starts; with one slot it is exactly that order.
actor ForkSlots {
    private var free: Int
    /// Per host (by its place in the play), the position of the step it asks a slot for next; nil while it holds a
    /// slot and once it is done.
    private var next: [Int?]
    /// Hosts given a slot before they asked for it.
    private var granted: Set<Int> = []
    /// Hosts waiting for their slot.
    private var waiting: [Int: CheckedContinuation<Void, Never>] = [:]

    /// Every host asks for the first step: the first `limit` of them have their slot at once.
    init(limit: Int, hosts: Int) {
        let first = min(max(1, limit), hosts)
        free = max(1, limit) - first
        next = (0..<hosts).map { $0 < first ? nil : 0 }
        granted = Set(0..<first)
    }

    /// Returns once `host` holds a slot for its next step.
    func acquire(host: Int) async {
        if granted.remove(host) != nil { return }
        await withCheckedContinuation { waiting[host] = $0 }
    }

    /// `host` is done with its slot; `nextPosition` is the step it will ask a slot for next, nil for none.
    func release(host: Int, nextPosition: Int?) {
        free += 1
        next[host] = nextPosition
        hand()
    }

    /// Gives the free slots to the hosts whose next steps come first.
    private func hand() {
        while free > 0 {
            let candidates = next.indices.compactMap { host in next[host].map { (position: $0, host: host) } }
            guard let chosen = candidates.min(by: { ($0.position, $0.host) < ($1.position, $1.host) }) else { return }
            free -= 1
            next[chosen.host] = nil
            if let continuation = waiting.removeValue(forKey: chosen.host) {
                continuation.resume()
            } else {
                granted.insert(chosen.host)
            }
        }
    }
}
