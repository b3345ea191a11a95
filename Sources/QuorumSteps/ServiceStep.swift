import OrderedCollections
import QuorumCore

/// `service`: starts, stops, restarts or reloads a service, and enables or disables it at boot, through the
/// host's service manager: systemd when `/run/systemd/system` exists, else SysV init scripts (`service`,
/// `update-rc.d`).
///
/// One probe detects the manager and reads the service's state; one change script (action, then a check that
/// the service really is running, or stopped) when something must happen. `started`/`stopped` are idempotent;
/// `restarted`/`reloaded` always act, as handlers expect (a stopped service is started instead). `started` with
/// `restart_if_older_than` also restarts a running service older than its files (see `ServiceFreshness`).
public struct ServiceStep: StepKind {
    public static let name = "service"
    public static let summary = "Start, stop, restart or reload a service and enable it at boot (systemd or SysV init)"
    public static let schema = ArgSchema(
        [
            ArgField("name", .string, required: true, "service name (systemd unit or /etc/init.d script)"),
            ArgField(
                "state", .choice(State.allCases.map(\.rawValue)),
                "started/stopped are idempotent; restarted/reloaded always act"),
            ArgField("enabled", .bool, "start at boot (systemctl enable, or update-rc.d on SysV)"),
            HAProxyDrain.field
        ] + ServiceFreshness.fields, freeForm: "name")

    public enum State: String, Sendable, CaseIterable { case started, stopped, restarted, reloaded }

    /// `drain` reaches every HAProxy of the play; arguments given whole by one template might hold it.
    public static func usesPeers(_ arguments: Value) -> Bool {
        if let map = arguments.mapValue { return map[HAProxyDrain.field.name] != nil }
        return arguments.stringValue.map(TemplateRenderer.isTemplate) ?? false
    }
    public enum Manager: String, Sendable { case systemd, sysv }

    public let service: String
    public let state: State?
    public let enabled: Bool?
    /// The `drain:` map, read per host when the step runs (its server name defaults to the host's).
    let drain: OrderedDictionary<String, Value>?
    /// `restart_if_older_than` (with `pidfile`), nil without it or with `state: restarted`.
    let freshness: ServiceFreshness?

    public init(checked arguments: Arguments) throws {
        service = try arguments.requiredString("name")
        try ServiceStep.validate(service)
        state = try arguments.choice("state", State.allCases.map(\.rawValue)).flatMap(State.init(rawValue:))
        enabled = try arguments.bool("enabled")
        drain = try arguments.map("drain")
        freshness = try ServiceFreshness(arguments: arguments, service: service, state: state)
        guard state != nil || enabled != nil else {
            throw StepFailure("service \(service): give `state`, `enabled`, or both")
        }
    }

    /// Unit and init-script names: letters, digits and `_.@:+-`, not starting with a punctuation mark.
    static func validate(_ name: String) throws {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_.@:+-".unicodeScalars.contains($0)
        }
        guard allowed, let first = name.unicodeScalars.first, !"_.@:+-".unicodeScalars.contains(first) else {
            throw StepFailure("invalid service name `\(name)`")
        }
    }

    /// What the probe found.
    public struct Status: Sendable, Equatable {
        public var manager: Manager
        public var running: Bool
        public var enabled: Bool
        /// `systemctl is-enabled` word, or `yes`/`no` for the SysV boot links.
        public var enabledState: String
        public var output: String
        /// With `restart_if_older_than`, of a running service: when its main process started, and what changed since.
        var freshness: ServiceFreshness.Reading?
    }

    private var quoted: String { Shell.quote(service) }

    private var sysvBootLinks: String { "/etc/rc[2345].d/S[0-9][0-9]" + quoted }

    /// Detects the manager and reads the state in one script.
    var probeScript: String {
        let q = quoted
        return """
            if [ -d /run/systemd/system ]; then
              echo manager=systemd
              echo "load$(systemctl show -p LoadState \(q) 2>/dev/null | sed -n 's/^LoadState//p')"
              echo "active=$(systemctl is-active \(q) 2>/dev/null)"
              echo "enabled=$(systemctl is-enabled \(q) 2>/dev/null)"
            \(freshness?.probe(.systemd, service: service) ?? ":")
            else
              echo manager=sysv
              if [ -x /etc/init.d/\(q) ]; then echo load=loaded; else echo load=not-found; fi
              out=$(service \(q) status 2>&1)
              echo "status=$?"
              en=no; for f in \(sysvBootLinks); do [ -e "$f" ] && en=yes; done
              echo "enabled=$en"
            \(freshness?.probe(.sysv, service: service) ?? ":")
              echo --output--
              printf '%s\\n' "$out"
            fi
            """
    }

    func parseProbe(_ result: CommandResult) throws -> Status {
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields: [String: String] = [:]
        var output: [String] = []
        var inOutput = false
        for line in lines {
            if inOutput {
                output.append(line)
                continue
            }
            if line == "--output--" {
                inOutput = true
                continue
            }
            if let eq = line.firstIndex(of: "=") { fields[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
        }
        let text = output.joined(separator: "\n").trimmingTrailingWhitespace()
        guard let managerWord = fields["manager"], let manager = Manager(rawValue: managerWord) else {
            throw StepFailure(
                "cannot read the state of service \(service) (exit \(result.status))",
                detail: (result.stderrText + result.stdoutText).trimmingTrailingWhitespace())
        }
        let load = fields["load"] ?? ""
        if manager == .sysv, load != "loaded" {
            throw StepFailure("no init script /etc/init.d/\(service) on this host")
        }
        if manager == .systemd, load != "loaded", load != "masked" {
            throw StepFailure(
                load == "not-found"
                    ? "no systemd unit \(service) on this host"
                    : "systemd unit \(service) cannot be loaded (LoadState=\(load))")
        }
        var status: Status
        switch manager {
        case .systemd:
            let active = fields["active"] ?? ""
            let enabledWord = fields["enabled"] ?? ""
            status = Status(
                manager: .systemd, running: ["active", "activating", "reloading"].contains(active),
                enabled: ["enabled", "enabled-runtime", "static", "alias", "indirect", "generated"].contains(enabledWord),
                enabledState: enabledWord, output: active)
        case .sysv:
            // LSB: 0 running; 1 dead with a pid file; 2 dead with a lock file; 3 not running; 4 unknown.
            guard let code = fields["status"].flatMap({ Int($0) }), (0...3).contains(code) else {
                throw StepFailure(
                    "`service \(service) status` could not tell whether it runs (exit \(fields["status"] ?? "?"))",
                    detail: text)
            }
            status = Status(
                manager: .sysv, running: code == 0, enabled: fields["enabled"] == "yes",
                enabledState: fields["enabled"] ?? "no", output: text)
        }
        if let freshness, status.running {
            status.freshness = try freshness.reading(fields, service: service, manager: manager)
        }
        return status
    }

    /// What would be done: boot enablement first, then the state action.
    struct Plan: Equatable {
        var enable: Bool?
        var action: String?
        var runningAfter: Bool?
    }

    func plan(for status: Status) throws -> Plan {
        var plan = Plan()
        if let enabled, enabled != status.enabled {
            if status.manager == .systemd, status.enabledState == "masked" {
                throw StepFailure("service \(service) is masked; unmask it before enabling or disabling it")
            }
            if status.manager == .systemd, !enabled, status.enabledState == "static" {
                // A static unit has no [Install] section: nothing to disable.
            } else {
                plan.enable = enabled
            }
        }
        switch state {
        case .started where !status.running:
            plan.action = "start"
            plan.runningAfter = true
        case .started where status.freshness?.isStale == true:
            plan.action = "restart"
            plan.runningAfter = true
        case .stopped where status.running:
            plan.action = "stop"
            plan.runningAfter = false
        case .restarted:
            plan.action = status.running ? "restart" : "start"
            plan.runningAfter = true
        case .reloaded:
            plan.action = status.running ? "reload" : "start"
            plan.runningAfter = true
        default: break
        }
        return plan
    }

    func changeScript(_ plan: Plan, manager: Manager) -> String {
        let q = quoted
        var script: [String] = []
        if let enable = plan.enable {
            switch manager {
            case .systemd:
                script.append("systemctl \(enable ? "enable" : "disable") \(q) 2>&1 || exit $?")
            case .sysv:
                script.append(
                    enable
                        ? "update-rc.d \(q) defaults 2>&1 && update-rc.d \(q) enable 2>&1 || exit $?"
                        : "update-rc.d \(q) disable 2>&1 || exit $?")
            }
        }
        if let action = plan.action, let runningAfter = plan.runningAfter {
            let isRunning = manager == .systemd ? "systemctl is-active --quiet \(q)" : "service \(q) status >/dev/null 2>&1"
            let showStatus = manager == .systemd ? "systemctl status --no-pager -n 20 \(q) 2>&1" : "service \(q) status 2>&1"
            script.append(Self.serialized(manager == .systemd ? "systemctl \(action) \(q)" : "service \(q) \(action)", service: service))
            // SysV scripts start daemons in the background (start-stop-daemon --background): give the state a
            // moment (bounded, 10 s) to settle before calling the action a failure.
            script.append("i=0; while [ $i -lt 50 ]; do if \(runningAfter ? "" : "! ")\(isRunning); then exit 0; fi; sleep 0.2; i=$((i + 1)); done")
            script.append("echo \(ServiceStep.notInState)")
            script.append(showStatus)
            script.append("exit 3")
        }
        return script.joined(separator: "\n")
    }

    static let notInState = "__quorum_service_not_in_state__"

    /// How long an action waits for another one on the same service (seconds) before failing.
    static let lockWait = 120
    /// flock's exit status when that wait ran out.
    static let lockTimeoutStatus = 75

    /// `command` (a start, stop or restart of `service`) run while holding the host's lock for that service, so two
    /// actions never interleave: a restart abandoned by an interrupted run may still be running on the host when the
    /// next run restarts the service, and two SysV restarts at once can both start a daemon (each one's
    /// `start-stop-daemon --test` passing before the other wrote the pid file), leaving one with no pid file that
    /// `service stop` never stops. `flock -o`: the daemon the command starts does not inherit the lock. Without
    /// flock or /run/lock on the host, the command runs as it is.
    static func serialized(_ command: String, service: String) -> String {
        let lock = Shell.quote("/run/lock/quorum-service.\(service)")
        return """
            if command -v flock >/dev/null 2>&1 && [ -d /run/lock ]; then
              flock -w \(lockWait) -E \(lockTimeoutStatus) -o \(lock) \(command) 2>&1; s=$?
              if [ $s -eq \(lockTimeoutStatus) ]; then echo "another start, stop or restart of \(service) held /run/lock/quorum-service.\(service) for \(lockWait) s"; fi
              [ $s -eq 0 ] || exit $s
            else
              \(command) 2>&1 || exit $?
            fi
            """
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        var status = try parseProbe(try await context.remote.probe(probeScript))
        if let freshness, let reading = status.freshness { status.freshness = freshness.predicting(reading, context) }
        let plan = try plan(for: status)
        let result: [(String, Value)] = [
            ("manager", .string(status.manager.rawValue)),
            ("status", .string((plan.runningAfter ?? status.running) ? "running" : "stopped")),
            ("enabled", .bool(plan.enable ?? status.enabled))
        ]
        guard plan.enable != nil || plan.action != nil else {
            return StepOutcome(changed: false, result: .init(result, uniquingKeysWith: { a, _ in a }))
        }
        var diffs: [Diff] = []
        var done: [String] = []
        if let enable = plan.enable {
            diffs.append(Diff(subject: "service \(service) enabled", before: String(status.enabled), after: String(enable)))
            done.append(enable ? "enabled" : "disabled")
        }
        // The restart of a process older than its files says which file and when, in the diff too (a looped
        // step's report keeps the diffs, not the message).
        let stale = plan.action == "restart" ? status.freshness.flatMap { $0.isStale ? $0 : nil } : nil
        if let action = plan.action {
            let after = action == "restart" || action == "reload" ? action + "ed" : (plan.runningAfter == true ? "running" : "stopped")
            diffs.append(
                stale?.diff(service)
                    ?? Diff(subject: "service \(service)", before: status.running ? "running" : "stopped", after: after))
            done.append(["start": "started", "stop": "stopped", "restart": "restarted", "reload": "reloaded"][action] ?? action)
        }
        var message = done
        if let stale { message[message.count - 1] = stale.reason(service) + (context.check ? ": would restart" : ": restarted") }
        if !context.check {
            let script = changeScript(plan, manager: status.manager)
            let attempted = done.joined(separator: " and ")
            if let drainMap = drain, plan.action == "restart" || plan.action == "reload" {
                let drain = try HAProxyDrain(drainMap, host: context.host, location: context.location)
                try await drain.around(context) { try await self.change(script, plan, done: attempted, context) }
                message.append("drained in \(drain.backend)")
            } else {
                try await change(script, plan, done: attempted, context)
            }
        }
        return StepOutcome(
            changed: true, diffs: diffs, message: message.joined(separator: ", "),
            result: .init(result, uniquingKeysWith: { a, _ in a }))
    }

    /// Runs the change script; throws when it failed or the service is not in the wanted state afterwards.
    /// `done` says what was attempted ("enabled and restarted"), for the error.
    func change(_ script: String, _ plan: Plan, done: String, _ context: StepContext) async throws {
        let outcome = try await context.remote.change(script)
        let output = outcome.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        if output.contains(Substring(ServiceStep.notInState)) {
            let detail = output.filter { $0 != Substring(ServiceStep.notInState) }.joined(separator: "\n").trimmingTrailingWhitespace()
            throw StepFailure(
                "service \(service): `\(plan.action ?? "")` succeeded but it is "
                    + (plan.runningAfter == true ? "not running" : "still running") + " afterwards",
                detail: detail.isEmpty ? nil : detail)
        }
        guard outcome.succeeded else {
            throw StepFailure(
                "service \(service): \(done) failed (exit \(outcome.status))",
                detail: (outcome.stdoutText + outcome.stderrText).trimmingTrailingWhitespace())
        }
    }
}

extension String {
    /// The string without trailing newlines and spaces.
    func trimmingTrailingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
