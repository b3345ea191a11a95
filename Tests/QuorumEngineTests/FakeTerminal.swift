import QuorumEngine
import Synchronization

/// A console for tests: what is written, kept in order, and a clock that moves only when told.
final class FakeTerminal: Sendable {
    let written = Mutex<[String]>([])
    let time = Mutex<Duration>(.zero)

    func output(_ traits: ConsoleTraits, width: Int = 100) -> ConsoleOutput {
        ConsoleOutput(
            traits: traits, ticking: false, width: { width }, now: { [self] in self.time.withLock { $0 } },
            write: { [self] text in self.written.withLock { $0.append(text) } })
    }

    func advance(_ duration: Duration) { time.withLock { $0 += duration } }
    var text: String { written.withLock { $0.joined() } }
    var writes: [String] { written.withLock { $0 } }
}
