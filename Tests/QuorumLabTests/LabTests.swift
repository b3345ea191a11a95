import Foundation
import QuorumTesting
import Testing

/// Every test that touches the lab lives in this one serialized suite (spread over several files as
/// extensions), so no two of them disturb the controllers at once.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct LabTests {
    init() throws { try Lab.ensureUp() }

    /// Puts the demo playbook's targets back to "never applied" on every controller.
    static func resetDemo() throws {
        for host in Lab.controllers {
            try Lab.exec(host, "service quorum-demo stop >/dev/null 2>&1; rm -rf /etc/magnum/demo")
        }
        // `hello` is installed from apt's cache (the controllers have no route out); the lab keeps the .deb.
        _ = try Command.run(["sh", "-c", "dpkg -r hello >/dev/null 2>&1; cp -n '\(PackageRoot.path)'/lab/state/debs/*.deb /var/cache/apt/archives/"])
    }

    static var demoPlaybook: String { PackageRoot.path + "/playbooks/lab-demo.yml" }
}

extension LabTests {
    @Test("every step kind: the first run changes all three controllers, the second changes nothing")
    func everyStepKindIsIdempotent() throws {
        try Self.resetDemo()
        let first = try QuorumCLI.apply(Self.demoPlaybook)
        #expect(first.status == 0, "first apply failed:\n\(first.all)")
        let report = try #require(first.report)
        let kinds = Set(report.results.filter { $0.outcome == "changed" }.map(\.kind))
        for kind in ["file", "copy", "template", "ini", "line", "command", "apt", "service"] {
            #expect(kinds.contains(kind), "no `\(kind)` step changed on the first run")
        }
        for host in Lab.controllers {
            // apt shares one dpkg database between the lab's controllers, so only one of them installs.
            #expect(report.changed(on: host) >= 7, "\(host) changed only \(report.changed(on: host)) steps")
            #expect(
                report.results.contains { $0.host == host && $0.isHandler && $0.outcome == "changed" },
                "the restart handler did not run on \(host)")
            #expect(report.results.contains { $0.host == host && $0.kind == "wait_for" && $0.outcome == "ok" })
        }
        // Real outcomes on the controllers themselves.
        let ini = try Lab.output("ctl2", "cat /etc/magnum/demo/demo.ini")
        #expect(ini.contains("host = 10.21.22.5"))
        let conf = try Lab.output("ctl1", "cat /etc/magnum/demo/controllers.conf")
        #expect(conf.contains("server ctl3 10.21.22.6:8081 check"))
        #expect(try Lab.output("ctl3", "stat -c %a /etc/magnum/demo") == "750\n")
        #expect(try Lab.output("ctl1", "grep -c 'vip.lab' /etc/magnum/demo/hosts") == "1\n")
        #expect(try Lab.exec("ctl2", "pgrep -f http.server").status == 0)

        let second = try QuorumCLI.apply(Self.demoPlaybook)
        #expect(second.status == 0, "second apply failed:\n\(second.all)")
        let again = try #require(second.report)
        #expect(again.totalChanged == 0, "second run changed: \(again.pairs("changed").sorted())")
        for host in Lab.controllers { #expect(again.changed(on: host) == 0) }
        #expect(!again.results.contains { $0.isHandler }, "a handler ran although nothing changed")
    }

    @Test("a file changed by hand on ctl2: --check reports exactly that and writes nothing; apply fixes only ctl2")
    func checkModeFindsDriftAndWritesNothing() throws {
        let setup = try QuorumCLI.apply(Self.demoPlaybook)
        #expect(setup.status == 0, "setup apply failed:\n\(setup.all)")
        try Lab.exec("ctl2", "echo 'edited by hand' >> /etc/magnum/demo/banner.txt")
        let before = try Lab.controllers.map { try Lab.fingerprint($0) }

        let check = try QuorumCLI.apply(Self.demoPlaybook, ["--check", "--diff"])
        #expect(check.status == 4, "check with drift must exit 4:\n\(check.all)")
        let predicted = try #require(check.report).pairs("changed")
        #expect(predicted == ["ctl2/Banner"], "check predicted \(predicted.sorted())")
        #expect(check.stdout.contains("-edited by hand"), "the diff does not show the hand edit:\n\(check.stdout)")
        let after = try Lab.controllers.map { try Lab.fingerprint($0) }
        #expect(before == after, "check mode changed a controller")

        let apply = try QuorumCLI.apply(Self.demoPlaybook)
        #expect(apply.status == 0)
        #expect(try #require(apply.report).pairs("changed") == predicted, "apply did not do what check predicted")
        #expect(try Lab.output("ctl2", "cat /etc/magnum/demo/banner.txt") == "Managed by Quorum on ctl2\n")
    }
}
