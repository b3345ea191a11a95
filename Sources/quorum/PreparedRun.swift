import QuorumCore
import QuorumEngine
import QuorumSteps

/// A run loaded and checked, ready to go: inventory, playbooks, options and the SSH connector. `run` may be
/// called more than once (the plan, then the apply, of `apply --confirm`); each run connects afresh.
struct PreparedRun {
    let loaded: Frontend.Loaded
    let options: RunOptions
    let connector: SSHConnector
    let redactor: SecretRedactor

    func run(check: Bool, diff: Bool, observer: any RunObserver) async -> RunSummary {
        var options = self.options
        options.check = check
        options.diff = diff
        var connector = self.connector
        connector.commandObserver = observer.commandObserver  // -vv: this run's printer sees every remote command
        let interruption = RunInterruption()
        let engine = Engine(
            inventory: loaded.inventory, playbooks: loaded.playbooks, catalog: StepCatalog.byName,
            options: options, connector: connector, observer: observer, redactor: redactor,
            interruption: interruption)
        return await InterruptSignals.during(interruption) { await engine.run() }
    }
}
