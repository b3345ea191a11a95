import Foundation

/// `--color`: what the operator asked for.
public enum ColorMode: String, Sendable, CaseIterable {
    case auto, always, never
}

/// What the console can do, decided once per run from `--color`, the environment and whether the stream is a
/// terminal, so no printer guesses on its own.
public struct ConsoleTraits: Sendable, Equatable {
    /// The stream is a terminal.
    public var isTTY: Bool
    /// ANSI colours.
    public var color: Bool
    /// The live status line (redrawn in place): only on a terminal that can take it and whose operator did not
    /// ask for plain output.
    public var live: Bool

    public init(isTTY: Bool, color: Bool, live: Bool) {
        self.isTTY = isTTY
        self.color = color
        self.live = live
    }

    /// `--color always|never` wins; with `auto`: `NO_COLOR` (non-empty) means none, then `FORCE_COLOR` (non-empty,
    /// not `0`/`false`) means colour even in a pipe, then `TERM=dumb` means none, else colour on a terminal. The live
    /// line needs a terminal, no `NO_COLOR` and a `TERM` other than `dumb`, whatever `--color` says.
    public static func decide(_ mode: ColorMode, isTTY: Bool, environment: [String: String]) -> ConsoleTraits {
        func set(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let noColor = set("NO_COLOR") != nil
        let dumb = set("TERM") == "dumb"
        let forced = set("FORCE_COLOR").map { !["0", "false"].contains($0.lowercased()) }
        let color: Bool =
            switch mode {
            case .always: true
            case .never: false
            case .auto: noColor ? false : forced ?? (!dumb && isTTY)
            }
        return ConsoleTraits(isTTY: isTTY, color: color, live: isTTY && !noColor && !dumb)
    }

    /// The traits of the process's file descriptor `stream` (STDOUT_FILENO, STDERR_FILENO).
    public static func of(_ stream: Int32, mode: ColorMode) -> ConsoleTraits {
        decide(mode, isTTY: isatty(stream) == 1, environment: ProcessInfo.processInfo.environment)
    }

    /// Plain text: no colour, no live line (files, tests).
    public static let plain = ConsoleTraits(isTTY: false, color: false, live: false)
}
