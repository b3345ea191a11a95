import QuorumEngine
import Testing

@Suite struct ConsoleTraitsTests {
    func traits(_ mode: ColorMode = .auto, tty: Bool, _ environment: [String: String] = ["TERM": "xterm-256color"]) -> ConsoleTraits {
        ConsoleTraits.decide(mode, isTTY: tty, environment: environment)
    }

    @Test("auto: colour and the live line on a terminal, neither in a pipe")
    func autoFollowsTheTerminal() {
        #expect(traits(tty: true) == ConsoleTraits(isTTY: true, color: true, live: true))
        #expect(traits(tty: false) == ConsoleTraits(isTTY: false, color: false, live: false))
    }

    @Test("NO_COLOR (non-empty) turns colour and the live line off on a terminal; empty NO_COLOR counts as unset")
    func noColor() {
        #expect(traits(tty: true, ["NO_COLOR": "1", "TERM": "xterm"]) == ConsoleTraits(isTTY: true, color: false, live: false))
        #expect(traits(tty: true, ["NO_COLOR": "", "TERM": "xterm"]).color)
        // NO_COLOR wins over FORCE_COLOR; --color always wins over both, but the live line stays off.
        #expect(!traits(tty: true, ["NO_COLOR": "1", "FORCE_COLOR": "1"]).color)
        #expect(traits(.always, tty: true, ["NO_COLOR": "1"]) == ConsoleTraits(isTTY: true, color: true, live: false))
    }

    @Test("TERM=dumb: no colour, no live line, even on a terminal")
    func dumbTerminal() {
        #expect(traits(tty: true, ["TERM": "dumb"]) == ConsoleTraits(isTTY: true, color: false, live: false))
    }

    @Test("FORCE_COLOR colours a pipe (but never draws a live line there); FORCE_COLOR=0 turns colour off")
    func forceColor() {
        #expect(traits(tty: false, ["FORCE_COLOR": "1"]) == ConsoleTraits(isTTY: false, color: true, live: false))
        #expect(traits(tty: false, ["FORCE_COLOR": "1", "TERM": "dumb"]).color)
        #expect(!traits(tty: true, ["FORCE_COLOR": "0"]).color)
        #expect(traits(tty: true, ["FORCE_COLOR": "false"]).live)
    }

    @Test("--color always and never win over the environment and the terminal; never keeps the live line")
    func explicitMode() {
        #expect(traits(.always, tty: false, [:]).color)
        #expect(!traits(.never, tty: true, ["FORCE_COLOR": "1"]).color)
        #expect(traits(.never, tty: true) == ConsoleTraits(isTTY: true, color: false, live: true))
        #expect(!traits(.always, tty: false).live)
    }
}
