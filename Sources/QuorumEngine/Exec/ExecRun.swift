import Foundation
import OrderedCollections
import QuorumCore

/// `quorum exec`: one shell command on many hosts, through the same connections, variables, become and secrets
/// as a run, without a playbook.
extension Engine {
    /// An engine that runs no playbook, for `exec`.
    public init(
        inventory: Inventory, options: RunOptions, connector: any HostConnector, redactor: SecretRedactor,
        interruption: RunInterruption = RunInterruption()
    ) {
        self.init(
            inventory: inventory, playbooks: [], catalog: [:], options: options, connector: connector,
            observer: NoPlays(), redactor: redactor, interruption: interruption)
    }

    /// Runs `command` with `/bin/sh` on each of `hosts` (at most `--forks` at once), as root through sudo with
    /// `become` (else as the host's `ansible_become` says). A stop request ends it at once: commands still
    /// running are abandoned (reported `interrupted`), hosts not started are left.
    public func exec(_ command: String, on hosts: [String], become: Bool, observer: any ExecObserver) async -> ExecSummary {
        let clock = ContinuousClock()
        let start = clock.now
        let play = Play(
            name: "exec", hosts: hosts.joined(separator: ":"), become: become ? QuorumCore.Become(enabled: true) : nil,
            location: SourceLocation(file: inventory.path, line: 1, column: 1))
        let variables: [String: Variables]
        do {
            variables = try PlayScope(
                engine: self, play: play, playbook: Playbook(path: inventory.path, plays: [play]),
                hosts: hosts
            ).variables
        } catch {
            // Variables that cannot be rendered: nothing is contacted.
            let reason = redactor.redact(String(describing: error))
            let results = hosts.map { ExecResult(host: $0, ending: .failed(reason)) }
            results.forEach(observer.hostFinished)
            let summary = ExecSummary(results: results, duration: (clock.now - start).seconds)
            observer.execFinished(summary)
            return summary
        }
        let pool = ConnectionPool(connector: connector)
        let interruption = self.interruption
        let results = await concurrentMap(hosts, limit: options.forks ?? hosts.count) { [self] host -> ExecResult in
            guard !interruption.isStopRequested else {
                let result = ExecResult(host: host, ending: .notStarted)
                observer.hostFinished(result)
                return result
            }
            observer.hostStarted(host, command: redactor.redact(command))
            let hostVariables = variables[host] ?? [:]
            let result = await untilStopped(host: host) {
                await execOne(
                    command, on: host, variables: hostVariables, become: play.becomeSettings(nil, variables: hostVariables),
                    pool: pool)
            }
            observer.hostFinished(result)
            return result
        }
        await pool.closeAll()
        let summary = ExecSummary(results: results, interruption: interruption.reason, duration: (clock.now - start).seconds)
        observer.execFinished(summary)
        return summary
    }

    /// `body`'s result, or `interrupted` as soon as the run is asked to stop (`body` is cancelled).
    private func untilStopped(host: String, _ body: @escaping @Sendable () async -> ExecResult) async -> ExecResult {
        let interruption = self.interruption
        return await withTaskGroup(of: ExecResult?.self) { group in
            group.addTask { await body() }
            group.addTask {
                await interruption.stopRequested()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? ExecResult(host: host, ending: .interrupted)
        }
    }

    private func execOne(
        _ command: String, on host: String, variables: Variables, become: BecomeSettings?,
        pool: ConnectionPool
    ) async -> ExecResult {
        let clock = ContinuousClock()
        let start = clock.now
        func ended(_ ending: ExecResult.Ending, _ output: CommandResult = CommandResult()) -> ExecResult {
            ExecResult(
                host: host, ending: ending, stdout: redactor.redact(output.stdoutText), stderr: redactor.redact(output.stderrText),
                duration: (clock.now - start).seconds)
        }
        switch await pool.session(for: host, variables: variables) {
        case .unreachable(let reason):
            return ended(.unreachable(redactor.redact(reason)))
        case .connected(let session):
            do {
                let output = try await session.remote(become: become).change(command, stdin: [], timeout: nil)
                return ended(.exited(output.status), output)
            } catch let error as RemoteError where error.kind == .unreachable {
                return ended(.unreachable(redactor.redact(error.message)))
            } catch {
                return ended(.failed(redactor.redact(String(describing: error))))
            }
        }
    }
}

/// The run observer of an engine that runs no play.
private struct NoPlays: RunObserver {
    func playStarted(name: String, hosts: [String], check: Bool) {}
    func stepFinished(_ report: StepReport) {}
    func hostUnreachable(host: String, play: String, reason: String) {}
    func playStopped(name: String, reason: String) {}
    func runFinished(_ summary: RunSummary) {}
}
