import Testing

@testable import QuorumCore

@Suite("Inventory diagnostics")
struct InventoryDiagnosticsTests {
    /// The one diagnostic a malformed inventory gives.
    func single(_ name: String, _ text: String, extra: [String: String] = [:]) throws -> Diagnostic {
        let diagnostics = try InventoryFixtures.diagnostics(name, text, extra: extra)
        #expect(diagnostics.count == 1, "\(diagnostics)")
        return try #require(diagnostics.first)
    }

    @Test func badYAMLIndentation() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    web:\n      hosts:\n        w1:\n       bad: 1\n")
        #expect(d.at == "hosts.yml:6:8")
        #expect(d.message.hasPrefix("YAML syntax error: did not find expected key"))
    }

    @Test func tabIndentation() throws {
        let d = try single("hosts.yml", "all:\n  hosts:\n\tw1:\n")
        #expect(d.at == "hosts.yml:3:1")
        #expect(d.message.contains("found character that cannot start any token"))
        #expect(d.hint == "YAML indentation must use spaces, not tabs")
    }

    @Test func unknownKeyUnderAGroupSuggestsHosts() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    web:\n      host:\n        w1:\n")
        #expect(d.at == "hosts.yml:4:7")
        #expect(d.message == "unknown key `host` in group `web`")
        #expect(d.hint == "did you mean `hosts`?")
    }

    @Test func hostWrittenDirectlyUnderAGroup() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    web:\n      web1.example.com:\n")
        #expect(d.at == "hosts.yml:4:7")
        #expect(d.message == "unknown key `web1.example.com` in group `web`")
        #expect(d.hint?.contains("hosts go under `hosts:`") == true)
    }

    @Test func hostsAsAListInsteadOfAMap() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    web:\n      hosts:\n        - w1\n        - w2\n")
        #expect(d.at == "hosts.yml:5:9")
        #expect(d.message == "`hosts` of group `web` must be a map of host names, not a list")
    }

    @Test func groupAsAListInsteadOfAMap() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    web:\n      - w1\n")
        #expect(d.at == "hosts.yml:4:7")
        #expect(d.message == "group `web` must be a map (with `hosts`, `vars` or `children`), not a list")
    }

    @Test func hostVariablesThatAreNotAMap() throws {
        let diagnostics = try InventoryFixtures.diagnostics("hosts.yml", "all:\n  hosts:\n    w1: 10.0.0.1\n    w2: [a]\n")
        #expect(diagnostics.map(\.at) == ["hosts.yml:3:9", "hosts.yml:4:9"])
        #expect(
            diagnostics.map(\.message) == [
                "variables of host `w1` must be a map, not a string",
                "variables of host `w2` must be a map, not a list"
            ])
        #expect(diagnostics[0].hint == "to give its address, write `ansible_host: 10.0.0.1` under it")
    }

    @Test func varsThatAreNotAMapAndTopLevelList() throws {
        let d = try single("hosts.yml", "all:\n  vars:\n    - a=1\n")
        #expect(d.at == "hosts.yml:3:5")
        #expect(d.message == "`vars` of group `all` must be a map, not a list")
        let top = try single("hosts.yml", "- all\n")
        #expect(top.at == "hosts.yml:1:1")
        #expect(top.message.hasPrefix("an inventory must be a map of groups"))
    }

    @Test func cycleInYAMLChildren() throws {
        let d = try single("hosts.yml", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n")
        #expect(d.at == "hosts.yml:7:13")
        #expect(d.message == "group `a` is its own descendant: a → b → a")
    }

    @Test func cycleInINIChildren() throws {
        let d = try single("hosts.ini", "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n")
        #expect(d.at == "hosts.ini:6:1")
        #expect(d.message == "group `a` is its own descendant: a → b → c → a")
    }

    @Test func badINIHostLine() throws {
        let d = try single("hosts.ini", "[web]\nw1 ansible_host=10.0.0.1 ansible_user\n")
        #expect(d.at == "hosts.ini:2:26")
        #expect(d.message == "expected `name=value` after host `w1`, got `ansible_user`")
    }

    @Test func badINIVarsLine() throws {
        let d = try single("hosts.ini", "[web]\nw1\n\n[web:vars]\n  ansible_user\n")
        #expect(d.at == "hosts.ini:5:3")
        #expect(d.message == "expected `name=value` in [web:vars], got `ansible_user`")
    }

    @Test func unterminatedQuoteInINI() throws {
        let d = try single("hosts.ini", "w2 ansible_port=22 motd='oops\n")
        #expect(d.at == "hosts.ini:1:25")
        #expect(d.message == "unterminated single quote")
    }

    @Test func badINISectionHeaders() throws {
        let diagnostics = try InventoryFixtures.diagnostics("hosts.ini", "[web:var]\nx=1\n[db\nd1\n[ok]\no1\n")
        #expect(diagnostics.map(\.at) == ["hosts.ini:1:1", "hosts.ini:3:1"])
        #expect(diagnostics[0].hint == "did you mean `vars`?")
        #expect(diagnostics[1].message == "section header `[db` is missing its closing `]`")
    }

    @Test func invalidHostNamesAndRanges() throws {
        let diagnostics = try InventoryFixtures.diagnostics("hosts.ini", "[web]\nbad!host\nweb[3:1]\n  ansible_user=root\nweb:ssh\n")
        #expect(diagnostics.map(\.at) == ["hosts.ini:2:1", "hosts.ini:3:1", "hosts.ini:4:3", "hosts.ini:5:1"])
        #expect(diagnostics[0].message == "invalid host name `bad!host`: `!` is not allowed in a host name")
        #expect(diagnostics[1].message == "`web[3:1]`: range start is after its end")
        #expect(diagnostics[2].message.contains("looks like a variable"))
        #expect(diagnostics[3].message == "`web:ssh`: the part after `:` must be a port number")
        let yaml = try single("hosts.yml", "all:\n  hosts:\n    \"two words\":\n")
        #expect(yaml.at == "hosts.yml:3:5")
        #expect(yaml.message == "invalid host name `two words`: it contains a space")
    }

    @Test func undefinedChildGroupIsAWarningNotAnError() throws {
        let inventory = try InventoryFixtures.load("hosts.ini", "[web]\nw1\n[site:children]\nweb\nwebb\n")
        #expect(inventory.warnings.count == 1)
        let warning = try #require(inventory.warnings.first)
        #expect(warning.severity == .warning)
        #expect(warning.message == "group `webb` is not defined; it is created empty")
        #expect(warning.hint == "did you mean `web`?")
        #expect(warning.location?.line == 5)
        #expect(inventory.groups["webb"]?.parents == ["site"])
        #expect(inventory.members(of: "site") == ["w1"])
    }

    @Test func varsForAnUndefinedGroupAndHostGroupClashesWarn() throws {
        let inventory = try InventoryFixtures.load("hosts.ini", "[web]\nw1\ndb\n[db]\nd1\n[wbe:vars]\nx=1\n")
        #expect(
            inventory.warnings.map(\.message) == [
                "[wbe:vars] is for a group with no hosts and no children",
                "`db` is both a host and a group; in patterns it means the group"
            ])
        #expect(inventory.warnings.first?.hint == "did you mean `web`?")
        #expect(try inventory.select("db") == ["d1"])
    }

    @Test func groupVarsFileProblems() throws {
        let diagnostics = try InventoryFixtures.diagnostics(
            "hosts.ini", "[web]\nw1\n",
            extra: [
                "group_vars/web.yml": "- not\n- a map\n",
                "host_vars/w1.yml": "a: 1\n  b: 2\n"
            ])
        #expect(diagnostics.map(\.at) == ["group_vars/web.yml:1:1", "host_vars/w1.yml:2:4"])
        #expect(diagnostics[0].message == "a variables file must be a map of names to values, not a list")
        let stray = try InventoryFixtures.load("hosts.ini", "[web]\nw1\n", extra: ["group_vars/wbe.yml": "a: 1\n"])
        #expect(stray.warnings.map(\.hint) == ["did you mean `web`?"])
    }

    @Test func everyProblemIsCollectedBeforeThrowing() throws {
        let diagnostics = try InventoryFixtures.diagnostics(
            "hosts.yml",
            """
            all:
              children:
                web:
                  host:
                    w1:
                db:
                  hosts:
                    - d1
                bad:
                  vars: 3
                  childs:
            """, extra: ["group_vars/web.yml": "a: [unclosed\n"])
        #expect(
            diagnostics.map(\.at) == [
                "hosts.yml:4:7", "hosts.yml:8:9", "hosts.yml:10:13", "hosts.yml:11:7",
                "group_vars/web.yml:2:1"
            ])
        #expect(diagnostics[3].hint == "did you mean `children`?")
        #expect(diagnostics[4].message.hasPrefix("YAML syntax error"))
    }

    @Test func unknownGroupInAPattern() throws {
        let inventory = try Inventory.load(InventoryFixtures.topologyINI)
        let location = SourceLocation(file: "site.yml", line: 2, column: 9)
        let error = try #require(throws: ConfigurationError.self) { try inventory.select("controlers:&databases", at: location) }
        #expect(error.description == "site.yml:2:9: error: no group or host named `controlers` in the inventory (did you mean `controllers`?)")
    }

    @Test func unreadableInventory() throws {
        let error = try #require(throws: ConfigurationError.self) { try Inventory.load("/nonexistent/hosts.yml") }
        #expect(error.diagnostics.first?.at == "/nonexistent/hosts.yml:1:1")
    }
}
