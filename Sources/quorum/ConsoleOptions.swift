import ArgumentParser
import Foundation
import QuorumEngine

/// How the console looks, shared by `apply`, `audit` and `exec`: `--color`, turned into the traits every
/// printer of the run uses (decided once, here).
struct ConsoleOptions: ParsableArguments {
    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR forces it), always or never.")
    var color: ColorMode = .auto

    /// The traits of `stream` (`STDOUT_FILENO`, `STDERR_FILENO`) and a console printing to it.
    func output(_ stream: Int32) -> ConsoleOutput {
        ConsoleOutput(stream: stream, traits: .of(stream, mode: color))
    }
}

extension ColorMode: ExpressibleByArgument {}
