import QuorumCore

/// `--list-hosts`, `--list-steps` (Ansible's `--list-tasks`) and `--list-tags`: per play, what a run would
/// touch, from the same `RunSelection` as the engine, without contacting any host.
public struct RunListing: Sendable {
    public let playbooks: [Playbook]
    public let selection: RunSelection
    public let hosts: Bool
    public let steps: Bool
    public let tags: Bool

    public init(playbooks: [Playbook], selection: RunSelection, hosts: Bool, steps: Bool, tags: Bool) {
        self.playbooks = playbooks
        self.selection = selection
        self.hosts = hosts
        self.steps = steps
        self.tags = tags
    }

    public func render() -> String {
        var out: [String] = []
        for playbook in playbooks {
            out.append("playbook: \(playbook.path)")
            for (index, play) in playbook.plays.enumerated() {
                out.append("")
                out.append("  play #\(index + 1) \"\(play.name)\" (hosts: \(play.hosts))")
                if hosts { out += hostLines(play) }
                if steps { out += stepLines(play) }
                if tags { out += tagLines(play) }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    func hostLines(_ play: Play) -> [String] {
        let hosts = selection.hosts(of: play)
        return ["    hosts (\(hosts.count)):"] + hosts.map { "      " + $0 }
    }

    /// Selected steps with their tags, then the handlers they may notify, marked.
    func stepLines(_ play: Play) -> [String] {
        let steps = selection.steps(of: play)
        let handlers = selection.handlers(of: play)
        var lines = ["    steps (\(steps.count)):"]
        lines += steps.map { "      " + $0.displayName + Self.tagText($0, play) }
        lines += handlers.map { "      handler: " + $0.displayName + Self.tagText($0, play) + "  (runs when notified)" }
        return lines
    }

    func tagLines(_ play: Play) -> [String] {
        let tags = Set(selection.steps(of: play).flatMap { $0.tags + play.tags }).sorted()
        return ["    tags: " + (tags.isEmpty ? "(none)" : tags.joined(separator: ", "))]
    }

    /// `  [tag, other]`: the step's own tags and the play's, as `--tags` matches them.
    static func tagText(_ step: Step, _ play: Play) -> String {
        var seen = Set<String>()
        let tags = (step.tags + play.tags).filter { seen.insert($0).inserted }
        return tags.isEmpty ? "" : "  [" + tags.joined(separator: ", ") + "]"
    }
}
