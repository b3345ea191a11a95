import QuorumCore

/// Which hosts and steps a run touches: a play's host pattern narrowed by `--limit`, its steps by `--tags` and
/// `--skip-tags`. One place for these rules, so the engine and `--list-hosts`/`--list-steps` never disagree.
public struct RunSelection: Sendable {
    public let inventory: Inventory
    public let limit: String?
    public let tags: Set<String>
    public let skipTags: Set<String>

    public init(inventory: Inventory, limit: String? = nil, tags: Set<String> = [], skipTags: Set<String> = []) {
        self.inventory = inventory
        self.limit = limit
        self.tags = tags
        self.skipTags = skipTags
    }

    public init(inventory: Inventory, options: RunOptions) {
        self.init(inventory: inventory, limit: options.limit, tags: options.tags, skipTags: options.skipTags)
    }

    /// The play's hosts in inventory order, only those `--limit` allows.
    public func hosts(of play: Play) -> [String] {
        guard var hosts = try? inventory.select(play.hosts) else { return [] }
        if let limit {
            let allowed = Set((try? inventory.select(limit)) ?? [])
            hosts = hosts.filter(allowed.contains)
        }
        return hosts
    }

    /// A step runs unless one of its tags (the play's included) is skipped; with `--tags`, only when it carries one
    /// of them or `always`.
    public func isSelected(_ step: Step, in play: Play) -> Bool {
        let tags = Set(step.tags + play.tags)
        if !skipTags.isDisjoint(with: tags) { return false }
        if self.tags.isEmpty || tags.contains("always") { return true }
        return !self.tags.isDisjoint(with: tags)
    }

    /// The play's selected steps, in order.
    public func steps(of play: Play) -> [Step] {
        play.steps.filter { isSelected($0, in: play) }
    }

    /// The handlers a selected step of the play may notify (they run only when notified, whatever their tags).
    public func handlers(of play: Play) -> [Step] {
        let topics = Set(steps(of: play).flatMap(\.notify))
        return play.handlers.filter { !$0.topics.isDisjoint(with: topics) }
    }
}
