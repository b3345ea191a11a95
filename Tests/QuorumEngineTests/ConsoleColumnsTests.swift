import Foundation
import QuorumCore
import Testing

@testable import QuorumEngine

@Suite struct ConsoleColumnsTests {
    func report(_ outcome: Outcome, host: String, error: String? = nil) -> StepReport {
        StepReport(
            host: host, play: "p", step: "s", kind: "command", outcome: outcome, duration: 0.5, diffs: [], message: nil,
            error: error, location: "pb.yml:1:1", isHandler: false, runOnce: false, ignored: false, items: nil, skipReason: nil)
    }

    @Test("every outcome word is followed by at least two spaces, and host names start in the same column")
    func outcomeColumnNeverRunsIntoTheHost() {
        let console = ConsoleReporter(showDiff: false, color: false)
        var lines = Outcome.allCases.map { console.stepText(report($0, host: "ctl3")).split(separator: "\n")[0] }
        lines.append(console.stepText(report(.failed, host: "ctl3", error: "interrupted: abandoned")).split(separator: "\n")[0])
        #expect(lines.last?.hasPrefix("  interrupted") == true)
        let columns = Set(lines.map { $0.distance(from: $0.startIndex, to: $0.range(of: "ctl3")!.lowerBound) })
        #expect(columns.count == 1, "\(lines)")
        for line in lines {
            let word = line.dropFirst(2).prefix { $0 != " " }
            #expect(line.contains(word + "  "), "\(line)")
            #expect(!line.contains(word + "ctl3"), "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("  unreachable  ctl3") })
        #expect(ConsoleReporter.column("stopped").count == ConsoleReporter.columnWidth)
    }
}
