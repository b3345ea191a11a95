import Foundation
import OrderedCollections
import QuorumCore

/// A handler that a step notified on a host and that has not run there yet: one line of the host's
/// `/var/lib/quorum/pending-handlers`, tab-separated: when, playbook (file name), play, handler, notifying step.
/// The line outlives the run that wrote it, so a run that ends between a change and its handler (a failure
/// on a later step, an interrupt, a lost host) never loses the restart or the reload it owes.
struct PendingHandler: Sendable, Hashable {
    /// When the notifying step changed the host (UTC, ISO 8601).
    var time: String
    var playbook: String
    var play: String
    /// The handler's `name`, else its `listen` topics.
    var handler: String
    /// The notifying step's name as reports show it (redacted).
    var step: String

    init(time: String, playbook: String, play: String, handler: String, step: String) {
        self.time = time
        self.playbook = playbook
        self.play = play
        self.handler = handler
        self.step = step
    }

    /// Parses one line; nil for a line that is not a record (kept in the file, otherwise ignored).
    init?(line: Substring) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5, !fields[0].isEmpty, !fields[3].isEmpty else { return nil }
        (time, playbook, play, handler, step) = (fields[0], fields[1], fields[2], fields[3], fields[4])
    }

    /// The line as the file holds it (tabs and line breaks inside names become spaces).
    var line: String {
        [time, playbook, play, handler, step].map { field in
            String(field.map { $0 == "\t" || $0.isNewline ? " " : $0 })
        }.joined(separator: "\t")
    }

    /// How a report says why the handler runs: "pending since <time>, notified by <step>".
    var note: String { "pending since \(time), notified by \(step)" }

    static func identity(of handler: Step) -> String { handler.name ?? handler.listen.joined(separator: ", ") }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

/// The state file on a host: read with the Remote's `readFile` (allowed in check mode), changed by one remote
/// command each that merges with what the host has (the new lines appended, or the done lines removed) into a
/// temporary file renamed over the old one: a reader sees the old file or the new one, never half of it.
struct PendingHandlerFile: Sendable {
    static let standard = PendingHandlerFile(path: "/var/lib/quorum/pending-handlers")

    let path: String

    func read(_ remote: any Remote) async throws -> [PendingHandler] {
        guard let file = try await remote.readFile(path) else { return [] }
        return file.text.split(separator: "\n").compactMap(PendingHandler.init(line:))
    }

    /// Adds `entries` to the host's file (creating `/var/lib/quorum`, 0700, when missing).
    func record(_ entries: [PendingHandler], on remote: any Remote) async throws {
        try await run(recordScript, entries, on: remote, what: "record")
    }

    /// Removes `entries` (exact lines); the file goes when nothing is left in it.
    func clear(_ entries: [PendingHandler], on remote: any Remote) async throws {
        try await run(clearScript, entries, on: remote, what: "clear")
    }

    private func run(_ script: String, _ entries: [PendingHandler], on remote: any Remote, what: String) async throws {
        guard !entries.isEmpty else { return }
        let lines = entries.map { $0.line + "\n" }.joined()
        let result = try await remote.change(script, stdin: Array(lines.utf8), timeout: .seconds(60))
        guard result.succeeded else {
            throw StepFailure(
                "cannot \(what) pending handlers in \(path) (exit \(result.status))",
                detail: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    static let recordMarker = "# quorum: record pending handlers"
    static let clearMarker = "# quorum: clear pending handlers"

    var recordScript: String {
        script(Self.recordMarker, merge: "{ if [ -f \"$f\" ]; then cat -- \"$f\"; fi; cat; } > \"$t\"")
    }

    var clearScript: String {
        // grep exits 1 when it selects no line: every line was done.
        script(Self.clearMarker, merge: "if [ -f \"$f\" ]; then grep -v -x -F -f /dev/stdin -- \"$f\" > \"$t\" || [ $? -eq 1 ]; fi")
    }

    private func script(_ marker: String, merge: String) -> String {
        [
            marker,
            "set -e",
            "f=\(Shell.quote(path))",
            "d=$(dirname -- \"$f\")",
            "[ -d \"$d\" ] || mkdir -p -m 0700 -- \"$d\"",
            "t=$(mktemp \"$d/.pending.XXXXXX\")",
            "trap 'rm -f -- \"$t\"' EXIT HUP INT TERM",
            merge,
            "if [ -s \"$t\" ]; then mv -f -- \"$t\" \"$f\"; else rm -f -- \"$f\" \"$t\"; fi",
            "trap - EXIT HUP INT TERM"
        ].joined(separator: "\n")
    }
}

/// The pending handlers of every host of a run: read from the host at the run's first contact with it, then
/// kept in step with the file as steps record and handlers clear. Check mode reads, and never writes.
actor PendingHandlers {
    let file: PendingHandlerFile
    private var byHost: [String: [PendingHandler]] = [:]

    init(file: PendingHandlerFile = .standard) { self.file = file }

    /// Reads the host's file once per run; later calls do nothing.
    func load(_ host: String, from remote: any Remote) async throws {
        guard byHost[host] == nil else { return }
        byHost[host] = try await file.read(remote)
    }

    /// The record of `handler` of `play` on `host`, when one is pending there.
    func entry(host: String, playbook: String, play: String, handler: String) -> PendingHandler? {
        byHost[host]?.first { $0.playbook == playbook && $0.play == play && $0.handler == handler }
    }

    /// Records on the host those of `entries` that are not pending there yet (the older time is the true one).
    func record(_ entries: [PendingHandler], host: String, remote: any Remote) async throws {
        let new = entries.filter { wanted in
            entry(host: host, playbook: wanted.playbook, play: wanted.play, handler: wanted.handler) == nil
        }
        guard !new.isEmpty else { return }
        try await file.record(new, on: remote)
        byHost[host, default: []] += new
    }

    /// Clears the handler's record on the host, if it has one.
    func clear(host: String, playbook: String, play: String, handler: String, remote: any Remote) async throws {
        let done = (byHost[host] ?? []).filter { $0.playbook == playbook && $0.play == play && $0.handler == handler }
        guard !done.isEmpty else { return }
        try await file.clear(done, on: remote)
        byHost[host]?.removeAll { done.contains($0) }
    }
}

/// The play runner's side of durable handlers: load at first contact, record right after a notifying change,
/// notify from what earlier runs left pending, clear when the handler has run.
extension PlayRunner {
    /// The playbook as records name it: its file name, the same whatever directory the run started in.
    var playbookName: String { String(playbook.path.split(separator: "/").last ?? Substring(playbook.path)) }

    /// Reads each newly connected host's pending handlers (once per run, with the play's `become`). A host
    /// whose file cannot be read fails here: what it owes would otherwise be forgotten.
    func loadPendingHandlers(
        _ sessions: [String: any HostSession], scope: PlayScope,
        ledger: inout RunLedger
    ) async -> [String: any HostSession] {
        let pending = self.pending
        let loads = sessions.map { host, session in
            (host, ReadOnlyRemote(session.remote(become: becomeSettings(nil, variables: scope.variables[host] ?? [:]))))
        }
        let failures = await concurrentMap(loads, limit: options.forks ?? loads.count) { host, remote in
            do {
                try await pending.load(host, from: remote)
                return (host, nil as (any Error)?)
            } catch {
                return (host, error)
            }
        }
        var usable = sessions
        for case (let host, let error?) in failures {
            usable[host] = nil
            let message = engine.redactor.redact("cannot read \(pending.file.path): \(String(describing: error))")
            var report = failure(host: host, message: message)
            report.step = "pending handlers"
            report.kind = "pending_handlers"
            if let remoteError = error as? RemoteError, remoteError.kind == .unreachable {
                report.outcome = .unreachable
                ledger.unreachable[host] = message
                engine.observer.hostUnreachable(host: host, play: play.name, reason: message)
            } else {
                ledger.failed.insert(host)
            }
            ledger.record(report)
            engine.observer.stepFinished(report)
        }
        return usable
    }

    /// After a step changed a host and notified handlers (apply only): records them as pending on that host
    /// before anything else happens there. A record that cannot be written is a warning on the step's report.
    func recordPendingHandlers(_ execution: StepExecution, step: Step, remote: any Remote) async -> StepExecution {
        guard !options.check, execution.report.outcome == .changed, !step.notify.isEmpty else { return execution }
        let notified = Set(step.notify)
        let time = PendingHandler.now()
        let entries = play.handlers.filter { !notified.isDisjoint(with: $0.topics) }.map { handler in
            PendingHandler(
                time: time, playbook: playbookName, play: play.name,
                handler: PendingHandler.identity(of: handler), step: execution.report.step)
        }
        do {
            try await pending.record(entries, host: execution.report.host, remote: remote)
            return execution
        } catch {
            var execution = execution
            execution.report.findings.append(
                Finding(
                    file: pending.file.path, subject: "pending handlers",
                    message: engine.redactor.redact(
                        "could not record the notified handlers (\(String(describing: error))): "
                            + "if this run ends before they run, the next run will not know they are owed"),
                    replacement: nil))
            return execution
        }
    }

    /// Hosts of `hosts` on which an earlier run left `handler` pending, with the record.
    func pendingRecords(of handler: Step, on hosts: [String]) async -> [String: PendingHandler] {
        var records: [String: PendingHandler] = [:]
        for host in hosts {
            records[host] = await pending.entry(
                host: host, playbook: playbookName, play: play.name,
                handler: PendingHandler.identity(of: handler))
        }
        return records
    }

    /// Clears `handler`'s records where it has run (ok, changed or skipped by its `when`): on each host that ran
    /// it, or, for a handler that runs once for the play, on every notified host once that one run succeeded.
    func clearPendingHandler(
        _ handler: Step, notified hosts: [String], reports: ArraySlice<StepReport>,
        sessions: [String: any HostSession], scope: PlayScope
    ) async {
        guard !options.check else { return }
        let succeeded = reports.filter { [.ok, .changed, .skipped].contains($0.outcome) }.map(\.host)
        let done = runsOnce(handler) ? (succeeded.isEmpty || reports.count != succeeded.count ? [] : hosts) : succeeded
        let pending = self.pending
        let clears = done.compactMap { host in
            sessions[host].map { (host, $0.remote(become: becomeSettings(handler, variables: scope.variables[host] ?? [:]))) }
        }
        let identity = PendingHandler.identity(of: handler)
        _ = await concurrentMap(clears, limit: options.forks ?? clears.count) { [playbookName, play] host, remote in
            // A record that stays (the host went away) only makes the next run run the handler once more.
            try? await pending.clear(host: host, playbook: playbookName, play: play.name, handler: identity, remote: remote)
        }
    }
}

extension Step {
    /// What notifies this handler: its name and its `listen` topics.
    var topics: Set<String> { Set((name.map { [$0] } ?? []) + listen) }
}

extension StepExecution {
    /// Says in the report that the handler runs for a record an earlier run left. In check mode such a handler
    /// is owed whatever its probe says, so it is predicted as a change (drift), not as ok or not audited.
    mutating func notePending(_ record: PendingHandler, check: Bool) {
        report.message = record.note + (report.message.map { "; " + $0 } ?? "")
        if check, report.outcome == .ok || report.unchecked != nil, report.outcome != .failed, report.outcome != .unreachable {
            report.outcome = .changed
            report.unchecked = nil
        }
    }
}
