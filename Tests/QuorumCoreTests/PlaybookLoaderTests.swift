import Foundation
import QuorumCore
import QuorumSteps
import QuorumTesting
import Testing

/// The playbook loader alone: what a play and its steps become in the model, and where it says things are wrong.
struct PlaybookLoaderTests {
    /// Loads `text` as `pb.yml`; returns the playbook and every diagnostic as printed (paths relative to the workspace).
    static func load(_ text: String) throws -> (playbook: Playbook, diagnostics: [String]) {
        let ws = try Workspace("loader")
        defer { ws.remove() }
        let path = try ws.write("pb.yml", text)
        var diagnostics = DiagnosticCollector()
        let playbook = PlaybookLoader(catalog: StepCatalog.byName).loadCollecting(path, into: &diagnostics)
        return (playbook, diagnostics.diagnostics.map { $0.description.replacingOccurrences(of: ws.path + "/", with: "") })
    }

    @Test("a play's keys and a step's keywords land in the model, with their locations")
    func playAndStepKeywords() throws {
        let (playbook, diagnostics) = try Self.load(
            """
            - name: Magnum
              hosts: controllers
              serial: [1, "50%"]
              become: true
              become_user: magnum
              tags: [magnum]
              vars: {magnum_port: 9511}
              steps:
                - name: configure
                  ini: {path: /etc/magnum/magnum.conf, settings: {api: {port: "{{ magnum_port }}"}}}
                  when: inventory_hostname != 'ctl3'
                  notify: restart api
                  register: conf
                  tags: [conf]
                  no_log: true
                - command: ls
                  loop: [a, b]
                  retries: 3
                  delay: 0.5
              handlers:
                - name: restart api
                  service: {name: magnum-api, state: restarted}
                  listen: [restart apis]
            """)
        #expect(diagnostics == [])
        let play = try #require(playbook.plays.first)
        #expect(play.name == "Magnum" && play.hosts == "controllers")
        #expect(play.serial == [.count(1), .percent(50)])
        #expect(play.become == Become(enabled: true, user: "magnum"))
        #expect(play.tags == ["magnum"])
        #expect(play.vars.map(\.name) == ["magnum_port"] && play.vars.first?.location.line == 7)
        #expect(play.steps.count == 2 && play.handlers.count == 1)
        let configure = play.steps[0]
        #expect(configure.kind == "ini" && configure.name == "configure")
        #expect(configure.when.map(\.value) == ["inventory_hostname != 'ctl3'"])
        #expect(configure.notify == ["restart api"] && configure.register == "conf")
        #expect(configure.tags == ["conf"] && configure.noLog)
        #expect(configure.location.line == 9 && configure.location.column == 7)
        let command = play.steps[1]
        #expect(command.kind == "command" && command.displayName == "command")
        #expect(command.loop?.value == .list([.string("a"), .string("b")]))
        #expect(command.retries == 3 && command.delay == 0.5)
        #expect(play.handlers[0].listen == ["restart apis"])
    }

    @Test("every problem of a file is collected, each at its own line and column")
    func problemsAreCollectedWithLocations() throws {
        let (playbook, diagnostics) = try Self.load(
            """
            - name: one
              hosts: controllers
              tasks: []
            - name: two
              hosts: controllers
              steps:
                - cpoy: {dest: /tmp/x, content: y}
                - file: {path: /tmp/x, mode: nine}
            """)
        #expect(diagnostics.count == 3, "\(diagnostics)")
        #expect(diagnostics.contains { $0.hasPrefix("pb.yml:3:3:") && $0.contains("did you mean `steps`?") }, "\(diagnostics)")
        #expect(diagnostics.contains { $0.hasPrefix("pb.yml:7:7:") && $0.contains("did you mean `copy`?") }, "\(diagnostics)")
        #expect(diagnostics.contains { $0.hasPrefix("pb.yml:8:34:") && $0.contains("file mode") }, "\(diagnostics)")
        #expect(playbook.plays.count == 2)
    }

    @Test("step keywords read booleans with the arguments' one grammar, and name what is not one")
    func keywordBooleans() throws {
        let (playbook, diagnostics) = try Self.load(
            """
            - hosts: controllers
              become: "yes"
              steps:
                - command: ls
                  no_log: "on"
                  ignore_errors: 0
                - command: ls
                  run_once: maybe
            """)
        #expect(
            diagnostics.count == 1 && diagnostics[0].hasPrefix("pb.yml:8:17:") && diagnostics[0].contains("`run_once` must be true or false"),
            "\(diagnostics)")
        let play = try #require(playbook.plays.first)
        #expect(play.become?.enabled == true)
        #expect(play.steps.first?.noLog == true && play.steps.first?.ignoreErrors == false)
    }

    @Test(
        "what is not a playbook says what it found",
        arguments: [
            ("", "empty"),
            ("name: x\nhosts: y\n", "a playbook is a list of plays"),
            ("[]", "has no plays"),
            ("- just a string", "a play must be a map")
        ])
    func notAPlaybook(_ text: String, _ message: String) throws {
        let (_, diagnostics) = try Self.load(text)
        #expect(diagnostics.count == 1 && diagnostics.allSatisfy { $0.hasPrefix("pb.yml:1:") && $0.contains(message) }, "\(diagnostics)")
    }
}
