import Foundation
import QuorumTesting
import Testing

/// HA plumbing against the lab's real iptables, HAProxy and 3-node Pacemaker cluster (issue 5).
enum HA {
    static var iptablesPlaybook: String { PackageRoot.path + "/playbooks/examples/ha-iptables.yml" }
    static var stanzaPlaybook: String { PackageRoot.path + "/playbooks/examples/ha-haproxy-stanza.yml" }
    static var rollingPlaybook: String { PackageRoot.path + "/playbooks/examples/ha-rolling-restart.yml" }
    static let stanza = "/etc/haproxy/conf.d/180-magnum.cfg"
    static let magnumRule = #"-A INPUT -p tcp -m multiport --dports 9511 -m comment --comment "117 magnum-api" -j ACCEPT"#

    /// The seeded rules, live and in rules.v4.
    static func resetIptables() throws {
        for host in Lab.controllers {
            _ = try Lab.output(host, "cp /etc/iptables/rules.v4.lab-seed /etc/iptables/rules.v4 && iptables-restore -w 5 </etc/iptables/rules.v4")
        }
    }

    static func inputRules(_ host: String) throws -> [String] {
        try Lab.output(host, "iptables -w 5 -S INPUT").split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    /// iptables-save without comments and counters, for comparing a saved file with the live rules.
    static func normalizedSave(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
            .map { $0.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "[0:0]", options: .regularExpression) }
    }

    /// HAProxy's master process on a controller (the oldest haproxy), nil when none runs.
    static func haproxyPid(_ host: String) throws -> String? {
        let out = try Lab.exec(host, "pgrep -o -x haproxy").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return out.isEmpty ? nil : out
    }

    /// No stanza, p_haproxy enabled and haproxy running on every controller (bounded wait).
    static func resetHAProxy() throws {
        for host in Lab.controllers { _ = try Lab.output(host, "rm -f \(stanza) /etc/haproxy/conf.d/.quorum.*; pkill -f '[s]tray[.]cfg'; true") }
        _ = try Lab.output("ctl1", "pcs resource enable p_haproxy --wait=60 >/dev/null && pcs resource cleanup p_haproxy >/dev/null")
        try waitUntil("haproxy running everywhere", seconds: 60) { try Lab.controllers.allSatisfy { try haproxyPid($0) != nil } }
    }

    static func waitUntil(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.3)
        }
        throw TestError("timed out after \(seconds)s waiting for \(what)")
    }
}

extension LabTests {
    @Test("iptables: the rule lands right after 116 on all three, is saved, a second run changes nothing; drift is found by check and restored")
    func haIptablesRulePlacedPersistedAndRestored() throws {
        try HA.resetIptables()
        let first = try QuorumCLI.apply(HA.iptablesPlaybook)
        #expect(first.status == 0, "first apply failed:\n\(first.all)")
        #expect(try #require(first.report).pairs("changed") == ["ctl1/Magnum API rule", "ctl2/Magnum API rule", "ctl3/Magnum API rule"])
        for host in Lab.controllers {
            let rules = try HA.inputRules(host)
            let anchor = try #require(rules.firstIndex { $0.contains(#""116 openvswitch db""#) })
            #expect(rules[anchor + 1] == HA.magnumRule, "\(host): after 116 comes \(rules[anchor + 1])")
            #expect(rules.filter { $0.contains("117 magnum-api") }.count == 1)
            let saved = try Lab.output(host, "cat /etc/iptables/rules.v4")
            let live = try Lab.output(host, "iptables-save")
            #expect(HA.normalizedSave(saved) == HA.normalizedSave(live), "\(host): rules.v4 differs from iptables-save")
        }

        let second = try QuorumCLI.apply(HA.iptablesPlaybook)
        #expect(second.status == 0 && (second.report?.totalChanged ?? -1) == 0, "second run changed something:\n\(second.all)")

        // By hand: moved to the top on ctl2, deleted on ctl3 (rules.v4 untouched on both).
        _ = try Lab.output(
            "ctl2",
            "iptables -w 5 -D INPUT -p tcp -m multiport --dports 9511 -m comment --comment '117 magnum-api' -j ACCEPT && iptables -w 5 -I INPUT 1 -p tcp -m multiport --dports 9511 -m comment --comment '117 magnum-api' -j ACCEPT"
        )
        _ = try Lab.output("ctl3", "iptables -w 5 -D INPUT -p tcp -m multiport --dports 9511 -m comment --comment '117 magnum-api' -j ACCEPT")
        let before = try Lab.controllers.map { try HA.normalizedSave(Lab.output($0, "iptables-save; cat /etc/iptables/rules.v4")) }
        let check = try QuorumCLI.apply(HA.iptablesPlaybook, ["--check", "--diff"])
        #expect(check.status == 4, "check with drift must exit 4:\n\(check.all)")
        #expect(try #require(check.report).pairs("changed") == ["ctl2/Magnum API rule", "ctl3/Magnum API rule"])
        let after = try Lab.controllers.map { try HA.normalizedSave(Lab.output($0, "iptables-save; cat /etc/iptables/rules.v4")) }
        #expect(before == after, "check mode touched the tables or rules.v4")

        let fix = try QuorumCLI.apply(HA.iptablesPlaybook)
        let fixed = try #require(fix.report).pairs("changed")
        #expect(fix.status == 0 && fixed == ["ctl2/Magnum API rule", "ctl3/Magnum API rule"])
        for host in ["ctl2", "ctl3"] {
            let rules = try HA.inputRules(host)
            let anchor = try #require(rules.firstIndex { $0.contains(#""116 openvswitch db""#) })
            #expect(rules[anchor + 1] == HA.magnumRule && rules.filter { $0.contains("117 magnum-api") }.count == 1)
            let saved = try Lab.output(host, "cat /etc/iptables/rules.v4")
            let live = try Lab.output(host, "iptables-save")
            #expect(HA.normalizedSave(saved) == HA.normalizedSave(live))
        }
        try HA.resetIptables()
    }

    @Test("HAProxy stanza: validated whole, HAProxy on VIP:9511 everywhere, one toggle (new pids); second run: no toggle")
    func haStanzaAppliedAndToggledOnce() throws {
        try HA.resetHAProxy()
        let pids = try Lab.controllers.map { try #require(try HA.haproxyPid($0)) }

        let check = try QuorumCLI.apply(HA.stanzaPlaybook, ["--check"])
        #expect(check.status == 4, "check must predict the change:\n\(check.all)")
        #expect(try #require(check.report).results.contains { $0.isHandler && $0.kind == "pcs_resource" && $0.outcome == "changed" })
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == pids, "check mode restarted haproxy")
        #expect(try Lab.exec("ctl1", "test -e \(HA.stanza)").status != 0, "check mode wrote the stanza")

        let started = Date()
        let apply = try QuorumCLI.apply(HA.stanzaPlaybook)
        let seconds = Date().timeIntervalSince(started)
        #expect(apply.status == 0, "apply failed:\n\(apply.all)")
        let report = try #require(apply.report)
        let toggles = report.results.filter { $0.isHandler && $0.kind == "pcs_resource" }
        #expect(toggles.count == 1 && toggles.first?.outcome == "changed", "toggles: \(toggles.map { "\($0.host) \($0.outcome)" })")
        let toggled = report.raw.range(of: #"toggled p_haproxy[^"]*"#, options: .regularExpression).map { String(report.raw[$0]) } ?? "?"
        print("HA: stanza + toggle run took \(String(format: "%.1f", seconds))s; \(toggled)")
        for (host, old) in zip(Lab.controllers, pids) {
            #expect(try Lab.exec(host, "haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d").status == 0)
            #expect(try Lab.output(host, "ss -Hltn 'sport = :9511'").contains("10.21.22.2:9511"), "\(host) does not listen on VIP:9511")
            let new = try HA.haproxyPid(host)
            #expect(new != nil && new != old, "\(host): haproxy pid \(old) -> \(new ?? "none")")
            #expect(try Lab.output(host, "cat \(HA.stanza)").contains("server ctl3 10.21.22.6:9511 check inter 10s fastinter 2s downinter 3s rise 3 fall 3"))
        }

        let after = try Lab.controllers.map { try HA.haproxyPid($0) }
        let second = try QuorumCLI.apply(HA.stanzaPlaybook)
        #expect(second.status == 0 && (second.report?.totalChanged ?? -1) == 0, "second run changed something:\n\(second.all)")
        #expect(!(second.report?.results.contains { $0.isHandler } ?? true), "the toggle ran on a no-change run")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == after, "haproxy restarted on a no-change run")
    }

    @Test("HAProxy stanza with a syntax error: fails with HAProxy's message, old stanza kept, HAProxy untouched, no toggle")
    func haInvalidStanzaNeverReplacesTheOldOne() throws {
        try HA.resetHAProxy()
        let good = try QuorumCLI.apply(HA.stanzaPlaybook)
        #expect(good.status == 0, "setup apply failed:\n\(good.all)")
        let stanzas = try Lab.controllers.map { try Lab.output($0, "sha256sum \(HA.stanza)") }
        let pids = try Lab.controllers.map { try HA.haproxyPid($0) }

        let ws = try Workspace("ha-bad")
        defer { ws.remove() }
        let broken = try ws.write(
            "files/broken.cfg.j2",
            "listen magnum_api\n    bind {{ magnum_vip }}:9511\n    balance roundrobin\n    option httpchk GET /\n    sever ctl1 10.21.22.4:9511 check\n")
        let bad = try QuorumCLI.apply(HA.stanzaPlaybook, ["-e", "magnum_stanza_src=\(broken)"])
        #expect(bad.status == 2, "an invalid stanza must fail the step:\n\(bad.all)")
        let errors = try #require(bad.report).results.compactMap(\.error)
        #expect(errors.count == 3 && errors.allSatisfy { $0.contains("unknown keyword 'sever'") && $0.contains("ALERT") }, "errors: \(errors)")
        #expect(bad.report?.results.contains { $0.isHandler } == false, "the toggle ran after a failed stanza")
        #expect(try Lab.controllers.map { try Lab.output($0, "sha256sum \(HA.stanza)") } == stanzas, "the old stanza was replaced")
        #expect(try Lab.controllers.map { try HA.haproxyPid($0) } == pids, "haproxy was restarted or stopped")
        for host in Lab.controllers {
            #expect(try Lab.output(host, "ls -A /etc/haproxy/conf.d").contains(".quorum") == false, "\(host): temporary file left behind")
        }
    }

    @Test("toggle: a controller whose haproxy will not stop makes the wait time out naming it (exit 2), and HAProxy comes back")
    func haToggleTimesOutNamingTheStuckController() throws {
        try HA.resetHAProxy()
        // A haproxy that Pacemaker does not manage keeps running on ctl2 whatever pcs does.
        _ = try Lab.output(
            "ctl2",
            "printf 'defaults\\n  mode tcp\\n  timeout connect 1s\\n  timeout client 1s\\n  timeout server 1s\\nlisten stray\\n  bind 127.0.0.1:19999\\n' >/tmp/stray.cfg && start-stop-daemon --start --quiet --background --make-pidfile --pidfile /tmp/stray.pid --startas /usr/sbin/haproxy -- -db -f /tmp/stray.cfg"
        )
        defer { _ = try? Lab.exec("ctl2", "pkill -f '[s]tray[.]cfg'") }
        let run = try QuorumCLI.apply(HA.stanzaPlaybook, ["-e", "magnum_haproxy_server_check=check inter 3s rise 3 fall 3", "-e", "haproxy_restart_timeout=5"])
        #expect(run.status == 2, "a stuck controller must fail the run:\n\(run.all)")
        let toggle = try #require(run.report?.results.first { $0.isHandler && $0.kind == "pcs_resource" })
        let error = toggle.error ?? ""
        #expect(error.contains("timed out after 5s: haproxy still running on ctl2"), "error: \(error)")
        #expect(!error.contains("running on ctl1") && !error.contains("on ctl3"), "error names a controller that stopped: \(error)")
        _ = try Lab.exec("ctl2", "pkill -f '[s]tray[.]cfg'")
        try HA.waitUntil("p_haproxy back on every controller", seconds: 60) {
            try Lab.controllers.allSatisfy { try HA.haproxyPid($0) != nil }
        }
    }

    @Test("rolling restart (serial: 1): while one controller restarts, the other two answer")
    func haRollingRestartKeepsTwoControllersServing() throws {
        // (start waits 5 s for the port; a loaded machine may need a second try)
        for host in Lab.controllers {
            _ = try Lab.output(host, "for i in 1 2 3; do service quorum-demo start >/dev/null && exit 0; sleep 1; done; exit 1")
        }
        let pids = try Lab.controllers.map { try Lab.output($0, "cat /run/quorum-demo.pid") }
        let samples = NSTemporaryDirectory() + "quorum-rolling-\(UUID().uuidString).log"
        let flag = samples + ".run"
        _ = FileManager.default.createFile(atPath: flag, contents: Data())
        let poller = Process()
        poller.executableURL = URL(fileURLWithPath: "/bin/bash")
        poller.arguments = [
            "-c",
            #"""
            while [ -e "$1" ]; do
              line=
              for a in 10.21.22.4 10.21.22.5 10.21.22.6; do
                if timeout 0.5 bash -c 'exec 3<>"/dev/tcp/$0/8081"' "$a" 2>/dev/null; then line="$line 1"; else line="$line 0"; fi
              done
              echo "$line" >>"$2"; sleep 0.05
            done
            """#, "poller", flag, samples
        ]
        try poller.run()
        let run = try QuorumCLI.apply(HA.rollingPlaybook)
        try? FileManager.default.removeItem(atPath: flag)
        poller.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: samples) }
        let demoLogs = run.status == 0 ? "" : try Lab.controllers.map { "\($0): " + (try Lab.exec($0, "tail -n 5 /run/quorum-demo.log").stdout) }.joined()
        #expect(run.status == 0, "rolling restart failed:\n\(run.all)\n\(demoLogs)")
        let lines = (try? String(contentsOfFile: samples, encoding: .utf8))?.split(separator: "\n") ?? []
        let down = lines.map { $0.split(separator: " ").filter { $0 == "0" }.count }
        #expect(lines.count > 20, "too few samples: \(lines.count)")
        #expect(down.allSatisfy { $0 <= 1 }, "two controllers were down at once")
        for (index, host) in Lab.controllers.enumerated() {
            #expect(lines.contains { $0.split(separator: " ")[index] == "0" }, "\(host) was never seen down: no restart?")
        }
        let newPids = try Lab.controllers.map { try Lab.output($0, "cat /run/quorum-demo.pid") }
        #expect(zip(pids, newPids).allSatisfy { $0 != $1 }, "not every controller restarted")
        // One controller at a time, in order: ctl1's wait_for before ctl2's stop.
        let order = try #require(run.report).results.map { "\($0.host)/\($0.step)" }
        let ctl1Up = try #require(order.firstIndex(of: "ctl1/Answers again before the next controller"))
        let ctl2Stop = try #require(order.firstIndex(of: "ctl2/Stop"))
        #expect(ctl1Up < ctl2Stop)
    }
}
