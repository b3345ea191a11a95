import OrderedCollections
import QuorumCore
import QuorumVault

/// How a run behaves: what the command line asked for.
public struct RunOptions: Sendable {
    /// Check mode: the same probes, a read-only Remote, nothing written.
    public var check = false
    /// Show diffs of files and options.
    public var diff = false
    /// Further restricts every play's hosts (`--limit`).
    public var limit: String?
    /// Only steps carrying one of these tags (or `always`); empty means all.
    public var tags: Set<String> = []
    public var skipTags: Set<String> = []
    /// Hosts worked on at once; nil means every host of the batch.
    public var forks: Int?
    /// `-e name=value`: the highest-precedence variables.
    public var extraVars: Variables = [:]
    /// Record unknown host keys instead of refusing them.
    public var acceptNewHostKeys = false
    public var connectTimeout: Duration = .seconds(10)
    /// The longest any one remote command may take.
    public var commandTimeout: Duration = .seconds(900)
    /// The keyring the inventory and playbooks were loaded with: what it decrypted inline is masked (nil: none).
    public var vault: VaultKeyring?
    /// Skip the read-only preflight that runs before the first play (`--skip-preflight`).
    public var skipPreflight = false

    public init() {}
}
