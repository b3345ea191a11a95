import QuorumCore
@testable import QuorumEngine
import Testing

@Suite struct CommandTraceTests {
    @Test("-vv: each command as sent, then its exit status and duration, per host, secrets masked")
    func masksSecrets() throws {
        let redactor = SecretRedactor()
        redactor.register("Sekr1t-Value")
        let terminal = FakeTerminal()
        let reporter = ConsoleReporter(showDiff: false, verbosity: 2, output: terminal.output(.plain), redactor: redactor)
        let trace = try #require(reporter.commandObserver)
        trace.commandFinished(RemoteCommand(host: "ctl1", script: "mysql -p'Sekr1t-Value' -e 'select 1'\nexit 0",
                                            becomeUser: "root", status: 0, duration: 0.25))
        trace.commandFinished(RemoteCommand(host: "ctl2", script: "cat /etc/x", status: nil, error: "ctl2: timed out", duration: 900))
        let text = terminal.text
        #expect(!text.contains("Sekr1t-Value"), "\(text)")
        #expect(text.contains("      ctl1 (sudo -u root) $ mysql -p'********' -e 'select 1'\n"), "\(text)")
        #expect(text.contains("→ exit 0, 0.25s\n") && text.contains("ctl2 $ cat /etc/x\n") && text.contains("→ ctl2: timed out, 900.00s"), "\(text)")
    }

    @Test("-v and no -v show no commands")
    func onlyWithTwoVs() {
        #expect(ConsoleReporter(showDiff: false, verbosity: 1, output: FakeTerminal().output(.plain), redactor: SecretRedactor())
            .commandObserver == nil)
    }
}
