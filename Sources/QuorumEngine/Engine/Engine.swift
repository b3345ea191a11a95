import QuorumCore
import QuorumVault

/// Receives what happens during a run, as it happens. Everything it gets is already redacted.
public protocol RunObserver: Sendable {
    func playStarted(name: String, hosts: [String], check: Bool)
    func stepFinished(_ report: StepReport)
    func hostUnreachable(host: String, play: String, reason: String)
    /// A rolling play stopped before its last batch.
    func playStopped(name: String, reason: String)
    func runFinished(_ summary: RunSummary)
    /// A step (or handler) began on `host`: its name as reported (the live status line).
    func stepStarted(host: String, step: String)
    /// Who is told of every remote command (`-vv`), nil for nobody.
    var commandObserver: (any CommandObserver)? { get }
}

extension RunObserver {
    public func stepStarted(host: String, step: String) {}
    public var commandObserver: (any CommandObserver)? { nil }
}

/// Applies playbooks to an inventory: plays in order; in each play, host batches (`serial`), steps in
/// order with the batch's hosts in parallel (`--forks`), each at its own pace between barriers
/// (`StepSegment`), then the notified handlers.
public struct Engine: Sendable {
    public let inventory: Inventory
    public let playbooks: [Playbook]
    public let catalog: [String: any StepKind.Type]
    public let options: RunOptions
    public let connector: any HostConnector
    public let observer: any RunObserver
    public let redactor: SecretRedactor
    /// The run's stop request: set it (the signal thread does, on SIGINT or SIGTERM) and the run starts no new
    /// step, lets critical sections finish or undo, and ends with an interrupted recap.
    public let interruption: RunInterruption
    /// The hosts and steps `--limit`, `--tags` and `--skip-tags` leave to each play.
    let selection: RunSelection
    /// Variables the playbooks declare secret (`secrets:`), masked in every play of the run.
    let secretNames: Set<String>
    let templates = TemplateRenderer()

    public init(
        inventory: Inventory, playbooks: [Playbook], catalog: [String: any StepKind.Type], options: RunOptions,
        connector: any HostConnector, observer: any RunObserver, redactor: SecretRedactor,
        interruption: RunInterruption = RunInterruption()
    ) {
        self.inventory = inventory
        self.playbooks = playbooks
        self.catalog = catalog
        self.options = options
        self.connector = connector
        self.observer = observer
        self.redactor = redactor
        self.interruption = interruption
        selection = RunSelection(inventory: inventory, options: options)
        secretNames = playbooks.reduce(into: Set()) { $0.formUnion($1.secretNames) }
        redactor.register(contentsOf: inventory.vaultSecrets)
        // Inline `!vault` values the loaders decrypted (inventory, playbooks and their `vars_files`).
        redactor.register(contentsOf: options.vault?.revealedSecrets ?? [])
    }

    /// Runs every play of every playbook and returns the summary (also given to the observer).
    public func run() async -> RunSummary {
        await RunInterruption.$current.withValue(interruption) { await runPlays() }
    }

    private func runPlays() async -> RunSummary {
        let clock = ContinuousClock()
        let start = clock.now
        let pool = ConnectionPool(connector: connector)
        let planned = PlannedObjects()
        let cache = RunCache()
        let pending = PendingHandlers()
        var ledger = RunLedger()

        let preflightPassed = await preflight(pool: pool, cache: cache, ledger: &ledger)
        for playbook in playbooks where preflightPassed {
            for play in playbook.plays {
                let runner = PlayRunner(
                    engine: self, play: play, playbook: playbook, pool: pool, planned: planned, cache: cache,
                    pending: pending)
                if interruption.isStopRequested {
                    runner.leaveNotStarted(into: &ledger)
                    continue
                }
                await runner.run(into: &ledger)
            }
        }
        for value in await cache.allValues() {
            if let closable = value as? any RunResource { await closable.close() }
        }
        await pool.closeAll()
        let summary = RunSummary(
            recap: ledger.recap, hosts: ledger.hostOrder, reports: ledger.reports,
            check: options.check, duration: (clock.now - start).seconds,
            unreachableErrors: ledger.unreachable,
            interruption: interruption.reason.map { InterruptionSummary(reason: $0, leftUndone: ledger.leftUndone) })
        observer.runFinished(summary)
        return summary
    }
}

/// What the run has seen so far, across plays.
struct RunLedger {
    var recap: [String: HostRecap] = [:]
    var hostOrder: [String] = []
    var reports: [StepReport] = []
    /// Hosts that failed: they take no further part in the run.
    var failed: Set<String> = []
    /// Hosts that could not be reached, with why.
    var unreachable: [String: String] = [:]
    /// Registered variables per host; they live for the whole run, as in Ansible.
    var registered: [String: Variables] = [:]
    /// After a stop request: per host, what the run did not do.
    var leftUndone: [String: [LeftUndone]] = [:]

    mutating func see(_ host: String) {
        if recap[host] == nil {
            recap[host] = HostRecap()
            hostOrder.append(host)
        }
    }

    mutating func record(_ report: StepReport) {
        see(report.host)
        recap[report.host, default: HostRecap()].count(report)
        reports.append(report)
    }

    /// Adds to what `host` was left without in `entry.play` (one entry per host and play).
    mutating func leave(_ entry: LeftUndone, on host: String) {
        guard !entry.steps.isEmpty || !entry.handlers.isEmpty else { return }
        see(host)
        var entries = leftUndone[host, default: []]
        if let index = entries.firstIndex(where: { $0.play == entry.play }) {
            entries[index].steps += entry.steps
            entries[index].handlers += entry.handlers.filter { !entries[index].handlers.contains($0) }
        } else {
            entries.append(entry)
        }
        leftUndone[host] = entries
    }

    func isActive(_ host: String) -> Bool { !failed.contains(host) && unreachable[host] == nil }
}
