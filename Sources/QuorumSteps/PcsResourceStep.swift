import Foundation
import OrderedCollections
import QuorumCore

/// `pcs_resource`: acts on a Pacemaker resource from one controller (once per play), and waits, bounded, for
/// the effect on EVERY controller of the play (through `StepContext.peer`).
/// - `restart_by_toggle` (the default): `pcs resource disable R --wait=T`, wait until `wait_process` is gone on
///   every controller, `pcs resource enable R --wait=T`, wait until it runs again on every controller. When
///   nothing was running, `pcs resource cleanup R` instead (a failed resource has nothing to stop). Meant as a
///   handler: it always acts when it runs, so a run in which nothing notified it never toggles.
/// - `disable` / `enable`: only when the resource's target role says otherwise (idempotent), then the same waits.
/// - `cleanup`: only when Pacemaker shows failed operations of the resource.
/// - `state: started` (declarative, instead of `action`): the resource is enabled and runs where `running_on` says
///   (`all`: on every controller of the play, the default; `any`: somewhere), and `wait_process` runs there too.
///   Repaired by `pcs resource enable`, then `pcs resource cleanup` when it is enabled but not running where it
///   should (or has failed operations), then a bounded wait until it runs everywhere. `state: stopped`: disabled
///   and running nowhere (`pcs resource disable`, then the same wait as `disable`). Check mode and audits report
///   a difference as a change ("would enable p_haproxy") and write nothing.
/// A wait that times out names the controllers still (or not yet) running the process; after a failed stop the
/// resource is enabled again so that a stuck controller does not leave every API down. The toggle's disabled
/// stretch is a critical section: an interrupt (SIGINT, SIGTERM) lets it finish or enables the resource again and
/// waits (bounded, `undoTimeout`) before the run ends.
public struct PcsResourceStep: StepKind {
    public static let name = "pcs_resource"
    public static let summary =
        "Toggle (disable, wait, enable, wait), disable, enable or clean up a Pacemaker resource, or declare it started everywhere, once per play"
    public static let runsOncePerPlay = true
    /// It waits for the process on every controller of the play.
    public static func usesPeers(_ arguments: Value) -> Bool { true }
    public static let actions = ["restart_by_toggle", "disable", "enable", "cleanup"]
    public static let states = ["started", "stopped"]
    public static let placements = ["all", "any"]
    public static let schema = ArgSchema(
        [
            ArgField("resource", .string, required: true, "resource id, e.g. p_haproxy (a clone's primitive or the clone)"),
            ArgField("action", .choice(actions), default: .string("restart_by_toggle"), "restart_by_toggle, disable, enable or cleanup"),
            ArgField("state", .choice(states), "declarative instead of `action`: started (enabled and running) or stopped (disabled, running nowhere)"),
            ArgField(
                "running_on", .choice(placements), default: .string("all"), "with state: started, where it must run: all (every controller of the play) or any"),
            ArgField("wait_process", .string, "process name (pgrep -x) to wait for on every controller of the play, e.g. haproxy"),
            ArgField("timeout", .intRange(1...3600), default: .int(120), "seconds allowed for each phase: pcs --wait, and each wait for the process")
        ], mutuallyExclusive: [["action", "state"]])

    /// The bound of the wait after an interrupted toggle enables the resource again.
    public static let undoTimeout = 60

    public let resource: String
    public let action: String
    /// The declared state (`started`, `stopped`), nil for the imperative `action` form.
    public let state: String?
    /// With `state: started`: `all` (every controller of the play) or `any`.
    public let runningOn: String
    public let waitProcess: String?
    public let timeout: Int

    public init(checked arguments: Arguments) throws {
        resource = try arguments.requiredString("resource")
        guard !resource.hasPrefix("-"),
            resource.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_.:-".unicodeScalars.contains($0)
            })
        else {
            throw StepFailure("argument `resource` must be a Pacemaker id (letters, digits, `_`, `.`, `:`, `-`), got `\(resource)`")
        }
        state = try arguments.choice("state", PcsResourceStep.states)
        if state != nil, arguments.has("action") { throw StepFailure("give `action` or `state`, not both") }
        action = try arguments.value(arguments.string, "action")
        runningOn = try arguments.value(arguments.string, "running_on")
        if arguments.has("running_on"), state != "started" { throw StepFailure("argument `running_on` only applies to `state: started`") }
        waitProcess = try arguments.string("wait_process")
        if let waitProcess {
            guard !waitProcess.isEmpty, waitProcess.utf8.count <= 15, !waitProcess.contains("\n") else {
                throw StepFailure("argument `wait_process` must be a process name of at most 15 characters (pgrep -x), got `\(waitProcess)`")
            }
        }
        timeout = try arguments.value(arguments.int, "timeout")
    }

    static let path = "PATH=\"$PATH:/usr/sbin:/sbin\"; export PATH"

    // MARK: probes

    func status(_ remote: any Remote) async throws -> CrmMonStatus {
        let result = try await remote.probe(PcsResourceStep.path + "\ncrm_mon -1 --output-as=xml", stdin: [], timeout: .seconds(60))
        guard result.succeeded else {
            throw StepFailure(
                "cannot read the cluster status on \(remote.host) (crm_mon exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
        let status = CrmMonStatus.parse(result.stdoutText, resource: resource)
        guard status.exists else { throw StepFailure("no Pacemaker resource `\(resource)` in the cluster (crm_mon on \(remote.host))") }
        return status
    }

    /// The Remote of every controller of the play (this host's own included), in play order.
    func controllers(_ context: StepContext) async throws -> [(host: String, remote: any Remote)] {
        let hosts = context.playHosts.isEmpty ? [context.host] : context.playHosts
        var result: [(host: String, remote: any Remote)] = []
        for host in hosts {
            if host == context.host {
                result.append((host, context.remote))
            } else {
                do {
                    result.append((host, try await context.peer(host)))
                } catch {
                    throw StepFailure("cannot reach \(host) to watch `\(waitProcess ?? resource)`: \(error)")
                }
            }
        }
        return result
    }

    /// Controllers where the process runs now (one pgrep each, in parallel).
    func running(_ name: String, on controllers: [(host: String, remote: any Remote)]) async throws -> [String] {
        try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for (host, remote) in controllers {
                group.addTask {
                    let r = try await remote.probe(
                        PcsResourceStep.path + "\nIFS= read -r p; pgrep -x -- \"$p\" >/dev/null",
                        stdin: Array((name + "\n").utf8), timeout: .seconds(30))
                    guard r.status <= 1 else { throw StepFailure("pgrep failed on \(host) (exit \(r.status))", detail: r.stderrText) }
                    return (host, r.status == 0)
                }
            }
            var hosts: [String] = []
            for try await (host, runs) in group where runs { hosts.append(host) }
            return controllers.map(\.host).filter(hosts.contains)
        }
    }

    /// Waits (bounded, one remote loop per controller, all in parallel) until `name` is gone (`running: false`)
    /// or runs (`running: true`) on every controller; throws naming the controllers that did not get there.
    func wait(
        for name: String, running: Bool, on controllers: [(host: String, remote: any Remote)],
        _ context: StepContext, timeout: Int? = nil
    ) async throws -> Double {
        let timeout = timeout ?? self.timeout
        let start = ContinuousClock.now
        let waiter = try WaitForStep(
            arguments: Arguments([
                "process": .string(name), "state": .string(running ? "started" : "stopped"), "timeout": .int(timeout)
            ]))
        let failures = await withTaskGroup(of: (String, String?).self) { group in
            for (host, remote) in controllers {
                group.addTask {
                    let peerContext = context.on(host, remote: remote)
                    do {
                        _ = try await waiter.run(peerContext)
                        return (host, nil)
                    } catch let failure as StepFailure {
                        return (host, failure.detail.map { $0.replacingOccurrences(of: "still running:\n", with: "") } ?? failure.message)
                    } catch {
                        return (host, "\(error)")
                    }
                }
            }
            var failed: [String: String] = [:]
            for await (host, failure) in group { if let failure { failed[host] = failure } }
            return failed
        }
        if !failures.isEmpty {
            let hosts = controllers.map(\.host).filter { failures[$0] != nil }
            let what = running ? "\(name) not running again" : "\(name) still running"
            let detail = hosts.map { "\($0): \(failures[$0] ?? "")" }.joined(separator: "\n")
            throw StepFailure("timed out after \(timeout)s: \(what) on \(hosts.joined(separator: ", "))", detail: detail)
        }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: changes

    func pcs(_ remote: any Remote, _ words: [String], timeout: Int? = nil) async throws {
        let result = try await remote.change(
            PcsResourceStep.path + "\n" + Shell.join(["pcs"] + words),
            stdin: [], timeout: .seconds((timeout ?? self.timeout) + 60))
        guard result.succeeded else {
            throw StepFailure(
                "`pcs \(words.joined(separator: " "))` failed on \(remote.host) (exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
    }

    func disable(_ remote: any Remote) async throws { try await pcs(remote, ["resource", "disable", resource, "--wait=\(timeout)"]) }
    func enable(_ remote: any Remote) async throws { try await pcs(remote, ["resource", "enable", resource, "--wait=\(timeout)"]) }

    static func seconds(_ value: Double) -> String { String(format: "%.1fs", value) }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: run

    public func run(_ context: StepContext) async throws -> StepOutcome {
        if let state { return try await converge(to: state, context) }
        let remote = context.remote
        let status = try await status(remote)
        let controllers = waitProcess == nil ? [] : try await controllers(context)
        var processHosts: [String] = []
        if let name = waitProcess { processHosts = try await running(name, on: controllers) }
        let hostList = controllers.map(\.host).joined(separator: ", ")
        let subject = "pcs resource \(resource)"

        switch action {
        case "cleanup":
            guard !status.failures.isEmpty else { return .unchanged }
            let diff = Diff(subject: subject, before: status.failures.joined(separator: "; "), after: "cleaned up")
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would clean up \(resource)") }
            try await pcs(remote, ["resource", "cleanup", resource])
            return StepOutcome(changed: true, diffs: [diff], message: "cleaned up \(resource)")

        case "disable":
            let done = status.disabled && status.runningOn.isEmpty && processHosts.isEmpty
            guard !done else { return .unchanged }
            let diff = Diff(subject: subject, before: describe(status, processHosts), after: "disabled")
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would disable \(resource)") }
            try await disable(remote)
            var stop: Double?
            if let name = waitProcess { stop = try await wait(for: name, running: false, on: controllers, context) }
            return StepOutcome(
                changed: true, diffs: [diff],
                message: "disabled \(resource)" + (stop.map { ", \(waitProcess ?? "") gone on \(hostList) after \(Self.seconds($0))" } ?? ""))

        case "enable":
            let done = !status.disabled && (waitProcess == nil || processHosts.count == controllers.count)
            guard !done else { return .unchanged }
            let diff = Diff(subject: subject, before: describe(status, processHosts), after: "enabled")
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would enable \(resource)") }
            try await enable(remote)
            var start: Double?
            if let name = waitProcess { start = try await wait(for: name, running: true, on: controllers, context) }
            return StepOutcome(
                changed: true, diffs: [diff],
                message: "enabled \(resource)" + (start.map { ", \(waitProcess ?? "") running on \(hostList) after \(Self.seconds($0))" } ?? ""))

        default:  // restart_by_toggle
            let anythingRunning = !status.runningOn.isEmpty || !processHosts.isEmpty
            guard anythingRunning else {
                let diff = Diff(subject: subject, before: "nothing running", after: "cleaned up")
                if context.check {
                    return StepOutcome(changed: true, diffs: [diff], message: "nothing running: would clean up \(resource) instead of toggling")
                }
                try await pcs(remote, ["resource", "cleanup", resource])
                return StepOutcome(
                    changed: true, diffs: [diff], message: "nothing was running: cleaned up \(resource) instead of toggling",
                    result: ["toggled": .bool(false), "cleaned_up": .bool(true)])
            }
            let diff = Diff(subject: subject, before: describe(status, processHosts), after: "restarted by toggle")
            if context.check {
                let wait = waitProcess.map { ", wait until \($0) is gone on \(hostList)" } ?? ""
                return StepOutcome(changed: true, diffs: [diff], message: "would toggle \(resource): disable\(wait), enable")
            }
            let (stopSeconds, startSeconds) = try await toggle(controllers, context)
            let message =
                waitProcess.map {
                    "toggled \(resource): disabled, \($0) gone on \(hostList) after \(Self.seconds(stopSeconds)); enabled, running again after \(Self.seconds(startSeconds))"
                }
                ?? "toggled \(resource)"
            return StepOutcome(
                changed: true, diffs: [diff], message: message,
                result: [
                    "toggled": .bool(true), "cleaned_up": .bool(false),
                    "stop_seconds": .double(stopSeconds), "start_seconds": .double(startSeconds)
                ])
        }
    }

    /// Disable, wait until the process is gone, enable, wait until it runs: a critical section whose undo enables
    /// the resource again and waits (bounded) until the process runs on every controller. Returns the seconds of
    /// the stop and of the start.
    func toggle(_ controllers: [(host: String, remote: any Remote)], _ context: StepContext) async throws -> (Double, Double) {
        let remote = context.remote
        let undo: @Sendable () async throws -> String = { try await restore(controllers, context) }
        return try await context.critical(
            "\(resource) disabled",
            ifLeft: "\(resource) may be left disabled: run `pcs resource enable \(resource)`",
            undo: undo
        ) { section in
            let disabledAt = ContinuousClock.now
            try await disable(remote)
            if let name = waitProcess {
                do {
                    _ = try await section.interruptible { try await wait(for: name, running: false, on: controllers, context) }
                } catch let failure as StepFailure {
                    // Do not leave every controller's service down because one of them is stuck.
                    let reenabled = (try? await pcs(remote, ["resource", "enable", resource])) != nil
                    throw StepFailure(
                        failure.message + (reenabled ? "; \(resource) enabled again" : "; \(resource) left disabled"),
                        detail: failure.detail)
                }
            }
            let stopSeconds = Self.seconds(since: disabledAt)
            let enabledAt = ContinuousClock.now
            try await enable(remote)
            if let name = waitProcess {
                _ = try await section.interruptible { try await wait(for: name, running: true, on: controllers, context) }
            }
            return (stopSeconds, Self.seconds(since: enabledAt))
        }
    }

    /// The undo of an interrupted toggle: enable again, wait (at most `undoTimeout`) until the process runs on every
    /// controller. Returns what it saw, for the report.
    func restore(_ controllers: [(host: String, remote: any Remote)], _ context: StepContext) async throws -> String {
        let bound = Self.undoTimeout
        try await pcs(context.remote, ["resource", "enable", resource] + (waitProcess == nil ? ["--wait=\(bound)"] : []), timeout: bound)
        guard let name = waitProcess else { return "\(resource) enabled again" }
        let seconds = try await wait(for: name, running: true, on: controllers, context, timeout: bound)
        return "\(resource) enabled again, \(name) running on \(controllers.map(\.host).joined(separator: ", ")) after \(Self.seconds(seconds))"
    }

    func describe(_ status: CrmMonStatus, _ processHosts: [String]) -> String {
        var parts: [String] = []
        parts.append(status.disabled ? "disabled" : "enabled")
        parts.append(status.runningOn.isEmpty ? "started nowhere" : "started on " + status.runningOn.joined(separator: ", "))
        if let waitProcess {
            parts.append(processHosts.isEmpty ? "\(waitProcess) running nowhere" : "\(waitProcess) running on " + processHosts.joined(separator: ", "))
        }
        return parts.joined(separator: ", ")
    }
}
