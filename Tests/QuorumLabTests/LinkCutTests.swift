import Foundation
import QuorumTesting
import Testing

extension LabTests {
    @Test("a controller whose link is cut mid-run is reported unreachable within 15 s of the cut; the two others finish")
    func linkCutMidRun() throws {
        let ws = try Workspace("linkcut")
        defer { ws.remove() }
        let playbook = try ws.write(
            "pb.yml",
            """
            - hosts: controllers
              steps:
                - {name: one, command: "true"}
                - {name: slow, command: sleep 4}
                - {name: three, command: "true"}
                - {name: four, command: "true"}
            """)
        defer { _ = try? Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "mend", "ctl3"]) }
        let jsonPath = ws.path + "/run.json"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PackageRoot.quorumBinary)
        process.arguments = ["apply", playbook, "-i", Lab.inventory, "--json", jsonPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        Thread.sleep(forTimeInterval: 2)
        let cut = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "cut", "ctl3"])
        #expect(cut.status == 0, "\(cut.stderr)")
        let cutAt = clock.now
        while process.isRunning && clock.now - start < .seconds(120) { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let afterCut = clock.now - cutAt
        print("link cut: the run ended \(afterCut) after the cut")
        // Keepalives every 3 s, three unanswered: about 11 s of silence names the controller.
        #expect(afterCut <= .seconds(15), "the cut controller was named \(afterCut) after the cut")
        #expect(process.terminationStatus == 3)
        let report = try RunReport(try Data(contentsOf: URL(fileURLWithPath: jsonPath)))
        let lost = report.results.first { $0.host == "ctl3" && $0.outcome == "unreachable" }
        #expect(lost?.error?.contains("keepalives") == true, "\(report.raw)")
        #expect(!report.results.contains { $0.host == "ctl3" && $0.step == "three" })
        for host in ["ctl1", "ctl2"] {
            #expect(report.changed(on: host) == 4, "\(host) did not finish: \(report.recap[host] ?? [:])")
        }
    }
}
