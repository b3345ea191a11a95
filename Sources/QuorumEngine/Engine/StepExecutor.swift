import OrderedCollections
import QuorumCore

/// What running one step on one host produced, for the play runner to fold into the host's state.
struct StepExecution: Sendable {
    var report: StepReport
    /// The value `register:` stores.
    var registered: Value
    /// True when the host must stop (a failure not ignored).
    var hostFailed: Bool
    var unreachable: Bool
}

/// Runs one step on one host: `when`, `loop`, argument rendering with the play's `defaults`, the step
/// kind itself, `retries`/`until`, `changed_when`/`failed_when`, and the redacted report.
struct StepExecutor: Sendable {
    let catalog: [String: any StepKind.Type]
    let templates: TemplateRenderer
    let redactor: SecretRedactor
    let check: Bool
    let diff: Bool
    let planned: PlannedObjects
    let cache: RunCache
    /// Variables the playbooks declare secret (`secrets:`); a step registering one of them has secret output.
    var secretNames: Set<String> = []

    struct Target: Sendable {
        var host: String
        var play: Play
        var files: FileResolver
        var remote: any Remote
        var variables: Variables
        var isHandler: Bool
        var runOnce: Bool
        var playHosts: [String]
        var peer: @Sendable (String) async throws -> any Remote
    }

    func execute(_ step: Step, on target: Target) async -> StepExecution {
        let clock = ContinuousClock()
        let start = clock.now
        var report = StepReport(
            host: target.host, play: target.play.name, step: displayName(step, target.variables), kind: step.kind,
            outcome: .ok, duration: 0, diffs: [], message: nil, error: nil, location: step.location.description,
            isHandler: target.isHandler, runOnce: target.runOnce, ignored: false, items: nil, skipReason: nil)
        var registered: OrderedDictionary<String, Value> = [:]
        var hostFailed = false
        var unreachable = false

        do {
            if let reason = try skipReason(step, target.variables) {
                report.outcome = .skipped
                report.skipReason = reason
                registered["skipped"] = .bool(true)
                registered["changed"] = .bool(false)
            } else if let loop = step.loop {
                let items = try loopItems(loop, target.variables)
                report.items = items.count
                var results: [Value] = []
                var anyChanged = false
                var allSkipped = !items.isEmpty
                for item in items {
                    var variables = target.variables
                    variables[MagicVariable.item.rawValue] = item
                    let single = try await runOnce(step, target: target, variables: variables)
                    results.append(.map(single.registered))
                    report.diffs += single.diffs
                    report.findings += single.findings
                    report.unchecked = report.unchecked ?? single.unchecked
                    anyChanged = anyChanged || single.changed
                    allSkipped = allSkipped && single.skipped != nil
                    if let failure = single.failure {
                        throw failure
                    }
                }
                report.outcome = allSkipped ? .skipped : (anyChanged ? .changed : .ok)
                if items.isEmpty {
                    report.outcome = .skipped
                    report.skipReason = "the loop has no items"
                }
                registered = ["changed": .bool(anyChanged), "results": .list(results)]
            } else {
                let single = try await runOnce(step, target: target, variables: target.variables)
                registered = single.registered
                report.diffs = single.diffs
                report.findings = single.findings
                report.unchecked = single.unchecked
                report.message = single.message
                if let failure = single.failure { throw failure }
                if let reason = single.skipped {
                    report.outcome = .skipped
                    report.skipReason = reason
                } else {
                    report.outcome = single.changed ? .changed : .ok
                }
            }
        } catch let error as RemoteError where error.kind == .unreachable {
            report.outcome = .unreachable
            report.error = error.message
            unreachable = true
        } catch {
            report.outcome = .failed
            report.error = describe(error)
            report.unhealthy = (error as? StepFailure)?.health == true
            registered["failed"] = .bool(true)
            registered["msg"] = .string(report.error ?? "")
            // An audit reports the state now: a service found not working does not stop the host's other probes.
            if step.ignoreErrors { report.ignored = true } else if !(check && report.unhealthy) { hostFailed = true }
        }

        report.duration = (clock.now - start).seconds
        if registered["changed"] == nil { registered["changed"] = .bool(report.outcome == .changed) }
        if registered["failed"] == nil { registered["failed"] = .bool(report.outcome == .failed) }
        registerSecretOutput(registered, of: step)
        return StepExecution(
            report: redact(report, noLog: step.noLog), registered: .map(registered),
            hostFailed: hostFailed, unreachable: unreachable)
    }

    /// One execution of the kind (one loop item), with retries, `until`, `changed_when`, `failed_when`.
    struct Single {
        var changed: Bool
        var skipped: String?
        var diffs: [Diff]
        var message: String?
        var registered: OrderedDictionary<String, Value>
        var failure: (any Error)?
        var findings: [Finding] = []
        var unchecked: String?
    }

    func runOnce(_ step: Step, target: Target, variables: Variables) async throws -> Single {
        guard let kind = catalog[step.kind] else { throw StepFailure("unknown step kind `\(step.kind)`") }
        let instance = try instantiate(kind, step, play: target.play, variables: variables)
        let context = StepContext(
            remote: target.remote, host: target.host, check: check, wantsDiff: diff,
            variables: variables, templates: templates, files: target.files, location: step.location,
            planned: planned, cache: cache, playHosts: target.playHosts, peer: target.peer)

        // A health check retries (in apply) until it passes when `retries` comes without `until`; check mode
        // runs it once: an audit reports the service as it is now.
        let retriesUntilPass = kind.isHealthCheck && step.until == nil && step.retries != nil
        let waits = (step.until != nil || retriesUntilPass) && !(check && kind.isHealthCheck)
        let attempts = (waits ? (step.retries ?? 3) : 0) + 1
        var single = Single(changed: false, skipped: nil, diffs: [], message: nil, registered: [:], failure: nil)
        for attempt in 1...attempts {
            single = await attemptOnce(instance, context: context)
            var scope = variables
            if let name = step.register { scope[name] = .map(single.registered) }

            if let failedWhen = step.failedWhen {
                let failed = try all(failedWhen, scope)
                if failed {
                    single.failure = single.failure ?? StepFailure("`failed_when` condition is true", health: kind.isHealthCheck)
                } else if single.failure is StepFailure {
                    single.failure = nil
                }
            }
            if let changedWhen = step.changedWhen, single.failure == nil {
                single.changed = try all(changedWhen, scope)
            }
            single.registered["changed"] = .bool(single.changed)
            single.registered["failed"] = .bool(single.failure != nil)
            if single.skipped != nil { single.registered["skipped"] = .bool(true) }

            if let until = step.until {
                if single.failure == nil || step.failedWhen != nil, try all(until, scope) { break }
            } else if single.failure == nil {
                break
            }
            if let failure = single.failure as? RemoteError, failure.kind == .unreachable { break }
            if attempt == attempts {
                if step.until != nil {
                    single.failure =
                        single.failure
                        ?? StepFailure("`until` condition still false after \(attempts) attempts", health: kind.isHealthCheck)
                }
                break
            }
            try await Task.sleep(for: .milliseconds(Int((step.delay ?? 5) * 1000)))
        }
        return single
    }

    func attemptOnce(_ instance: any StepKind, context: StepContext) async -> Single {
        do {
            let outcome = try await instance.run(context)
            var registered = outcome.result
            if let message = outcome.message { registered["msg"] = .string(message) }
            return Single(
                changed: outcome.changed, skipped: outcome.skippedReason, diffs: outcome.diffs,
                message: outcome.message, registered: registered, failure: nil,
                findings: outcome.findings, unchecked: outcome.unchecked)
        } catch let failure as StepFailure {
            var registered = failure.result
            registered["msg"] = .string(failure.description)
            // A command that ran and failed did run: `failed_when: false` turns it into a change (a health
            // check changes nothing, whatever it found).
            return Single(
                changed: !failure.result.isEmpty && !failure.health, skipped: nil, diffs: [], message: nil,
                registered: registered, failure: failure)
        } catch {
            return Single(
                changed: false, skipped: nil, diffs: [], message: nil,
                registered: ["msg": .string(describe(error))], failure: error)
        }
    }

    // MARK: helpers

    func skipReason(_ step: Step, _ variables: Variables) throws -> String? {
        for condition in step.when where !(try templates.evaluate(condition.value, at: condition.location, variables: variables)) {
            return "condition false: \(condition.value)"
        }
        return nil
    }

    func all(_ conditions: [Located<String>], _ variables: Variables) throws -> Bool {
        for condition in conditions where !(try templates.evaluate(condition.value, at: condition.location, variables: variables)) {
            return false
        }
        return true
    }

    func loopItems(_ loop: Located<Value>, _ variables: Variables) throws -> [Value] {
        let rendered = try templates.renderValue(loop.value, at: loop.location, variables: variables)
        switch rendered {
        case .list(let items): return items
        case .null: return []
        default:
            throw StepFailure("`loop` must give a list, it gave a \(rendered.typeName) (\(loop.location))")
        }
    }

    func displayName(_ step: Step, _ variables: Variables) -> String {
        guard let name = step.name else { return step.kind }
        guard TemplateRenderer.isTemplate(name) else { return name }
        return (try? templates.render(name, at: step.location, variables: variables)) ?? name
    }

    /// When a step registers a secret variable (secret by its name, or listed under `secrets:`), what its
    /// command printed (`stdout`, `stderr`, and each of their lines, also per loop item) is a secret.
    func registerSecretOutput(_ registered: OrderedDictionary<String, Value>, of step: Step) {
        guard let name = step.register, SecretRedactor.isSecretName(name) || secretNames.contains(name) else { return }
        let outputs = [registered] + (registered["results"]?.listValue?.compactMap(\.mapValue) ?? [])
        for output in outputs {
            for key in ["stdout", "stderr", "stdout_lines", "stderr_lines"] {
                if let value = output[key] { redactor.register(contentsOf: VaultFiles.secretTexts(in: value)) }
            }
        }
    }

    /// The kind built from the step's arguments (with the play's `defaults:`) rendered for one host, checked
    /// by the schema as at load time: the kind reads arguments already in normal form. `registeringSecrets` false
    /// leaves the redactor alone (a look ahead, with variables a later step may still change).
    func instantiate(
        _ kind: any StepKind.Type, _ step: Step, play: Play, variables: Variables, registeringSecrets: Bool = true
    ) throws -> any StepKind {
        let (arguments, fromDefaults) = play.arguments(of: step, kind: kind)
        let rendered = try templates.renderValue(arguments, at: step.location, variables: variables)
        if registeringSecrets, let map = rendered.mapValue {
            registerSecretArguments(map, schema: kind.schema)
        } else if registeringSecrets, let freeForm = kind.schema.freeForm, !rendered.isNull {
            registerSecretArguments([freeForm: rendered], schema: kind.schema)
        }
        return try kind.init(
            checked: kind.schema.arguments(
                rendered: rendered, kind: kind.name, fromDefaults: fromDefaults,
                location: step.location))
    }

    /// Arguments the schema marks secret are masked wherever they would be printed.
    func registerSecretArguments(_ values: OrderedDictionary<String, Value>, schema: ArgSchema) {
        for field in schema.fields {
            guard let value = values[field.name] else { continue }
            if field.secret, let text = value.scalarText { redactor.register(text) }
            if case .object(let inner) = field.type, let map = value.mapValue { registerSecretArguments(map, schema: inner) }
        }
    }

    func describe(_ error: any Error) -> String {
        switch error {
        case let failure as StepFailure: return failure.description
        case let failure as TemplateError: return failure.description
        case let failure as RemoteError: return failure.message
        default: return String(describing: error)
        }
    }

    func redact(_ report: StepReport, noLog: Bool) -> StepReport {
        var report = report
        if noLog {
            report.diffs = []
            report.message = report.message == nil ? nil : "(output hidden by no_log)"
            report.error = report.error == nil ? nil : "(error hidden by no_log: the step failed)"
            report.findings = report.findings.map { finding in
                var finding = finding
                finding.message = "(hidden by no_log)"
                return finding
            }
            return report
        }
        report.step = redactor.redact(report.step)
        report.message = redactor.redact(report.message)
        report.error = redactor.redact(report.error)
        report.diffs = report.diffs.map { diff in
            var diff = diff
            // An option whose value holds a secret (a URL with a password, a declared secret inside a longer
            // text) is a secret option: its old value may hold the previous secret, which no one registered.
            if !diff.isFile, [diff.before, diff.after].contains(where: { $0.map(redactor.containsSecret) ?? false }) {
                diff.secret = true
            }
            if diff.secret {
                diff.before = diff.before == nil ? nil : SecretRedactor.mask
                diff.after = diff.after == nil ? nil : SecretRedactor.mask
            } else if diff.isFile {
                (diff.before, diff.after) = redactor.redact(fileBefore: diff.before, after: diff.after)
            } else {
                diff.before = redactor.redact(diff.before)
                diff.after = redactor.redact(diff.after)
            }
            diff.subject = redactor.redact(diff.subject)
            return diff
        }
        report.findings = report.findings.map { finding in
            var finding = finding
            finding.file = redactor.redact(finding.file)
            finding.subject = redactor.redact(finding.subject)
            finding.message = redactor.redact(finding.message)
            return finding
        }
        return report
    }
}
