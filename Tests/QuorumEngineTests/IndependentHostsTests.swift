import Foundation
import QuorumCore
import QuorumSteps
import QuorumTesting
import Synchronization
import Testing

@testable import QuorumEngine

/// A step that reaches the other hosts of the play (`usesPeers`): it runs `peer` on its own host.
private struct PeerStep: StepKind {
    static let name = "peer_step"
    static let summary = "test: a step that declares it reaches other hosts"
    static let schema = ArgSchema([])
    static func usesPeers(_ arguments: Value) -> Bool { true }
    init(checked arguments: Arguments) throws {}

    func run(_ context: StepContext) async throws -> StepOutcome {
        _ = try await context.remote.change("peer", stdin: [], timeout: nil)
        return StepOutcome(changed: true)
    }
}

/// Hosts go through the steps that need no other host at their own pace (issue 18, point 4): a fast host does
/// not wait for a slow one, and the reports, recap and JSON stay those of the step-by-step run.
@Suite struct IndependentHostsTests {
    /// What the hosts did, in the order it happened: "c1 start one", "c1 end one" for each command.
    final class Timeline: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        func index(_ entry: String) -> Int? { entries.withLock { $0.firstIndex(of: entry) } }
        func contains(_ entry: String) -> Bool { index(entry) != nil }

        /// Waits until `entries` are all there: bounded, so a run that never gets there fails instead of hanging.
        func wait(for entries: [String]) async {
            for _ in 0..<6000 {
                if entries.allSatisfy(contains) { return }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }

        /// True when `first` happened before `then`, both having happened.
        func order(_ first: String, before then: String) -> Bool {
            guard let a = index(first), let b = index(then) else { return false }
            return a < b
        }
    }

    /// Step results as the observer got them: "step host".
    final class Finished: RunObserver {
        let order = Mutex<[String]>([])
        func playStarted(name: String, hosts: [String], check: Bool) {}
        func stepFinished(_ report: StepReport) { order.withLock { $0.append("\(report.step) \(report.host)") } }
        func hostUnreachable(host: String, play: String, reason: String) {}
        func playStopped(name: String, reason: String) {}
        func runFinished(_ summary: RunSummary) {}
    }

    /// In-memory hosts whose commands go to the timeline (started before the harness's `BLOCK` waits, ended once
    /// answered); `delay` (keyed "host script") runs first, to hold one host back.
    struct Connector: HostConnector {
        let journal: EngineHarness.Journal
        let timeline: Timeline
        let delay: [String: @Sendable (Timeline) async -> Void]

        func connect(host: String, variables: Variables) async throws -> any HostSession {
            let remote = EngineHarness.memoryHost(host, journal: journal)
            let (observe, answer) = (remote.observer, remote.commandHandler)
            let (timeline, delay) = (timeline, delay)
            remote.observer = { event in
                switch event {
                case .probe(let script, _), .change(let script, _):
                    timeline.add("\(host) start \(script)")
                    await delay["\(host) \(script)"]?(timeline)
                case .read, .batch, .write: break
                }
                try await observe(event)
            }
            remote.commandHandler = { script, stdin in
                let result = try await answer(script, stdin)
                timeline.add("\(host) end \(script)")
                return result
            }
            return EngineHarness.Session(remote: remote)
        }
    }

    let journal = EngineHarness.Journal()
    let timeline = Timeline()
    let finished = Finished()

    /// Runs `playbook` on c1..c3, `PeerStep` in the catalog.
    func run(
        _ playbook: String, forks: Int? = nil, check: Bool = false, interruption: RunInterruption = RunInterruption(),
        delay: [String: @Sendable (Timeline) async -> Void] = [:]
    ) async throws -> RunSummary {
        try await engine(playbook, forks: forks, check: check, interruption: interruption, delay: delay).run()
    }

    func engine(
        _ playbook: String, forks: Int? = nil, check: Bool = false, interruption: RunInterruption = RunInterruption(),
        delay: [String: @Sendable (Timeline) async -> Void] = [:]
    ) throws -> Engine {
        var catalog = StepCatalog.byName
        catalog[PeerStep.name] = PeerStep.self
        var options = RunOptions()
        options.forks = forks
        options.check = check
        return try EngineHarness.engine(
            playbook: playbook, catalog: catalog, options: options,
            connector: Connector(journal: journal, timeline: timeline, delay: delay), observer: finished, interruption: interruption)
    }

    /// Runs `playbook` and asks it to stop (grace 0.1 s) once the timeline holds every one of `started`.
    func run(
        _ playbook: String, stoppingOnce started: [String], delay: [String: @Sendable (Timeline) async -> Void] = [:]
    ) async throws -> RunSummary {
        let interruption = RunInterruption(grace: .milliseconds(100))
        let stop = Task { [timeline] in
            await timeline.wait(for: started)
            interruption.requestStop("SIGINT")
        }
        defer { stop.cancel() }
        return try await run(playbook, interruption: interruption, delay: delay)
    }

    /// c1's first step answers only once c2 and c3 have started the second one: a run that kept every host at
    /// the first step until c1 is done cannot get there (the wait is bounded, and the order then says so).
    static let waitForOthers: [String: @Sendable (Timeline) async -> Void] = [
        "c1 echo one": { await $0.wait(for: ["c2 start echo two", "c3 start echo two"]) }
    ]

    /// A play of three commands, steps `one`, `two` and `three`.
    static func commands(one: String = "echo one", two: String = "echo two") -> String {
        """
        - hosts: controllers
          steps:
            - {name: one, command: "\(one)"}
            - {name: two, command: "\(two)"}
            - {name: three, command: "echo three"}
        """
    }

    static let threeSteps = """
        - hosts: controllers
          steps:
            - {name: one, command: "echo one", register: first}
            - {name: two, command: "echo two", register: second}
            - {name: three, command: "echo {{ first.changed }}-{{ second.rc }}-{{ inventory_hostname }}"}
        """

    @Test("a fast host starts its next step before a slow host is done with the one before; results fold in step order")
    func fastHostsGoAhead() async throws {
        let summary = try await run(Self.threeSteps, delay: Self.waitForOthers)
        for host in ["c2", "c3"] {
            #expect(timeline.order("\(host) start echo two", before: "c1 end echo one"), "\(timeline.entries.withLock { $0 })")
            #expect(timeline.order("\(host) end echo one", before: "\(host) start echo two"))
            #expect(journal.scripts(on: host).contains("echo true-0-\(host)"))
        }
        #expect(journal.scripts(on: "c1").contains("echo true-0-c1"))
        let expected = ["one", "two", "three"].flatMap { step in ["c1", "c2", "c3"].map { "\(step) \($0)" } }
        #expect(summary.reports.map { "\($0.step) \($0.host)" } == expected)
        #expect(finished.order.withLock { $0 } == expected)
        #expect(summary.exitStatus == .success)
    }

    @Test("the reports, recap, console lines and JSON are those of the step-by-step run, registered variables too")
    func sameResultsAsStepByStep() async throws {
        let playbook = { (extra: String) in
            """
            - hosts: controllers
              steps:
                - {name: one, command: "echo one", register: first, when: ["true"\(extra)]}
                - {name: "may fail", command: "echo FAIL-ON-c2", register: second, ignore_errors: true, when: ["true"\(extra)]}
                - {name: "skipped on c3", command: "echo three", when: ["inventory_hostname != 'c3'"\(extra)], notify: h}
                - {name: four, command: "echo {{ first.changed }}-{{ second.failed }}-{{ inventory_hostname }}", when: ["true"\(extra)]}
              handlers:
                - {name: h, command: "echo handler"}
            """
        }
        // A step whose condition names `groups` is a barrier: with one on every step, the step-by-step run.
        let stepByStep = IndependentHostsTests()
        let reference = try await stepByStep.run(playbook(", \"groups is defined\""))
        let summary = try await run(
            playbook(""), delay: ["c1 echo one": { await $0.wait(for: ["c2 start echo FAIL-ON-c2", "c3 start echo FAIL-ON-c2"]) }])
        #expect(timeline.order("c2 start echo FAIL-ON-c2", before: "c1 end echo one"))
        #expect(stepByStep.timeline.order("c1 end echo one", before: "c2 start echo FAIL-ON-c2"))

        let (document, referenceDocument) = (try Self.document(summary), try Self.document(reference))
        #expect(document == referenceDocument, "\(document)\n\(referenceDocument)")
        let console = ConsoleReporter(showDiff: false, color: false)
        #expect(Self.timeless(summary).reports.map(console.stepText) == Self.timeless(reference).reports.map(console.stepText))
        #expect(console.recapText(Self.timeless(summary)) == console.recapText(Self.timeless(reference)))
        #expect(finished.order.withLock { $0 } == stepByStep.finished.order.withLock { $0 })
        for host in ["c1", "c2", "c3"] {
            #expect(journal.scripts(on: host) == stepByStep.journal.scripts(on: host), "\(host)")
        }
        #expect(journal.scripts(on: "c2").contains("echo true-true-c2") && journal.scripts(on: "c1").contains("echo true-false-c1"))
        #expect(summary.reports.filter(\.isHandler).map(\.host) == ["c1", "c2"])
    }

    @Test("check mode: the probes go ahead the same way, and the predictions are those of the step-by-step run")
    func checkModeSameAsStepByStep() async throws {
        let playbook = { (extra: String) in
            """
            - hosts: controllers
              steps:
                - {name: one, command: {cmd: "echo one", unless: "probe one"}, when: ["true"\(extra)]}
                - {name: two, command: {cmd: "echo two", unless: "probe two FAIL-ON-c2"}, when: ["true"\(extra)], notify: h}
                - {name: three, copy: {content: "x", dest: /etc/x}, when: ["true"\(extra)]}
              handlers:
                - {name: h, command: "echo handler"}
            """
        }
        let stepByStep = IndependentHostsTests()
        let reference = try await stepByStep.run(playbook(", \"groups is defined\""), check: true)
        let summary = try await run(
            playbook(""), check: true,
            delay: ["c1 probe one": { await $0.wait(for: ["c2 start probe two FAIL-ON-c2", "c3 start probe two FAIL-ON-c2"]) }])
        #expect(timeline.order("c3 start probe two FAIL-ON-c2", before: "c1 end probe one"))
        #expect(summary.outcomes("two") == ["c1": .ok, "c2": .changed, "c3": .ok] && summary.outcomes("three").count == 3)
        #expect(journal.writes().isEmpty && summary.exitStatus == .drift)
        let (document, referenceDocument) = (try Self.document(summary), try Self.document(reference))
        #expect(document == referenceDocument, "\(document)\n\(referenceDocument)")
    }

    @Test("a failing host stops only itself: the others go on without waiting for the slow one")
    func failureStopsOnlyItsHost() async throws {
        let summary = try await run(
            Self.commands(one: "echo one FAIL-ON-c2"),
            delay: ["c1 echo one FAIL-ON-c2": { await $0.wait(for: ["c3 start echo two"]) }])
        #expect(timeline.order("c3 start echo two", before: "c1 end echo one FAIL-ON-c2"))
        #expect(summary.outcomes("one") == ["c1": .changed, "c2": .failed, "c3": .changed])
        #expect(summary.outcomes("three") == ["c1": .changed, "c3": .changed])
        #expect(!timeline.contains("c2 start echo two") && !timeline.contains("c2 start echo three"))
        #expect(summary.reports.map { "\($0.step) \($0.host)" } == ["one c1", "one c2", "one c3", "two c1", "two c3", "three c1", "three c3"])
        #expect(summary.recap["c2"]?.failed == 1 && summary.recap["c1"]?.changed == 3)
        #expect(summary.exitStatus == .stepFailed)
    }

    @Test("run_once, a step reaching other hosts, or one naming them is a barrier: every host is done with the steps before")
    func barriers() async throws {
        let summary = try await run(
            """
            - hosts: controllers
              steps:
                - {name: one, command: "echo one"}
                - {name: once, command: "echo once", run_once: true}
                - {name: two, command: "echo two"}
                - {name: peers, peer_step: {}}
                - {name: three, command: "echo three"}
                - {name: named, command: "echo {{ groups.controllers | length }}"}
                - {name: four, command: "echo four"}
            """,
            delay: [
                "c2 echo one": { _ in try? await Task.sleep(for: .milliseconds(200)) },
                "c3 echo two": { _ in try? await Task.sleep(for: .milliseconds(200)) },
                "c1 echo three": { _ in try? await Task.sleep(for: .milliseconds(200)) }
            ])
        let hosts = ["c1", "c2", "c3"]
        for host in hosts {
            #expect(timeline.order("\(host) end echo one", before: "c1 start echo once"), "\(host)")
            #expect(timeline.order("\(host) end echo two", before: "c1 start peer") && timeline.order("\(host) end echo two", before: "c3 start peer"))
            for other in hosts {
                #expect(timeline.order("\(host) end echo three", before: "\(other) start echo 3"), "\(host) before \(other)")
            }
        }
        #expect(summary.outcomes("once") == ["c1": .changed] && summary.outcomes("peers").count == 3)
        #expect(summary.reports.count == 3 + 1 + 3 + 3 + 3 + 3 + 3 && summary.exitStatus == .success)
    }

    @Test("which steps are barriers: run_once, shared services, peers (pcs_resource, service with drain), other hosts named")
    func barrierSteps() async throws {
        let engine = try engine(
            """
            - hosts: controllers
              steps:
                - {name: a, command: "echo a"}
                - {name: b, service: {name: nginx, state: restarted}}
                - {name: c, service: {name: nginx, state: restarted, drain: {backend: web}}}
                - {name: d, pcs_resource: {resource: p_haproxy, action: cleanup}, run_once: false}
                - {name: e, mysql_database: {name: nova}, run_once: false}
                - {name: f, command: "echo f", run_once: true}
                - {name: g, command: "echo g", when: "inventory_hostname == play_hosts[0]"}
                - {name: h, command: "echo {{ hostvars['c2'].x | default(1) }}"}
                - {name: i, command: "echo i", loop: "{{ ansible_play_hosts }}"}
                - {name: j, command: "echo j", register: r, until: "r.rc == 0", retries: 2, delay: 0}
                - {name: k, command: "echo {{ inventory_hostname }}"}
            """)
        let playbook = try #require(engine.playbooks.first)
        let play = try #require(playbook.plays.first)
        let runner = PlayRunner(
            engine: engine, play: play, playbook: playbook, pool: ConnectionPool(connector: engine.connector),
            planned: PlannedObjects(), cache: RunCache(), pending: PendingHandlers())
        let barriers = play.steps.filter(runner.needsOtherHosts).compactMap(\.name)
        #expect(barriers == ["c", "d", "e", "f", "g", "h", "i"])
        #expect(runner.segments().map { $0.steps.compactMap(\.step.name) } == [["a", "b"], ["c"], ["d"], ["e"], ["f"], ["g"], ["h"], ["i"], ["j", "k"]])
    }

    @Test("a stop request mid-segment: per host, the step cut short and the ones not started are left undone")
    func stopInsideASegment() async throws {
        // The stop comes once every host is inside the second step (c1 slow at the first: the others ahead of it).
        let summary = try await run(
            """
            - hosts: controllers
              steps:
                - {name: one, command: "echo one", notify: h}
                - {name: two, command: "echo two BLOCK"}
                - {name: three, command: "echo three"}
                - {name: four, command: "echo four", run_once: true}
                - {name: five, command: "echo five"}
              handlers:
                - {name: h, command: "echo handler"}
            """, stoppingOnce: ["c1 start echo two BLOCK", "c2 start echo two BLOCK", "c3 start echo two BLOCK"],
            delay: ["c1 echo one": { await $0.wait(for: ["c2 start echo two BLOCK", "c3 start echo two BLOCK"]) }])
        #expect(summary.exitStatus == .interrupted)
        let expected = LeftUndone(play: "controllers", steps: ["two (interrupted)", "three", "four", "five"], handlers: ["h"])
        for host in ["c1", "c2", "c3"] {
            #expect(summary.interruption?.leftUndone[host] == [expected], "\(host)")
            #expect(!timeline.contains("\(host) start echo three") && !timeline.contains("\(host) start echo handler"))
        }
        #expect(summary.reports.map { "\($0.step) \($0.host)" } == ["one c1", "one c2", "one c3", "two c1", "two c2", "two c3"])
    }

    @Test("hosts stopped at different steps: each is left what it did not start, its step cut short named as such")
    func stopWithHostsApart() async throws {
        let summary = try await run(
            Self.commands(
                one: "echo one {{ 'BLOCK-c1' if inventory_hostname == 'c1' else '' }}",
                two: "echo two {{ 'BLOCK' if inventory_hostname != 'c1' else '' }}"),
            stoppingOnce: ["c1 start echo one BLOCK-c1", "c2 start echo two BLOCK", "c3 start echo two BLOCK"])
        #expect(summary.interruption?.leftUndone["c1"] == [LeftUndone(play: "controllers", steps: ["one (interrupted)", "two", "three"])])
        for host in ["c2", "c3"] {
            #expect(summary.interruption?.leftUndone[host] == [LeftUndone(play: "controllers", steps: ["two (interrupted)", "three"])], "\(host)")
        }
        #expect(summary.reports.map { "\($0.step) \($0.host)" } == ["one c1", "one c2", "one c3", "two c2", "two c3"])
    }

    @Test("--forks 1: one host at a time, in the order of the step-by-step run")
    func oneFork() async throws {
        let summary = try await run(Self.threeSteps, forks: 1)
        let starts = timeline.entries.withLock { $0.filter { $0.contains(" start ") } }
        #expect(
            starts == [
                "c1 start echo one", "c2 start echo one", "c3 start echo one", "c1 start echo two", "c2 start echo two",
                "c3 start echo two", "c1 start echo true-0-c1", "c2 start echo true-0-c2", "c3 start echo true-0-c3"
            ])
        for (index, entry) in timeline.entries.withLock({ $0 }).enumerated() where entry.contains(" start ") {
            #expect(timeline.entries.withLock { $0[index + 1] } == entry.replacingOccurrences(of: " start ", with: " end "))
        }
        #expect(summary.exitStatus == .success)
    }

    @Test("--forks 2 of 3: no more than two hosts run a step at once, and a fast host still goes ahead")
    func twoForks() async throws {
        let summary = try await run(
            Self.threeSteps, forks: 2,
            delay: ["c1 echo one": { await $0.wait(for: ["c3 start echo two"]) }])
        var running = 0
        var most = 0
        for entry in timeline.entries.withLock({ $0 }) {
            running += entry.contains(" start ") ? 1 : -1
            most = max(most, running)
        }
        #expect(most == 2, "\(timeline.entries.withLock { $0 })")
        #expect(timeline.order("c3 start echo two", before: "c1 end echo one"))
        #expect(summary.reports.map(\.step) == ["one", "one", "one", "two", "two", "two", "three", "three", "three"])
    }

    /// `summary` without what changes from run to run: times, the playbook's folder.
    static func timeless(_ summary: RunSummary) -> RunSummary {
        var summary = summary
        summary.duration = 0
        for index in summary.reports.indices {
            summary.reports[index].duration = 0
            // The playbook's folder differs from run to run; line and column do not.
            summary.reports[index].location = (summary.reports[index].location as NSString).lastPathComponent
            // A handler's "pending since" names the second its notifying step changed the host.
            summary.reports[index].message = summary.reports[index].message?.replacingOccurrences(
                of: "since [0-9T:Z-]+", with: "since (time)", options: .regularExpression)
        }
        return summary
    }

    /// The JSON document of `summary`, keys sorted, times left out.
    static func document(_ summary: RunSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(JSONReport(command: "quorum apply", summary: timeless(summary))), as: UTF8.self)
    }
}
