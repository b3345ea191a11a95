import Foundation
import Testing

/// The quick path of magnum-ha.yml's schema probe (playbooks/vars/magnum-schema-probe.yml): `plain_connection`
/// gives magnum.conf's [database] connection only when oslo.config would certainly read that same value, and
/// None (the full path, with oslo.config) for everything it treats specially. Run with the local python3.
@Suite struct MagnumSchemaProbeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The probe's Python definitions (its heredoc, up to the lines that run it).
    static func definitions() throws -> String {
        let text = try String(contentsOf: root.appendingPathComponent("playbooks/vars/magnum-schema-probe.yml"), encoding: .utf8)
        let start = try #require(text.range(of: "<<'PY'\n")).upperBound
        let end = try #require(text.range(of: "\n  try:\n      arguments", range: start..<text.endIndex)).lowerBound
        return text[start..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("  ") ? String($0.dropFirst(2)) : String($0) }.joined(separator: "\n")
    }

    /// `plain_connection` of each magnum.conf text, as Python's repr; `present` are the paths that exist.
    static func plain(_ confs: [String], present: [String] = [], environment: [String] = []) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schema-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var harness = try definitions() + "\n\nimport json\nos.path.exists = lambda path: path in \(json(present))\n"
        for (index, conf) in confs.enumerated() {
            let file = dir.appendingPathComponent("\(index).conf")
            try Data(conf.utf8).write(to: file)
            harness += "print(repr(plain_connection(\(json(file.path)))))\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent"] + environment + ["python3", "-c", harness]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        return output.split(separator: "\n").map(String.init)
    }

    static func json(_ value: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }

    static let plainConf = """
        [DEFAULT]
        # a comment
        host = ctl1

        [database]
        connection = mysql+pymysql://magnum:lab-Pa%4055@10.21.22.2:3306/magnum

        [keystone_authtoken]
        password: x
        """

    @Test("a plain connection line is read, comments, blank lines and other sections around it")
    func plainConnection() throws {
        let noPort = "[database]\nconnection=mysql+pymysql://magnum:p@db.example:x/magnum\n[database]\n"
        #expect(
            try Self.plain([Self.plainConf, noPort.replacingOccurrences(of: ":x/", with: "/")]) == [
                "('magnum', 'lab-Pa%4055', '10.21.22.2', '3306', 'magnum')",
                "('magnum', 'p', 'db.example', None, 'magnum')"
            ])
    }

    @Test("what oslo.config reads otherwise, or could, takes the full path")
    func anythingElseTakesTheFullPath() throws {
        let line = "connection = mysql+pymysql://magnum:pw@10.21.22.2:3306/magnum"
        let confs = [
            "[database]\n\(line)\n  continued\n",  // a continuation line
            "[database]\n\(line)\n[database]\n\(line)\n",  // twice: the last one wins in oslo.config
            "[DATABASE]\nconnection = mysql+pymysql://x:y@h/d\n[database]\n\(line)\n",  // a deprecated group
            "[DEFAULT]\nsql_connection = mysql+pymysql://x:y@h/d\n[database]\n\(line)\n",  // a deprecated name
            "[database]\n\(line.replacingOccurrences(of: ":pw@", with: ":p$w@"))\n",  // interpolation
            "[database]\n\(line)?charset=utf8\n",  // URL query
            "[database]\nconnection = \"mysql+pymysql://magnum:pw@10.21.22.2/magnum\"\n",  // quoted
            "[database]\n\(line)\nno separator here\n",  // a line the parser refuses
            "[database]\nconnection = sqlite:////var/lib/magnum.db\n",  // another driver
            "[DEFAULT]\nconfig_source = remote\n[database]\n\(line)\n",  // another source
            "[api]\n\(line)\n"  // not in [database]
        ]
        #expect(try Self.plain(confs) == Array(repeating: "None", count: confs.count))
        #expect(try Self.plain([Self.plainConf], present: ["/etc/magnum/magnum.conf.d"]) == ["None"])
        #expect(try Self.plain([Self.plainConf], environment: ["OS_DATABASE__CONNECTION=sqlite://"]) == ["None"])
    }
}
