import Foundation
import QuorumCore
import QuorumTesting
import Testing

@testable import QuorumSSHRemote

/// The script behind `Remote.writeFile`, run locally by `/bin/sh` with `mktemp`, `chown` and `chmod`
/// wrapped so that every state the temporary file passes through is recorded. The lab tests run the same
/// script on the controllers; here each intermediate mode can be seen.
struct AtomicWriteScriptTests {
    struct Run {
        var status: Int32
        var stderr: String
        /// `tool mode path` after each mktemp/chown/chmod on a temporary file.
        var states: [(tool: String, mode: Int)]
    }

    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "quorum-write-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        for tool in ["mktemp", "chown", "chmod"] {
            let real = ["/usr/bin/\(tool)", "/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? tool
            // The wrapped tool's last argument is the file (mktemp prints it); its mode is recorded after.
            let body =
                tool == "mktemp"
                ? "f=$(\(real) \"$@\") || exit 1; printf 'mktemp %s %s\\n' \"$(stat -c %a \"$f\")\" \"$f\" >> \(dir)/log; echo \"$f\""
                : "\(real) \"$@\" || exit 1; for f; do :; done; printf '\(tool) %s %s\\n' \"$(stat -c %a \"$f\")\" \"$f\" >> \(dir)/log"
            try "#!/bin/sh\n\(body)\n".write(toFile: dir + "/bin/" + tool, atomically: true, encoding: .utf8)
            chmod(dir + "/bin/" + tool, 0o755)
        }
    }

    func run(_ path: String, content: String, attributes: FileAttributes, validate: String? = nil) throws -> Run {
        try? FileManager.default.removeItem(atPath: dir + "/log")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", RemoteScripts.writeFile(path, attributes: attributes, validate: validate)]
        process.environment = ["PATH": dir + "/bin:/usr/bin:/bin"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Command.feed(Data(content.utf8), to: input.fileHandleForWriting)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        let states = log.split(separator: "\n").compactMap { line -> (String, Int)? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[2].contains("/.quorum."), let mode = Int(fields[1], radix: 8) else { return nil }
            return (String(fields[0]), mode)
        }
        return Run(status: process.terminationStatus, stderr: stderr, states: states)
    }

    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/etc").filter { $0.hasPrefix(".quorum.") }
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test("a new 0640 file: the temporary file is 0600 from creation and goes straight to 0640")
    func newFileNeverWiderThanItsMode() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/etc/magnum.conf"
        let run = try run(
            path, content: "password = Temp-Secret-1\n", attributes: FileAttributes(mode: 0o640, owner: Privileges.userName, group: Privileges.groupName))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.states.first?.tool == "mktemp" && run.states.first?.mode == 0o600, "\(run.states)")
        #expect(run.states.count >= 3, "the wrappers saw no chown/chmod: \(run.states)")
        for state in run.states { #expect(state.mode & ~0o640 == 0, "the temporary file was \(String(state.mode, radix: 8)) after \(state.tool)") }
        #expect(try mode(path) == 0o640)
        #expect(try leftovers().isEmpty)
    }

    @Test("rewriting a world-readable file as 0640: the temporary file never takes the old 0644")
    func existingLooseFileIsNotCopiedOntoTheTemporary() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/etc/magnum.conf"
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let run = try run(path, content: "password = Temp-Secret-2\n", attributes: FileAttributes(mode: 0o640))
        #expect(run.status == 0, "\(run.stderr)")
        for state in run.states { #expect(state.mode & 0o007 == 0, "the temporary file was \(String(state.mode, radix: 8)) after \(state.tool)") }
        #expect(try mode(path) == 0o640)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "password = Temp-Secret-2\n")
    }

    @Test("without a mode, an existing file's mode is kept (one chmod, from the 0600 temporary)")
    func keepsExistingMode() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/etc/app.conf"
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        let run = try run(path, content: "new\n", attributes: FileAttributes())
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.states.allSatisfy { $0.mode == 0o600 }, "\(run.states)")
        #expect(try mode(path) == 0o600)
    }

    @Test("a failing validate: exit 5, the temporary file (0600 while validated) is removed, the target untouched")
    func failureRemovesTemporary() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/etc/magnum.conf"
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        let run = try run(
            path, content: "password = Temp-Secret-3\n", attributes: FileAttributes(mode: 0o600),
            validate: "stat -c 'validated %a' %s; false")
        #expect(run.status == 5)
        #expect(run.stderr.contains("validated 600"), "\(run.stderr)")
        let left = try leftovers()
        #expect(left.isEmpty, "temporary files left: \(left)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
    }
}
