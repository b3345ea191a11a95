import Foundation
import QuorumTesting
import Testing

/// Issue 19: changes without a failed request. `benchmarks/availability.sh` runs a request loop inside ctl1 through
/// the VIP to Magnum (and to Keystone, the control) while the built quorum applies one kind of change; these tests
/// read its table and assert that not one request failed, and that no controller's HAProxy keeps a server drained.
enum LabAvailability {
    /// One row of the script's table: "KIND SERVICE FAILED/TOTAL GAP s".
    struct Figure: CustomStringConvertible {
        var kind: String
        var service: String
        var failed: Int
        var total: Int
        var description: String { "\(kind) \(service) \(failed)/\(total)" }
    }

    /// Runs the script for the kinds given; its figures and everything it printed.
    static func measure(_ kinds: [String], interval: String) throws -> (figures: [Figure], output: String) {
        var environment = QuorumCLI.inheritedEnvironment
        environment["QUORUM"] = PackageRoot.quorumBinary
        environment["INTERVAL"] = interval
        let result = try Command.run(["bash", PackageRoot.path + "/benchmarks/availability.sh"] + kinds, environment: environment)
        let output = result.stdout + result.stderr
        guard result.status == 0 else { throw TestError("availability.sh exited \(result.status):\n\(output)") }
        let figures = result.stdout.split(separator: "\n").compactMap { line -> Figure? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, kinds.contains(String(fields[0])) else { return nil }
            let counts = fields[2].split(separator: "/")
            guard counts.count == 2, let failed = Int(counts[0]), let total = Int(counts[1]) else { return nil }
            return Figure(kind: String(fields[0]), service: String(fields[1]), failed: failed, total: total)
        }
        return (figures, output)
    }

    /// The servers a controller's HAProxy holds in drain or maintenance ("backend/server STATUS"), from `show stat`
    /// on its admin socket; empty when every server is back to ready.
    static func serversNotReady(_ host: String) throws -> [String] {
        let script = #"""
            import socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect("/run/haproxy/admin.sock")
            s.sendall(b"show stat\n")
            out = b""
            while True:
                data = s.recv(65536)
                if not data: break
                out += data
            for line in out.decode().splitlines():
                f = line.split(",")
                if len(f) > 17 and f[1] not in ("FRONTEND", "BACKEND", "svname") and ("DRAIN" in f[17] or "MAINT" in f[17]):
                    print(f[0] + "/" + f[1] + " " + f[17])
            """#
        let text = try Lab.output(host, "python3 -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
        return text.split(separator: "\n").map(String.init)
    }

    static func expectEveryServerReady(_ context: String) throws {
        for host in Lab.controllers {
            let left = try serversNotReady(host)
            #expect(left.isEmpty, "\(context): \(host)'s HAProxy still holds \(left)")
        }
    }
}

extension LabTests {
    @Test("a magnum.conf re-render (drained roll) and a stanza change (hitless reload): not one failed request through the VIP; every server ready after")
    func changesWithoutAFailedRequest() throws {
        try Self.ensureMagnumApplied()
        // The script's roll sets memcached_servers to the order the controllers do not have: with the other order
        // written by hand first, it is the inventory's, so the lab ends as the inventory says.
        for host in Lab.controllers {
            _ = try Lab.output(
                host, "sed -i 's/^memcached_servers = .*/memcached_servers = 10.21.22.5:11211,10.21.22.6:11211,10.21.22.4:11211/' /etc/magnum/magnum.conf")
        }
        // One request every 0.03 s: several hundred during the roll (about a minute), over a hundred during a reload.
        let (figures, output) = try LabAvailability.measure(["rolling", "hitless"], interval: "0.03")
        #expect(!output.contains("the apply failed"), "\(output)")
        for kind in ["rolling", "hitless"] {
            for service in ["magnum", "keystone"] {
                let figure = try #require(figures.first { $0.kind == kind && $0.service == service }, "no \(kind)/\(service) figure:\n\(output)")
                #expect(figure.failed == 0, "\(figure) failed:\n\(output)")
                #expect(figure.total >= (kind == "rolling" ? 300 : 150), "too few requests to tell: \(figure)")
            }
        }
        // The roll really restarted Magnum, the reload really reloaded: the applies' own logs say so.
        let rolling = try String(contentsOfFile: PackageRoot.path + "/lab/state/availability/rolling.log", encoding: .utf8)
        #expect(rolling.contains("changed") && rolling.contains(Self.magnumRestartStep), "\(rolling)")
        let hitless = try String(contentsOfFile: PackageRoot.path + "/lab/state/availability/hitless.log", encoding: .utf8)
        #expect(hitless.contains("handler: reload haproxy without dropping a connection"), "\(hitless)")
        try LabAvailability.expectEveryServerReady("after the changes")
        let audit = try LabAudit.audit()
        #expect(audit.status == 0, "the lab is not clean after the changes:\n\(audit.stdout)")
    }
}
