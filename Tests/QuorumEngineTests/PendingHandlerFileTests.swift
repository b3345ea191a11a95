import Foundation
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumEngine

/// The pending-handlers file's scripts, run by a real `/bin/sh` on this machine (the controllers run the same
/// scripts through SSHRemote's `change`): the folder is created 0700, the file holds one line per record,
/// records merge with what the host has, clearing removes exact lines, and the file goes when it is empty.
@Suite struct PendingHandlerFileTests {
    static func entry(_ handler: String, step: String = "HAProxy stanza", time: String = "2026-05-01T10:00:00Z") -> PendingHandler {
        PendingHandler(time: time, playbook: "magnum-ha.yml", play: "Magnum's configuration", handler: handler, step: step)
    }

    @Test("record, read, clear on a real shell: 0700 folder, 0600 file, merge, exact removal, no file when empty, no temporary left")
    func scripts() async throws {
        let root = NSTemporaryDirectory() + "quorum-pending-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = PendingHandlerFile(path: root + "/var/lib/quorum/pending-handlers")
        let remote = LocalShellRemote(readsFiles: true)
        #expect(try await file.read(remote).isEmpty)

        let toggle = Self.entry("restart haproxy through Pacemaker")
        let reload = Self.entry("reload haproxy", step: "tab\there, new\nline")
        try await file.record([toggle], on: remote)
        try await file.record([reload], on: remote)
        #expect(try await file.read(remote) == [toggle, Self.entry("reload haproxy", step: "tab here, new line")])
        let folder = try FileManager.default.attributesOfItem(atPath: root + "/var/lib/quorum")
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A line the file holds that is not a record is kept.
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        try ("# kept\n" + text).write(toFile: file.path, atomically: true, encoding: .utf8)

        try await file.clear([toggle], on: remote)
        #expect(try await file.read(remote).map(\.handler) == ["reload haproxy"])
        try await file.clear(try await file.read(remote), on: remote)
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "# kept\n")
        try "".write(toFile: file.path, atomically: true, encoding: .utf8)
        try await file.record([toggle], on: remote)
        try await file.clear([toggle], on: remote)
        #expect(!FileManager.default.fileExists(atPath: file.path), "nothing left: the file is removed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/quorum").isEmpty, "no temporary file left")
    }

    @Test("a record that cannot be written is an error naming the file (the engine turns it into a warning)")
    func unwritable() async throws {
        let root = NSTemporaryDirectory() + "quorum-pending-\(UUID().uuidString.prefix(8))"
        try "not a folder".write(toFile: root, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = PendingHandlerFile(path: root + "/pending-handlers")
        let error = await #expect(throws: StepFailure.self) { try await file.record([Self.entry("x")], on: LocalShellRemote(readsFiles: true)) }
        #expect(error?.message.hasPrefix("cannot record pending handlers in \(root)/pending-handlers") == true)
    }
}
