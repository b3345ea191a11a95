import QuorumCore
import QuorumSSH
import Testing

@testable import QuorumEngine

@Suite struct CommandTraceTests {
    /// The `-vv` trace of a plain console, with `Sekr1t-Value` a known secret, and the terminal it prints on.
    static func trace() throws -> (any CommandObserver, FakeTerminal) {
        let redactor = SecretRedactor()
        redactor.register("Sekr1t-Value")
        let terminal = FakeTerminal()
        let reporter = ConsoleReporter(showDiff: false, verbosity: 2, output: terminal.output(.plain), redactor: redactor)
        return (try #require(reporter.commandObserver), terminal)
    }

    @Test("-vv: each command as sent, then its exit status and duration, per host, secrets masked")
    func masksSecrets() throws {
        let (trace, terminal) = try Self.trace()
        trace.commandFinished(
            RemoteCommand(
                host: "ctl1", script: "mysql -p'Sekr1t-Value' -e 'select 1'\nexit 0",
                becomeUser: "root", status: 0, duration: 0.25))
        trace.commandFinished(RemoteCommand(host: "ctl2", script: "cat /etc/x", status: nil, error: "ctl2: timed out", duration: 900))
        let text = terminal.text
        #expect(!text.contains("Sekr1t-Value"), "\(text)")
        #expect(text.contains("      ctl1 (sudo -u root) $ mysql -p'********' -e 'select 1'\n"), "\(text)")
        #expect(text.contains("→ exit 0, 0.25s\n") && text.contains("ctl2 $ cat /etc/x\n") && text.contains("→ ctl2: timed out, 900.00s"), "\(text)")
    }

    @Test("-vv: what a host's SSH session says (a tunnel, the session lost) is one line of the same trace, secrets masked")
    func connectionNotes() throws {
        let (trace, terminal) = try Self.trace()
        let notes = SSHNotes(host: "ctl1", commandObserver: trace)
        notes.receive(SSHNote(kind: .detail, session: "10.0.0.11:22", message: "tunnel 127.0.0.1:40000 -> 127.0.0.1:3306 via 10.0.0.11:22"))
        trace.connectionNote(host: "ctl2", "session unusable: Sekr1t-Value")
        #expect(
            terminal.text == "      ctl1: tunnel 127.0.0.1:40000 -> 127.0.0.1:3306 via 10.0.0.11:22\n      ctl2: session unusable: ********\n",
            "\(terminal.text)")
    }

    @Test("-v and no -v show no commands")
    func onlyWithTwoVs() {
        #expect(
            ConsoleReporter(showDiff: false, verbosity: 1, output: FakeTerminal().output(.plain), redactor: SecretRedactor())
                .commandObserver == nil)
    }
}
