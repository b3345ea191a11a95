import Testing

@testable import QuorumEngine

@Suite struct LiveLineTests {
    let live = ConsoleTraits(isTTY: true, color: false, live: true)

    @Test("the live line names each step with its hosts and times, and the run's elapsed time")
    func renders() {
        var status = LiveStatus(start: .zero)
        status.started(host: "ctl1", step: "toggle p_haproxy", at: .seconds(3))
        status.started(host: "ctl2", step: "render magnum.conf", at: .seconds(60))
        status.started(host: "ctl3", step: "render magnum.conf", at: .seconds(61))
        #expect(
            status.render(at: .seconds(125), width: 200)
                == "[2m05s] ctl1: toggle p_haproxy 2m02s | ctl2, ctl3: render magnum.conf 1m05s")
        status.finished(host: "ctl1")
        status.finished(host: "ctl2")
        status.finished(host: "ctl3")
        #expect(status.render(at: .seconds(126), width: 200) == nil)
    }

    @Test("the live line never reaches the terminal's last column")
    func cutToWidth() throws {
        var status = LiveStatus(start: .zero)
        status.started(host: "ctl1", step: String(repeating: "x", count: 200), at: .zero)
        let text = try #require(status.render(at: .seconds(1), width: 40))
        #expect(text.count == 39 && text.hasSuffix("…"))
    }

    @Test("redrawn in place (\\r + clear line) at most every 200 ms and only when it changed, erased before a line is printed, gone at the end")
    func redrawAndErase() {
        let terminal = FakeTerminal()
        let output = terminal.output(live)
        output.started(host: "ctl1", step: "toggle p_haproxy")
        output.tick()
        #expect(terminal.writes == ["\r\u{1B}[K[0s] ctl1: toggle p_haproxy 0s"])
        terminal.advance(.milliseconds(100))
        output.tick()  // too soon: nothing drawn
        #expect(terminal.writes.count == 1)
        terminal.advance(.seconds(61))
        output.tick()
        #expect(terminal.writes.last == "\r\u{1B}[K[1m01s] ctl1: toggle p_haproxy 1m01s")
        output.line("  changed  ctl2  something")
        #expect(Array(terminal.writes.suffix(2)) == ["\r\u{1B}[K", "  changed  ctl2  something\n"])
        output.line("another")  // nothing to erase this time
        #expect(terminal.writes.last == "another\n" && terminal.writes.filter { $0 == "\r\u{1B}[K" }.count == 1)
        terminal.advance(.milliseconds(250))
        output.tick()
        #expect(terminal.writes.last?.hasPrefix("\r\u{1B}[K[1m01s] ctl1") == true)
        let drawn = terminal.writes.count
        terminal.advance(.milliseconds(300))
        output.tick()  // the same text: not drawn again
        #expect(terminal.writes.count == drawn)
        output.stop()
        #expect(terminal.writes.last == "\r\u{1B}[K")
    }

    @Test("no live line in a pipe, with NO_COLOR or TERM=dumb: only whole lines are written")
    func neverWithoutATerminal() {
        for traits in [
            ConsoleTraits.plain, .decide(.auto, isTTY: true, environment: ["NO_COLOR": "1"]),
            .decide(.auto, isTTY: true, environment: ["TERM": "dumb"])
        ] {
            let terminal = FakeTerminal()
            let output = terminal.output(traits)
            output.started(host: "ctl1", step: "toggle")
            terminal.advance(.seconds(5))
            output.tick()
            output.line("done")
            output.stop()
            #expect(terminal.writes == ["done\n"], "\(traits)")
        }
    }

    @Test("the reporter feeds the live line: a host leaves it when its step's result is printed")
    func reporterFeedsTheLine() {
        let terminal = FakeTerminal()
        let output = terminal.output(live)
        let reporter = ConsoleReporter(showDiff: false, output: output)
        reporter.stepStarted(host: "ctl1", step: "toggle")
        reporter.stepStarted(host: "ctl2", step: "toggle")
        output.tick()
        #expect(terminal.writes.last == "\r\u{1B}[K[0s] ctl1, ctl2: toggle 0s")
        terminal.advance(.seconds(1))
        reporter.stepFinished(
            StepReport(
                host: "ctl1", play: "p", step: "toggle", kind: "command", outcome: .ok, duration: 1,
                diffs: [], message: nil, error: nil, location: "pb.yml:1:1", isHandler: false,
                runOnce: false, ignored: false, items: nil, skipReason: nil))
        #expect(terminal.writes.suffix(2).first == "\r\u{1B}[K")
        #expect(terminal.writes.last?.hasPrefix("  ok") == true)
        output.tick()
        #expect(terminal.writes.last == "\r\u{1B}[K[1s] ctl2: toggle 1s")
    }
}
