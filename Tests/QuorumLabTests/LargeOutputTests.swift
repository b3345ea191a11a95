import Foundation
import QuorumTesting
import Testing

extension LabTests {
    @Test("a command printing 10 MB on stdout and 10 MB on stderr at once completes with both intact")
    func largeOutputOnBothStreams() throws {
        let ws = try Workspace("large")
        defer { ws.remove() }
        // Both streams are written at the same time (two background writers), so a transport that drains
        // one stream before the other would deadlock on a full channel window.
        let playbook = try ws.write(
            "pb.yml",
            """
            - hosts: ctl1
              steps:
                - name: twenty megabytes
                  command: "head -c 10485760 /dev/zero | tr '\\\\000' a & head -c 10485760 /dev/zero | tr '\\\\000' b >&2 & wait"
                  register: big
                  changed_when: false
                  failed_when: big.rc != 0 or big.stdout | length != 10485760 or big.stderr | length != 10485760
                - name: content is intact
                  command: "true"
                  changed_when: false
                  failed_when: "'b' in big.stdout or 'a' in big.stderr"
            """)
        let clock = ContinuousClock()
        let start = clock.now
        let run = try QuorumCLI.apply(playbook)
        let elapsed = clock.now - start
        #expect(run.status == 0, "\(run.all.prefix(2000))")
        #expect(run.report?.results.filter { $0.outcome == "ok" }.count == 2)
        #expect(run.stdout.utf8.count < 100_000, "the output was printed")
        #expect(elapsed < .seconds(60))
    }
}
