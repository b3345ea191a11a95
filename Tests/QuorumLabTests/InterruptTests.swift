import Foundation
import QuorumTesting
import Testing

/// SIGINT during a Magnum apply that toggles HAProxy through Pacemaker (issue 14): whenever it comes, p_haproxy
/// is enabled and haproxy runs on all three controllers within 60 s of the exit, the recap says interrupted,
/// and the next apply converges. And a p_haproxy disabled by hand is drift that audit finds and apply repairs.
enum LabInterrupt {
    /// A `quorum apply` running in the background, its output in files.
    struct Running {
        let process: Process
        let stdout: String
        let stderr: String
        let json: String
        let started = Date()

        /// A console line matching the regular expression.
        func hasLine(_ pattern: String) -> Bool {
            output.split(separator: "\n").contains { $0.range(of: pattern, options: .regularExpression) != nil }
        }

        var output: String { (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }

        func interrupt() { kill(process.processIdentifier, SIGINT) }

        /// Waits (at most `seconds`) for the run to end; its exit status, or nil when it did not end (then killed).
        func end(within seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }
    }

    static func start(_ arguments: [String]) throws -> Running {
        let base = NSTemporaryDirectory() + "quorum-interrupt-\(UUID().uuidString.prefix(8))"
        let running = Running(process: Process(), stdout: base + ".out", stderr: base + ".err", json: base + ".json")
        for path in [running.stdout, running.stderr] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        running.process.executableURL = URL(fileURLWithPath: PackageRoot.quorumBinary)
        running.process.arguments = arguments + ["--json", running.json]
        running.process.environment = QuorumCLI.inheritedEnvironment
        running.process.standardOutput = FileHandle(forWritingAtPath: running.stdout)
        running.process.standardError = FileHandle(forWritingAtPath: running.stderr)
        running.process.standardInput = FileHandle.nullDevice
        try running.process.run()
        return running
    }

    /// p_haproxy's target role is Stopped (crm_mon's view from ctl1).
    static func pHAProxyDisabled() throws -> Bool {
        let xml = try Lab.output("ctl1", "crm_mon -1 --output-as=xml")
        return xml.split(separator: "\n").contains { $0.contains("p_haproxy") && $0.contains(#"target_role="Stopped""#) }
    }

    static func haproxyRunningOn() throws -> [String] {
        try Lab.controllers.filter { try HA.haproxyPid($0) != nil }
    }

    /// When to send SIGINT, seen from outside while the run goes on: ten moments from the connection to the final
    /// check, five of them inside the HAProxy toggle or the rolling restart.
    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        case whileConnecting, beforeToggle, afterMagnumConfWritten, afterStanzaWritten, duringDisable, duringWait,
            duringEnable, duringRollingRestart, duringSecondRestart, duringFinalCheck

        var testDescription: String { rawValue }

        /// The moments that need magnum.conf to be written again (so that the run restarts Magnum in a roll).
        var needsReRender: Bool {
            [.afterMagnumConfWritten, .duringRollingRestart, .duringSecondRestart].contains(self)
        }

        /// True once the moment has come (polled every 0.1 s or so).
        func hasCome(_ run: Running) throws -> Bool {
            switch self {
            case .whileConnecting:
                // Half a second in: the run is connecting or in its preflight, nothing written yet.
                return Date().timeIntervalSince(run.started) >= 0.5
            case .beforeToggle:
                return run.output.contains("PLAY Magnum's configuration")
            case .afterMagnumConfWritten:
                return run.hasLine(#"changed\s+ctl1\s+magnum\.conf\s+[0-9.]+s$"#)
            case .afterStanzaWritten:
                // The stanza is new on a controller; its handler (the toggle) has not run or is starting.
                return run.hasLine(#"changed\s+ctl[123]\s+HAProxy stanza\s+[0-9.]+s$"#)
            case .duringDisable:
                return try pHAProxyDisabled()
            case .duringWait:
                return try pHAProxyDisabled() && haproxyRunningOn().count < 3
            case .duringEnable:
                // The toggle has not finished and the resource is being enabled again: `pcs resource enable` runs, or
                // it ran and haproxy is not yet back everywhere. (Either alone: on a quiet machine the two overlap for
                // less than one poll of this loop.)
                // ([p]: the pattern must not match the shell that runs pgrep.)
                guard run.output.contains("HAProxy stanza"), !run.output.contains("restart haproxy through Pacemaker") else { return false }
                if try Lab.exec("ctl1", "pgrep -f '[p]cs resource enable'").status == 0 { return true }
                return try !pHAProxyDisabled() && haproxyRunningOn().count < 3
            case .duringRollingRestart, .duringSecondRestart:
                // That controller restarted (and its API is awaited), the ones after it not yet.
                let host = self == .duringRollingRestart ? "ctl1" : "ctl2"
                return run.output.contains("PLAY Rolling restart")
                    && run.hasLine(#"changed\s+\#(host)\s+\#(NSRegularExpression.escapedPattern(for: LabTests.magnumRestartStep))"#)
            case .duringFinalCheck:
                return run.output.contains("PLAY Final check")
            }
        }
    }

    /// The Magnum lab applied, then the stanza removed on every controller so that the next apply writes it again
    /// and its handler toggles p_haproxy; with `reRender`, magnum.conf is also edited by hand on every controller,
    /// so that the apply writes it again and restarts Magnum in a roll.
    static func readyForAToggle(reRender: Bool = false) throws {
        try LabTests.ensureMagnumApplied()
        for host in Lab.controllers {
            _ = try Lab.output(host, "rm -f \(HA.stanza)")
            if reRender { _ = try Lab.output(host, "sed -i 's/^memcached_servers = .*/memcached_servers = 127.0.0.1:11211/' /etc/magnum/magnum.conf") }
        }
    }

    /// p_haproxy enabled and haproxy running on all three controllers, within 60 s.
    static func expectHAProxyBack(_ context: String) throws {
        do {
            try HA.waitUntil("p_haproxy enabled and haproxy running on ctl1, ctl2, ctl3", seconds: 60) {
                try !pHAProxyDisabled() && haproxyRunningOn() == Lab.controllers
            }
        } catch {
            Issue.record("\(context): \(error)")
            try HA.resetHAProxy()
        }
    }
}

extension LabTests {
    @Test(
        "SIGINT at any moment of a Magnum apply that toggles HAProxy: HAProxy back within 60 s, recap interrupted, next apply converges",
        arguments: LabInterrupt.Moment.allCases)
    func interruptAtAnyMomentLeavesHAProxyUp(moment: LabInterrupt.Moment) throws {
        try LabInterrupt.readyForAToggle(reRender: moment.needsReRender)
        let run = try LabInterrupt.start(["apply", Self.magnumPlaybook, "-i", Lab.inventory])
        let deadline = Date().addingTimeInterval(180)
        var came = false
        while run.process.isRunning && Date() < deadline {
            if try moment.hasCome(run) {
                came = true
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(came, "\(moment): the moment never came before the run ended:\n\(run.output)")
        run.interrupt()
        let status = run.end(within: 120)
        #expect(status == 130, "\(moment): exit \(String(describing: status))\n\(run.output)\n\(run.errors)")
        #expect(run.output.contains("RECAP — interrupted (SIGINT)"), "\(moment):\n\(run.output)")
        let report = try RunReport(Data(contentsOf: URL(fileURLWithPath: run.json)))
        #expect(report.raw.contains(#""interrupted" : true"#), "\(moment): \(report.raw.prefix(400))")
        try LabInterrupt.expectHAProxyBack("\(moment)")
        // A restart interrupted while its API server was drained put the server back before the exit.
        try LabAvailability.expectEveryServerReady("\(moment)")

        // The toggle is owed when a stanza is still missing (the next apply writes it) or one was written and its
        // toggle is recorded as pending; then the next apply toggles exactly once, else not at all.
        let owed = try Lab.controllers.contains { host in
            try Lab.exec(host, "test -e \(HA.stanza)").status != 0
                || Lab.exec(host, "grep -q 'restart haproxy through Pacemaker' \(LabPreflight.pending)").status == 0
        }
        // The next apply finishes the job (the stanza may still be missing or the restart pending).
        let next = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(next.status == 0, "\(moment): the next apply did not converge:\n\(next.all)")
        let toggles = next.report?.results.filter { $0.isHandler && $0.step.contains("through Pacemaker") && $0.outcome == "changed" } ?? []
        #expect(
            toggles.count == (owed ? 1 : 0), "\(moment): the toggle was \(owed ? "" : "not ")owed, the next apply ran it \(toggles.count) times:\n\(next.all)")
        let again = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(again.status == 0 && (again.report?.results.contains { $0.isHandler } == false), "\(moment): not converged:\n\(again.all)")
        #expect(try LabInterrupt.haproxyRunningOn() == Lab.controllers)
        // An interrupted roll is finished by the next apply: no controller runs a configuration older than its file.
        for host in Lab.controllers {
            for service in ["magnum-api", "magnum-conductor"] {
                let margin = try LabMagnum.startedAfterWrite(host, service)
                #expect(margin > 0, "\(moment): \(service) on \(host) started \(-margin) s before magnum.conf was written")
            }
        }
    }

    @Test("a second SIGINT during the toggle exits at once and says how to enable p_haproxy")
    func secondInterruptNamesTheCommand() throws {
        try LabInterrupt.readyForAToggle()
        let run = try LabInterrupt.start(["apply", Self.magnumPlaybook, "-i", Lab.inventory])
        try HA.waitUntil("p_haproxy disabled by the toggle", seconds: 180) { try LabInterrupt.pHAProxyDisabled() || !run.process.isRunning }
        run.interrupt()
        Thread.sleep(forTimeInterval: 0.2)
        run.interrupt()
        let status = run.end(within: 5)
        #expect(status == 130)
        #expect(run.errors.contains("p_haproxy may be left disabled: run `pcs resource enable p_haproxy`"), "\(run.errors)")
        // Put it right as the message says.
        _ = try Lab.output("ctl1", "pcs resource enable p_haproxy")
        try LabInterrupt.expectHAProxyBack("after a second SIGINT and the advised command")
    }

    @Test("p_haproxy disabled by hand: audit finds it as drift, apply enables it and haproxy runs everywhere again")
    func disabledHAProxyIsDriftThatApplyRepairs() throws {
        try Self.ensureMagnumApplied()
        _ = try Lab.output("ctl1", "pcs resource disable p_haproxy --wait=60")
        defer { _ = try? Lab.exec("ctl1", "pcs resource enable p_haproxy") }
        try HA.waitUntil("haproxy gone", seconds: 60) { try LabInterrupt.haproxyRunningOn().isEmpty }

        let audit = try LabAudit.audit()
        #expect(audit.status == 4, "audit must report the disabled resource as drift:\n\(audit.stdout)\n\(audit.stderr)")
        let check = try QuorumCLI.apply(Self.magnumPlaybook, ["--check"])
        let declared = try #require(
            check.report?.results.first { $0.kind == "pcs_resource" && !$0.isHandler },
            "magnum-ha.yml declares no p_haproxy state (pcs_resource with state: started)")
        #expect(declared.outcome == "changed" && declared.message?.contains("would enable p_haproxy") == true, "\(declared)")
        #expect(try LabInterrupt.pHAProxyDisabled(), "check mode enabled p_haproxy")

        let repair = try QuorumCLI.apply(Self.magnumPlaybook)
        #expect(repair.status == 0, "apply did not repair:\n\(repair.all)")
        #expect(repair.report?.results.contains { $0.kind == "pcs_resource" && !$0.isHandler && $0.outcome == "changed" } == true)
        #expect(try !LabInterrupt.pHAProxyDisabled() && LabInterrupt.haproxyRunningOn() == Lab.controllers)
        let after = try LabAudit.audit()
        #expect(after.status == 0, "audit after the repair:\n\(after.stdout)")
    }
}
