import Foundation
import Testing

extension LabTests {
    @Test("a controller whose link is cut mid-run is reported unreachable; the two others finish")
    func linkCutMidRun() throws {
        let ws = try Workspace("linkcut")
        defer { ws.remove() }
        let playbook = try ws.write("pb.yml", """
        - hosts: controllers
          steps:
            - {name: one, command: "true"}
            - {name: slow, command: sleep 4}
            - {name: three, command: "true"}
            - {name: four, command: "true"}
        """)
        defer { _ = try? Command.run(["bash", Lab.root + "/lab/lab.sh", "mend", "ctl3"]) }
        let jsonPath = ws.path + "/run.json"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: QuorumCLI.binary)
        process.arguments = ["apply", playbook, "-i", Lab.inventory, "--json", jsonPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        Thread.sleep(forTimeInterval: 2)
        let cut = try Command.run(["bash", Lab.root + "/lab/lab.sh", "cut", "ctl3"])
        #expect(cut.status == 0, "\(cut.stderr)")
        while process.isRunning && clock.now - start < .seconds(120) { Thread.sleep(forTimeInterval: 0.2) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(120), "the run hung on the cut controller")
        #expect(process.terminationStatus == 3)
        let report = try Report(try Data(contentsOf: URL(fileURLWithPath: jsonPath)))
        #expect(report.results.contains { $0.host == "ctl3" && $0.outcome == "unreachable" }, "\(report.raw)")
        #expect(!report.results.contains { $0.host == "ctl3" && $0.step == "three" })
        for host in ["ctl1", "ctl2"] {
            #expect(report.changed(on: host) == 4, "\(host) did not finish: \(report.recap[host] ?? [:])")
        }
    }
}
