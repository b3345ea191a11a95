import QuorumTesting

extension QuorumCLI {
    /// `quorum apply PLAYBOOK -i INVENTORY EXTRA… --json <temp>`, by default against the lab's inventory.
    static func apply(_ playbook: String, inventory: String = Lab.inventory, _ extra: [String] = []) throws -> Run {
        try run(["apply", playbook, "-i", inventory] + extra)
    }
}
