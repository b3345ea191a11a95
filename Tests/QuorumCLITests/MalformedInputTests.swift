import Foundation
import QuorumTesting
import Testing

/// Malformed playbooks and inventories: each is an error at its file:line:col, exit 1, before any host is
/// contacted. Pure: no lab, no root.
struct MalformedInputTests {
    /// One malformed playbook or inventory and what the error must say.
    struct Malformed: Sendable, CustomStringConvertible {
        var name: String
        var playbook: String?
        var inventory: String?
        /// `file:line:col` that must appear (file is `pb.yml` or `inv.yml`).
        var location: String
        var message: String
        var description: String { name }
    }

    static let goodPlaybook = """
        - name: ok
          hosts: controllers
          steps:
            - command: "true"
        """

    static let malformed: [Malformed] = [
        Malformed(
            name: "bad indentation",
            playbook: """
                - name: x
                  hosts: controllers
                   steps: []
                """, location: "pb.yml:3:", message: "YAML syntax error"),
        Malformed(
            name: "tab indentation", playbook: "- name: x\n  hosts: controllers\n  steps:\n\t- command: ls\n",
            location: "pb.yml:4:", message: "YAML syntax error"),
        Malformed(
            name: "tasks instead of steps",
            playbook: """
                - name: x
                  hosts: controllers
                  tasks:
                    - command: ls
                """, location: "pb.yml:3:3", message: "did you mean `steps`?"),
        Malformed(
            name: "misspelt step kind",
            playbook: """
                - hosts: controllers
                  steps:
                    - name: copy it
                      cpoy: {dest: /tmp/x, content: y}
                """, location: "pb.yml:4:7", message: "did you mean `copy`?"),
        Malformed(
            name: "missing required argument",
            playbook: """
                - hosts: controllers
                  steps:
                    - template: {src: a.j2}
                """, location: "pb.yml:3:17", message: "missing the required argument `dest`"),
        Malformed(
            name: "wrong argument type",
            playbook: """
                - hosts: controllers
                  steps:
                    - file: {path: /tmp/x, state: directory, mode: rwx}
                """, location: "pb.yml:3:52", message: "file mode"),
        Malformed(
            name: "misspelt argument",
            playbook: """
                - hosts: controllers
                  steps:
                    - copy:
                        dest: /tmp/x
                        contnet: hello
                """, location: "pb.yml:5:9", message: "did you mean `content`?"),
        Malformed(
            name: "undefined variable",
            playbook: """
                - hosts: controllers
                  steps:
                    - copy: {dest: /tmp/x, content: "{{ magnum_vpi }}"}
                """, location: "pb.yml:3:", message: "undefined variable `magnum_vpi`"),
        Malformed(
            name: "two kinds in one step",
            playbook: """
                - hosts: controllers
                  steps:
                    - command: ls
                      file: {path: /tmp/x, state: absent}
                """, location: "pb.yml:4:7", message: "exactly one kind"),
        Malformed(
            name: "notify without handler",
            playbook: """
                - hosts: controllers
                  steps:
                    - command: ls
                      notify: restart api
                  handlers:
                    - name: restart apis
                      service: {name: magnum-api, state: restarted}
                """, location: "pb.yml:3:7", message: "names no handler"),
        Malformed(
            name: "bad choice",
            playbook: """
                - hosts: controllers
                  steps:
                    - service: {name: x, state: startd}
                """, location: "pb.yml:3:33", message: "did you mean `started`?"),
        Malformed(
            name: "condition in braces",
            playbook: """
                - hosts: controllers
                  steps:
                    - command: ls
                      when: "{{ inventory_hostname == 'ctl1' }}"
                """, location: "pb.yml:4:13", message: "condition written without"),
        Malformed(
            name: "bad serial",
            playbook: """
                - hosts: controllers
                  serial: many
                  steps: []
                """, location: "pb.yml:2:11", message: "`serial`"),
        Malformed(
            name: "inventory: host instead of hosts",
            inventory: """
                all:
                  children:
                    controllers:
                      host:
                        ctl1: {ansible_host: 127.0.0.1}
                """, location: "inv.yml:4:7", message: "did you mean `hosts`?"),
        Malformed(
            name: "inventory: YAML error",
            inventory: """
                all:
                  hosts:
                    ctl1: {ansible_host: 127.0.0.1
                """, location: "inv.yml:", message: "YAML syntax error")
    ]

    @Test(
        "malformed playbooks and inventories: file:line:col, exit 1, and no connection attempted",
        arguments: malformed)
    func malformedInputIsRejectedBeforeContact(_ input: Malformed) throws {
        let listener = try CountingListener()
        defer { listener.close() }
        let ws = try Workspace("malformed")
        defer { ws.remove() }
        let playbook = try ws.write("pb.yml", input.playbook ?? Self.goodPlaybook)
        let inventory = try ws.write(
            "inv.yml",
            input.inventory ?? """
                all:
                  vars: {ansible_host: 127.0.0.1, ansible_port: \(listener.port), ansible_user: root}
                  children:
                    controllers:
                      hosts: {ctl1: {}, ctl2: {}}
                """)
        let run = try QuorumCLI.run(["apply", playbook, "-i", inventory], environment: QuorumCLI.fixedEnvironment(home: ws.path))
        #expect(run.status == 1, "\(input.name): exit \(run.status)\n\(run.all)")
        let expectedPath = ws.path + "/" + input.location
        #expect(run.stderr.contains(expectedPath), "\(input.name): no `\(input.location)` in:\n\(run.stderr)")
        #expect(run.stderr.contains(input.message), "\(input.name): no `\(input.message)` in:\n\(run.stderr)")
        #expect(listener.accepted == 0, "\(input.name): a connection was attempted")
        #expect(run.report == nil, "\(input.name): a run report was written although nothing ran")
    }

    @Test("all problems of a file are reported together")
    func diagnosticsAreCollected() throws {
        let ws = try Workspace("many")
        defer { ws.remove() }
        let playbook = try ws.write(
            "pb.yml",
            """
            - hosts: controllers
              steps:
                - cpoy: {dest: /tmp/x}
                - file: {path: /tmp/y, mode: nine}
                - template: {src: a.j2}
            """)
        let run = try QuorumCLI.run(
            ["apply", playbook, "-i", PackageRoot.labInventory],
            environment: QuorumCLI.fixedEnvironment(home: ws.path))
        #expect(run.status == 1)
        #expect(run.stderr.contains("3 errors"), "\(run.stderr)")
    }
}
