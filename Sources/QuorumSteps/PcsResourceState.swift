import QuorumCore

/// `pcs_resource` with `state:` — the running state of a Pacemaker resource as desired state, probed and repaired
/// like a file: "p_haproxy is enabled and runs on every controller".
extension PcsResourceStep {
    /// Where the resource is, as far as the declared state cares.
    struct Placement {
        var status: CrmMonStatus
        /// Controllers where `wait_process` runs (empty without `wait_process`).
        var processHosts: [String]
        /// Controllers where it should run and does not (with `running_on: any`, all of them when it runs nowhere).
        var missing: [String]
    }

    /// A Pacemaker node is a controller of the play when their names, or their short names, are the same.
    static func sameNode(_ node: String, _ host: String) -> Bool {
        node == host || node.prefix { $0 != "." } == host.prefix { $0 != "." }
    }

    func placement(_ context: StepContext, _ controllers: [(host: String, remote: any Remote)]) async throws -> Placement {
        let status = try await status(context.remote)
        var processHosts: [String] = []
        if let name = waitProcess { processHosts = try await running(name, on: controllers) }
        let hosts = context.playHosts.isEmpty ? [context.host] : context.playHosts
        let runsOn: (String) -> Bool = { host in
            status.runningOn.contains { Self.sameNode($0, host) } && (waitProcess == nil || processHosts.contains(host))
        }
        let missing = runningOn == "all" ? hosts.filter { !runsOn($0) } : (hosts.contains(where: runsOn) ? [] : hosts)
        return Placement(status: status, processHosts: processHosts, missing: missing)
    }

    /// Converges the resource to `state` (`started` or `stopped`).
    func converge(to state: String, _ context: StepContext) async throws -> StepOutcome {
        let controllers = waitProcess == nil ? [] : try await controllers(context)
        let found = try await placement(context, controllers)
        let subject = "pcs resource \(resource)"
        let before = describe(found.status, found.processHosts)
        if state == "stopped" {
            guard !found.status.disabled || !found.status.runningOn.isEmpty || !found.processHosts.isEmpty else { return .unchanged }
            let diff = Diff(subject: subject, before: before, after: "disabled, running nowhere")
            if context.check { return StepOutcome(changed: true, diffs: [diff], message: "would disable \(resource)") }
            try await disable(context.remote)
            if let name = waitProcess { _ = try await wait(for: name, running: false, on: controllers, context) }
            return StepOutcome(changed: true, diffs: [diff], message: "disabled \(resource)")
        }

        let everywhere =
            runningOn == "all"
            ? "started on " + (context.playHosts.isEmpty ? [context.host] : context.playHosts).joined(separator: ", ")
            : "started"
        guard found.status.disabled || !found.missing.isEmpty else { return .unchanged }
        let diff = Diff(subject: subject, before: before, after: "enabled, \(everywhere)")
        let needsCleanup = !found.status.failures.isEmpty || (!found.status.disabled && !found.missing.isEmpty)
        if context.check {
            var plan: [String] = []
            if found.status.disabled { plan.append("enable \(resource)") }
            if needsCleanup { plan.append("clean up \(resource)") }
            let target = found.missing.isEmpty ? "" : " so that it runs on \(found.missing.joined(separator: ", "))"
            return StepOutcome(changed: true, diffs: [diff], message: "would " + plan.joined(separator: " and ") + target)
        }
        var done: [String] = []
        if found.status.disabled {
            try await pcs(context.remote, ["resource", "enable", resource])
            done.append("enabled")
        }
        if needsCleanup {
            try await pcs(context.remote, ["resource", "cleanup", resource])
            done.append("cleaned up")
        }
        let seconds = try await waitPlaced(context, controllers)
        return StepOutcome(
            changed: true, diffs: [diff],
            message: done.joined(separator: " and ") + " \(resource): \(everywhere) after \(Self.seconds(seconds))")
    }

    /// Polls (every second, at most `timeout` seconds) until the resource runs where it should; throws naming the
    /// controllers where it still does not. An enabled resource that a failure count keeps off a node is cleaned up
    /// once on the way.
    func waitPlaced(_ context: StepContext, _ controllers: [(host: String, remote: any Remote)]) async throws -> Double {
        let start = ContinuousClock.now
        let deadline = start + .seconds(timeout)
        var cleaned = false
        while true {
            let now = try await placement(context, controllers)
            if !now.status.disabled && now.missing.isEmpty { return Self.seconds(since: start) }
            if ContinuousClock.now >= deadline {
                throw StepFailure(
                    "timed out after \(timeout)s: \(resource) not running on \(now.missing.joined(separator: ", "))",
                    detail: describe(now.status, now.processHosts))
            }
            if !cleaned, !now.status.failures.isEmpty {
                try await pcs(context.remote, ["resource", "cleanup", resource])
                cleaned = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
