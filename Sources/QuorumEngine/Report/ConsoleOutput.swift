import Foundation
import Synchronization

/// One console stream shared by everything that prints a run: whole lines, and on a terminal the live status
/// line under them. The live line is erased (`\r` + clear line) before any line is printed and redrawn in place
/// at most every `redrawInterval`, so a step that takes minutes (the Pacemaker toggle) still shows it is alive.
public final class ConsoleOutput: Sendable {
    public static let redrawInterval: Duration = .milliseconds(200)
    static let eraseLine = "\r\u{1B}[K"

    public let traits: ConsoleTraits
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> Duration
    private let width: @Sendable () -> Int
    private let ticking: Bool

    private struct State {
        var status: LiveStatus
        /// The live line on screen now, if any.
        var shown: String?
        var lastDraw: Duration?
        var ticker: Task<Void, Never>?
    }
    private let state: Mutex<State>

    /// `write` receives the bytes to print (as text); `now` is the clock (any fixed origin); `width` the terminal's
    /// columns. With `ticking`, a task redraws the live line while hosts are on steps (tests call `tick()`).
    public init(
        traits: ConsoleTraits, ticking: Bool = true, width: @escaping @Sendable () -> Int = { 80 },
        now: @escaping @Sendable () -> Duration, write: @escaping @Sendable (String) -> Void
    ) {
        self.traits = traits
        self.write = write
        self.now = now
        self.width = width
        self.ticking = ticking
        state = Mutex(State(status: LiveStatus(start: now())))
    }

    /// The process's stdout or stderr (`STDOUT_FILENO`, `STDERR_FILENO`).
    public convenience init(stream: Int32, traits: ConsoleTraits) {
        let handle = stream == STDERR_FILENO ? FileHandle.standardError : FileHandle.standardOutput
        let origin = ContinuousClock.now
        self.init(
            traits: traits, width: { Self.columns(of: stream) }, now: { ContinuousClock.now - origin },
            write: { handle.write(Data($0.utf8)) })
    }

    /// Prints `text` as a line (or lines), erasing the live line first; it comes back at the next redraw.
    public func line(_ text: String) {
        state.withLock { state in
            if state.shown != nil {
                write(Self.eraseLine)
                state.shown = nil
            }
            write(text + "\n")
        }
    }

    /// `host` began `step` (the live line only).
    public func started(host: String, step: String) {
        guard traits.live else { return }
        let time = now()
        state.withLock { state in
            state.status.started(host: host, step: step, at: time)
            if ticking, state.ticker == nil { state.ticker = startTicker() }
        }
    }

    /// `host` is done with its step (the live line only).
    public func finished(host: String) {
        guard traits.live else { return }
        state.withLock { $0.status.finished(host: host) }
    }

    /// Redraws the live line when one is due: not sooner than `redrawInterval` after the last drawing, and only
    /// when its text changed; erased when no host is on a step.
    public func tick() {
        guard traits.live else { return }
        let time = now()
        state.withLock { state in
            if let last = state.lastDraw, time - last < Self.redrawInterval { return }
            guard let text = state.status.render(at: time, width: width()) else {
                if state.shown != nil { write(Self.eraseLine) }
                state.shown = nil
                return
            }
            guard text != state.shown else { return }
            write(Self.eraseLine + text)
            state.shown = text
            state.lastDraw = time
        }
    }

    /// Erases the live line for good (the run is over).
    public func stop() {
        state.withLock { state in
            state.ticker?.cancel()
            state.ticker = nil
            if state.shown != nil { write(Self.eraseLine) }
            state.shown = nil
        }
    }

    private func startTicker() -> Task<Void, Never> {
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.redrawInterval)
                guard let self else { return }
                self.tick()
            }
        }
    }

    /// The terminal's width in columns (80 when it cannot be told).
    static func columns(of stream: Int32) -> Int {
        var size = winsize()
        if ioctl(stream, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }
}
