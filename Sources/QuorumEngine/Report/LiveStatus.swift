/// What the live status line says: which hosts are still on which step, for how long, and the run's elapsed
/// time. Pure state and rendering; `ConsoleOutput` draws it. Times are offsets from any fixed origin.
public struct LiveStatus: Sendable {
    /// Host → (step, when it began), in the order hosts started.
    private var running: [(host: String, step: String, since: Duration)] = []
    public let start: Duration

    public init(start: Duration) { self.start = start }

    public var isEmpty: Bool { running.isEmpty }

    public mutating func started(host: String, step: String, at time: Duration) {
        running.removeAll { $0.host == host }
        running.append((host, step, time))
    }

    public mutating func finished(host: String) {
        running.removeAll { $0.host == host }
    }

    /// `[1m05s] ctl1: toggle p_haproxy 1m02s | ctl2, ctl3: wait for haproxy 4s`, cut to `width` characters;
    /// nil when no host is on a step.
    public func render(at now: Duration, width: Int) -> String? {
        guard !running.isEmpty else { return nil }
        var groups: [(step: String, hosts: [String], since: Duration)] = []
        for entry in running {
            if let index = groups.firstIndex(where: { $0.step == entry.step }) {
                groups[index].hosts.append(entry.host)
                groups[index].since = min(groups[index].since, entry.since)
            } else {
                groups.append((entry.step, [entry.host], entry.since))
            }
        }
        let parts = groups.map { "\($0.hosts.joined(separator: ", ")): \($0.step) \(Self.clock(now - $0.since))" }
        let text = "[\(Self.clock(now - start))] " + parts.joined(separator: " | ")
        let limit = max(width - 1, 8)  // the last column would wrap on some terminals
        return text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// `4s`, `1m02s`, `1h00m05s`.
    static func clock(_ duration: Duration) -> String {
        let total = max(0, Int(duration.components.seconds))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        if h > 0 { return "\(h)h" + pad(m) + "m" + pad(s) + "s" }
        if m > 0 { return "\(m)m" + pad(s) + "s" }
        return "\(s)s"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
