import Foundation
import Testing

@testable import QuorumSSH

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let path = NSTemporaryDirectory() + "quorum-sshcfg-" + UUID().uuidString.prefix(8)
    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

func configProblems(_ body: () throws -> Void) -> [SSHConfigError.Problem] {
    do {
        try body()
        Issue.record("expected an SSHConfigError")
        return []
    } catch let error as SSHConfigError {
        return error.problems
    } catch {
        Issue.record("expected an SSHConfigError, got \(error)")
        return []
    }
}

@Suite struct SSHConfigParsingTests {
    @Test func firstValueWinsAcrossBlocksAndPatterns() throws {
        let config = try SSHConfig.parse(
            """
            # operators' file
            Host ctl? !ctl9
                HostName %h.dc1.example
                User ops
            Host ctl1 bastion
                User wrong
                Port 2222
            Host *
                User fallback
                Port 22
                UnknownKeyword whatever
                IdentityFile ~/.ssh/id_%r_%h
            """, path: "cfg")
        let ctl1 = config.resolve("ctl1")
        #expect(ctl1.hostName == "ctl1.dc1.example")
        #expect(ctl1.user == "ops")
        #expect(ctl1.port == 2222)
        #expect(ctl1.sources["user"] == "cfg:4")
        #expect(ctl1.identityFiles == ["~/.ssh/id_%r_%h"])
        let ctl9 = config.resolve("ctl9")
        #expect(ctl9.hostName == nil)
        #expect(ctl9.user == "fallback")
        #expect(ctl9.port == 22)
        let other = config.resolve("CTL2")
        #expect(other.hostName == "CTL2.dc1.example")
    }

    @Test func commandLineOptionsWinOverTheFile() throws {
        let config = try SSHConfig.parse("Host ctl1\n  User ops\n  Port 2222\n  IdentityFile /keys/from-config\n", path: "cfg")
        let resolved = config.resolve(
            "ctl1",
            options: [
                SSHOption(keyword: "User", arguments: ["ansible"], origin: "ansible_user"),
                SSHOption(keyword: "IdentityFile", arguments: ["/keys/explicit"], origin: "ansible_ssh_private_key_file")
            ])
        #expect(resolved.user == "ansible")
        #expect(resolved.sources["user"] == "ansible_user")
        #expect(resolved.port == 2222)
        #expect(resolved.identityFiles == ["/keys/explicit", "/keys/from-config"])
    }

    @Test func lexerForms() throws {
        #expect(try SSHConfigLexer.split("  Port=2222") == ["Port", "2222"])
        #expect(try SSHConfigLexer.split("Port = 2222") == ["Port", "2222"])
        #expect(try SSHConfigLexer.split("\tUserKnownHostsFile \"/a b/known\" /c # comment") == ["UserKnownHostsFile", "/a b/known", "/c"])
        #expect(try SSHConfigLexer.split("# only a comment").isEmpty)
        #expect(throws: (any Error).self) { try SSHConfigLexer.split("HostName \"open") }
    }

    @Test func matchHostAllAndUnsupportedCriteria() throws {
        let config = try SSHConfig.parse(
            """
            Host ctl1
                HostName 10.0.0.11
            Match exec "test -f /x"
                User never
            Match host 10.0.0.*,!10.0.0.9 user ops
                Port 2200
            Match all
                User ops
            """, path: "cfg")
        #expect(config.warnings == ["cfg:3: Match exec is not supported by Quorum; this Match block is ignored"])
        // `Match host` sees the HostName; `user` the user known at that point (none yet: the local user).
        let withUser = config.resolve("ctl1", options: [SSHOption(keyword: "User", arguments: ["ops"], origin: "-l")])
        #expect(withUser.port == 2200)
        #expect(config.resolve("ctl1", localUser: "someone").port == nil)
        #expect(config.resolve("ctl1", localUser: "someone").user == "ops")
    }

    @Test func errorsNameFileAndLine() throws {
        let problems = configProblems {
            _ = try SSHConfig.parse(
                "Host\nHost ok\n  Port 70000\n  StrictHostKeyChecking maybe\n  ProxyJump a@:22\n  HostName \"x\n",
                path: "/etc/quorum/ssh.cfg")
        }
        #expect(
            problems.map(\.location) == [
                "/etc/quorum/ssh.cfg:1", "/etc/quorum/ssh.cfg:3", "/etc/quorum/ssh.cfg:4",
                "/etc/quorum/ssh.cfg:5", "/etc/quorum/ssh.cfg:6"
            ])
        #expect(problems[1].message.contains("70000"))
        #expect(problems[1].description.hasPrefix("/etc/quorum/ssh.cfg:3: error: "))
    }

    @Test func includeIsConditionalAndRelativeToDotSSH() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("bastions.conf", "Host bastion\n  User jump\nHost *\n  Port 2022\n")
        try scratch.write("glob-a.conf", "Host a\n  User from-glob\n")
        let main = try scratch.write(
            "config",
            """
            Include \(scratch.path)/glob-*.conf \(scratch.path)/no-such-file.conf
            Host lab-*
                Include \(scratch.path)/bastions.conf
            Host *
                User default
            """)
        let config = try SSHConfig.load(main)
        #expect(config.files.count == 3)
        // Inside `Host lab-*`, the included `Host *` only applies to lab-* names.
        #expect(config.resolve("lab-1").port == 2022)
        #expect(config.resolve("other").port == nil)
        #expect(config.resolve("bastion").user == "default")  // `Host bastion` AND `Host lab-*`: never both
        #expect(config.resolve("a").user == "from-glob")
        let missing = configProblems { _ = try SSHConfig.load(scratch.path + "/absent") }
        #expect(missing.first?.message.contains("does not exist") == true)
        #expect(try SSHConfig.load(scratch.path + "/absent", optional: true).directives.isEmpty)
    }

    @Test func tokens() {
        #expect(
            SSHConfig.expandTokens("%d/.ssh/%r@%h:%p %% %x", ["d": "/home/o", "r": "root", "h": "ctl1", "p": "22"])
                == "/home/o/.ssh/root@ctl1:22 % %x")
    }
}

@Suite struct SSHJumpAndArgumentsTests {
    @Test func jumpSpecs() throws {
        #expect(try SSHJump.parseList("ops@bastion:2222,inner") == [SSHJump(user: "ops", host: "bastion", port: 2222), SSHJump(host: "inner")])
        #expect(try SSHJump.parse("ssh://me@[fd00::1]:2200") == SSHJump(user: "me", host: "fd00::1", port: 2200))
        #expect(try SSHJump.parseList("none").isEmpty)
        #expect(throws: SSHJump.Invalid.self) { try SSHJump.parse("bastion:http") }
        #expect(throws: SSHJump.Invalid.self) { try SSHJump.parse("@bastion") }
        #expect(throws: SSHJump.Invalid.self) { try SSHJump.parse("a:0") }
    }

    @Test func ansibleCommonArgs() throws {
        let parsed = try SSHCommandLine.parse(
            #"-o ProxyJump=ops@bastion -oStrictHostKeyChecking=accept-new -C -q -o "UserKnownHostsFile /k h" -F cfg -J x -p 2200 -l me -i key"#,
            origin: "ansible_ssh_common_args")
        #expect(parsed.configFile == "cfg")
        #expect(parsed.options.map(\.keyword) == ["proxyjump", "stricthostkeychecking", "userknownhostsfile", "proxyjump", "port", "user", "identityfile"])
        #expect(parsed.options[0].arguments == ["ops@bastion"])
        #expect(parsed.options[2].arguments == ["/k", "h"])
        #expect(parsed.options.allSatisfy { $0.origin == "ansible_ssh_common_args" })
        let resolved = SSHConfig().resolve("ctl1", options: parsed.options)
        #expect(resolved.proxyJump == "ops@bastion")  // the first -o wins over the later -J
        #expect(resolved.strictHostKeyChecking == "accept-new")

        let bad = configProblems { _ = try SSHCommandLine.parse("-o ProxyJump=a:b", origin: "ansible_ssh_extra_args") }
        #expect(bad.first?.location == "ansible_ssh_extra_args")
        #expect(!configProblems { _ = try SSHCommandLine.parse("-o 'Port=1", origin: "x") }.isEmpty)
        #expect(!configProblems { _ = try SSHCommandLine.parse("-Z", origin: "x") }.isEmpty)
    }

    @Test func proxyCommandOfTheClassicForm() {
        #expect(SSHCommandLine.jump(fromProxyCommand: "ssh -W %h:%p -q ops@bastion") == SSHJump(user: "ops", host: "bastion"))
        #expect(
            SSHCommandLine.jump(fromProxyCommand: "/usr/bin/ssh -p 2222 -l ops -W %h:%p bastion")
                == SSHJump(user: "ops", host: "bastion", port: 2222))
        #expect(SSHCommandLine.jump(fromProxyCommand: "nc -X connect -x proxy:3128 %h %p") == nil)
        #expect(SSHCommandLine.jump(fromProxyCommand: "ssh -W %h:%p -o Foo=bar bastion") == nil)
    }
}

@Suite struct SSHRoutePlannerTests {
    func planner(_ text: String, home: String = "/home/op") throws -> SSHRoutePlanner {
        SSHRoutePlanner(config: try SSHConfig.parse(text, path: "cfg"), home: home, localUser: "op", agentAvailable: true)
    }

    @Test func proxyJumpChainWithEachHopResolved() throws {
        let planner = try planner(
            """
            Host ctl*
                ProxyJump inner,ops@edge:2201
                User root
            Host inner
                HostName 10.1.0.1
                ProxyJump outer
                IdentityFile /keys/inner
                IdentitiesOnly yes
            Host outer
                HostName outer.example
                User gate
            Host edge
                HostName 10.2.0.1
                ProxyJump ignored-for-later-hops
            """)
        let route = try planner.route(to: "ctl1", name: "ctl1", options: [])
        #expect(route.target.endpoint == SSHEndpoint(host: "ctl1", port: 22, user: "root"))
        // outer (inner's own ProxyJump), inner, edge; edge's own ProxyJump does not apply (it follows inner).
        #expect(route.jumps.map(\.name) == ["outer", "inner", "edge"])
        #expect(
            route.jumps.map(\.endpoint) == [
                SSHEndpoint(host: "outer.example", port: 22, user: "gate"),
                SSHEndpoint(host: "10.1.0.1", port: 22, user: "op"),
                SSHEndpoint(host: "10.2.0.1", port: 2201, user: "ops")
            ])
        // IdentitiesOnly: no agent for inner; a missing config IdentityFile is skipped.
        #expect(route.jumps[1].auth.isEmpty)
        #expect(route.jumps[0].auth.count == 1)  // the agent only (no default keys in /home/op)
        #expect(route.description == "root@ctl1:22 via ops@10.2.0.1:2201 via op@10.1.0.1:22 via gate@outer.example:22")
    }

    @Test func optionsWinAndNoneDisablesTheJump() throws {
        let planner = try planner("Host ctl1\n  ProxyJump bastion\n  Port 2222\n")
        let direct = try planner.route(to: "ctl1", name: "ctl1", options: [SSHOption(keyword: "ProxyJump", arguments: ["none"], origin: "-o")])
        #expect(direct.jumps.isEmpty)
        #expect(direct.target.endpoint.port == 2222)
        let viaOther = try planner.route(to: "ctl1", name: "ctl1", options: [try SSHOption.parse("ProxyJump=ops@other:2200", origin: "-J")])
        #expect(viaOther.jumps.map(\.endpoint) == [SSHEndpoint(host: "other", port: 2200, user: "ops")])
    }

    @Test func loopsAreCaught() throws {
        let planner = try planner("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
        let problems = configProblems { _ = try planner.route(to: "a", name: "a", options: []) }
        #expect(problems.first?.message.contains("loop") == true)
    }

    @Test func proxyCommandBecomesAJumpOrIsRefusedWithItsLocation() throws {
        let planner = try planner("Host ctl1\n  ProxyCommand ssh -q -W %h:%p ops@bastion\nHost ctl2\n  ProxyCommand nc %h %p\n")
        #expect(try planner.route(to: "ctl1", name: "ctl1", options: []).jumps.map(\.endpoint) == [SSHEndpoint(host: "bastion", port: 22, user: "ops")])
        let problems = configProblems { _ = try planner.route(to: "ctl2", name: "ctl2", options: []) }
        #expect(problems.first?.location == "cfg:4")
        #expect(problems.first?.message.contains("not supported") == true)
    }

    @Test func knownHostsFilesAndStrictness() throws {
        let planner = try planner(
            """
            Host a
                UserKnownHostsFile %d/kh/%h none
                GlobalKnownHostsFile /etc/ssh/site_known_hosts
                StrictHostKeyChecking accept-new
                HostKeyAlias a-alias
            Host b
                StrictHostKeyChecking no
            """)
        let a = try planner.route(to: "a", name: "a", options: []).target.hostKeys
        #expect(a.knownHostsFiles == ["/home/op/kh/a", "/etc/ssh/site_known_hosts"])
        #expect(a.recordFile == "/home/op/kh/a")
        #expect(a.acceptNew)
        #expect(a.hostKeyAlias == "a-alias")
        let b = try planner.route(to: "b", name: "b", options: []).target.hostKeys
        #expect(
            b.knownHostsFiles == [
                "/home/op/.ssh/known_hosts", "/home/op/.ssh/known_hosts2",
                "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"
            ])
        #expect(b.acceptNew)  // `no` records unknown keys; a changed key is still refused
        let c = try planner.route(to: "c", name: "c", options: []).target.hostKeys
        #expect(!c.acceptNew)
        var overridden = planner
        overridden.userKnownHostsOverride = ["/inv/known_hosts"]
        #expect(
            try overridden.route(to: "a", name: "a", options: []).target.hostKeys.knownHostsFiles
                == ["/inv/known_hosts", "/etc/ssh/site_known_hosts"])
    }

    @Test func identityFilesExpandTokensAndKeepExplicitOnes() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/.ssh", withIntermediateDirectories: true)
        try scratch.write(".ssh/id_root_10.0.0.11", "not really a key")
        try scratch.write(".ssh/id_ed25519", "default key")
        let planner = try planner(
            "Host ctl1\n  HostName 10.0.0.11\n  IdentityFile ~/.ssh/id_%r_%h\n  IdentityFile ~/.ssh/absent\n",
            home: scratch.path)
        let route = try planner.route(
            to: "ctl1", name: "ctl1",
            options: [
                SSHOption(keyword: "User", arguments: ["root"], origin: "ansible_user"),
                SSHOption(keyword: "IdentityFile", arguments: ["/explicit/missing"], origin: "ansible_ssh_private_key_file")
            ],
            secrets: .init(password: "pw", keyPassphrase: nil))
        let described = route.target.auth.map { method -> String in
            switch method {
            case .keyFile(let path, _): return path
            case .agent: return "agent"
            case .password: return "password"
            }
        }
        #expect(described == ["/explicit/missing", scratch.path + "/.ssh/id_root_10.0.0.11", "agent", "password"])
        // Without any IdentityFile the default keys are used.
        let plain = try planner.route(to: "other", name: "other", options: [])
        #expect(plain.target.auth.count == 2)
    }
}
