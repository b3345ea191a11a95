import Foundation
import QuorumTesting
import Testing

extension LabTests {
    /// A value that would run commands if it were ever pasted into a shell line unquoted.
    static let hostile = "it's \"quoted\" $(touch /tmp/pwned) `touch /tmp/pwned2` back\\slash; rm -f /nonexistent -- ${HOME} 'end"

    /// The same value as a YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func yamlQuoted(_ text: String) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }

    @Test("hostile variable values are written literally and execute nothing")
    func hostileValuesAreLiteral() throws {
        let multiline = Self.hostile + "\nsecond line\twith tab"
        let ws = try Workspace("hostile")
        defer { ws.remove() }
        for host in Lab.controllers {
            try Lab.exec(host, "rm -rf /etc/magnum/hostile /tmp/pwned /tmp/pwned2")
        }
        let playbook = try ws.write(
            "pb.yml",
            """
            - hosts: controllers
              vars:
                hostile: \(try Self.yamlQuoted(Self.hostile))
                multiline: \(try Self.yamlQuoted(multiline))
                dir: /etc/magnum/hostile
              steps:
                - file: {path: "{{ dir }}", state: directory}
                - name: content
                  copy: {dest: "{{ dir }}/content.txt", content: "{{ multiline }}"}
                - name: path with the value in it
                  copy: {dest: "{{ dir }}/{{ hostile | replace:'/','_' }}", content: "x"}
                - name: ini option
                  ini: {path: "{{ dir }}/h.ini", settings: {s: {opt: "{{ hostile }}"}}}
                - name: line
                  line: {path: "{{ dir }}/lines.txt", line: "{{ hostile }}", create: true}
                - name: command argument
                  command: {cmd: "printf '%s' {{ hostile | quote }} > {{ dir }}/command.txt", creates: "{{ dir }}/command.txt"}
            """)
        let run = try QuorumCLI.apply(playbook)
        #expect(run.status == 0, "\(run.all)")
        for host in Lab.controllers {
            #expect(try Lab.output(host, "cat /etc/magnum/hostile/content.txt") == multiline)
            #expect(try Lab.output(host, "cat /etc/magnum/hostile/command.txt") == Self.hostile)
            #expect(try Lab.output(host, "cat /etc/magnum/hostile/lines.txt") == Self.hostile + "\n")
            #expect(try Lab.output(host, "grep '^opt' /etc/magnum/hostile/h.ini") == "opt = \(Self.hostile)\n")
            let listing = try Lab.output(host, "ls /etc/magnum/hostile")
            #expect(listing.contains(Self.hostile.replacingOccurrences(of: "/", with: "_")), "\(listing)")
            #expect(try Lab.exec(host, "test -e /tmp/pwned || test -e /tmp/pwned2").status != 0, "something ran on \(host)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
        let again = try QuorumCLI.apply(playbook)
        #expect(again.report?.totalChanged == 0, "hostile values are not idempotent: \(again.report?.pairs("changed") ?? [])")
    }
}
