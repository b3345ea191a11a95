import Foundation
import QuorumTesting
import Testing

/// The tests' process runner: a child that ends without reading its stdin must not kill the test process with
/// SIGPIPE (run alone, `swift test --filter CommandFeedTests`, nothing else has ignored the signal first).
struct CommandFeedTests {
    @Test("a child that never reads a megabyte of stdin: its exit status, and the test process lives on")
    func unreadStdinIsNotFatal() throws {
        let megabyte = String(repeating: "x", count: 1 << 20)
        let result = try Command.run(["sh", "-c", "exit 3"], stdin: megabyte)
        #expect(result.status == 3)
        let echoed = try Command.run(["head", "-c", "5"], stdin: megabyte)
        #expect(echoed.status == 0 && echoed.stdout == "xxxxx")
    }
}
