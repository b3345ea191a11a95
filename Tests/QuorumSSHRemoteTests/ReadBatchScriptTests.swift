import Foundation
import QuorumCore
import Testing

@testable import QuorumSSHRemote

/// The script behind `SSHRemote.read(_:)`, run locally by `/bin/sh`: every answer must be exactly what the
/// single `readFile` or `stat` script gives for the same path, whatever the file holds.
struct ReadBatchScriptTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "quorum-batch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/sub dir", withIntermediateDirectories: true)
        try "a = 1\nb = 2\n".write(toFile: dir + "/plain.ini", atomically: true, encoding: .utf8)
        try "no newline at the end".write(toFile: dir + "/open", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: dir + "/empty"))
        // NUL bytes, a line that starts like a boundary, and no final newline.
        try Data([0, 1, 0x0A] + Array("quorum-0 0\n\nquorum-".utf8) + [0xFF, 0]).write(to: URL(fileURLWithPath: dir + "/it's binary"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/plain.ini")
        chmod(dir + "/plain.ini", 0o640)
    }

    /// What `/bin/sh -c script` prints and how it exits.
    func shell(_ script: String) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(stdout: Array(stdout), status: process.terminationStatus)
    }

    /// The single call's answer for `read`, from its own script.
    func single(_ read: RemoteRead) throws -> RemoteReadResult {
        switch read {
        case .stat(let path):
            let result = try shell("stat -c '%F|%a|%U|%G' -- \(Shell.quote(path)) 2>/dev/null || true")
            return .stat(RemoteScripts.parseStat(result.stdoutText))
        case .file(let path):
            let result = try shell(RemoteScripts.readFile(path))
            switch result.status {
            case 0: return .file(try RemoteScripts.parseReadFile(result.stdout, path: path))
            case 4: return .file(nil)
            default: return .unanswered
            }
        }
    }

    @Test("each answer of a batch is the single call's, for files of any content, absent paths and directories")
    func answersAsSingleCalls() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = ["plain.ini", "open", "empty", "it's binary", "link", "sub dir", "missing"].map { dir + "/" + $0 }
        let reads = paths.flatMap { [RemoteRead.file($0), .stat($0)] } + [.file(dir + "/plain.ini")]
        let boundary = "quorum-0123456789abcdef"
        let result = try shell(RemoteScripts.readBatch(reads, boundary: boundary))
        let answers = RemoteScripts.parseReadBatch(result.stdout, reads: reads, boundary: boundary)
        #expect(answers.count == reads.count)
        for (read, answer) in zip(reads, answers) {
            #expect(answer == (try single(read)), "\(read)")
        }
        // The directory is not a file: the step reads it alone and reports the cause, as ever.
        #expect(answers[reads.firstIndex(of: .file(dir + "/sub dir"))!] == .unanswered)
        #expect(answers[reads.firstIndex(of: .file(dir + "/missing"))!] == .file(nil))
        #expect(answers[reads.firstIndex(of: .stat(dir + "/sub dir"))!] == .stat(FileInfo(kind: .directory, mode: 0o755, owner: owner, group: group)))
        guard case .file(let binary?) = answers[reads.firstIndex(of: .file(dir + "/it's binary"))!] else {
            Issue.record("the binary file was not answered")
            return
        }
        #expect(binary.content == [0, 1, 0x0A] + Array("quorum-0 0\n\nquorum-".utf8) + [0xFF, 0])
    }

    @Test("an answer cut short leaves the reads after it unanswered, for the steps to make alone")
    func truncatedAnswer() throws {
        let reads: [RemoteRead] = [.file(dir + "/plain.ini"), .file(dir + "/open"), .stat(dir + "/empty")]
        let boundary = "quorum-feedface"
        let full = try shell(RemoteScripts.readBatch(reads, boundary: boundary)).stdout
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The last answer's boundary line is gone (19 bytes) and part of the answer too.
        let cut = Array(full.prefix(full.count - 30))
        let answers = RemoteScripts.parseReadBatch(cut, reads: reads, boundary: boundary)
        #expect(answers.count == 3)
        #expect(answers[0] == (try single(reads[0])))
        #expect(answers[1] == (try single(reads[1])))
        #expect(answers[2] == .unanswered)
    }

    var owner: String { (try? shell("id -un").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "" }
    var group: String { (try? shell("id -gn").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "" }
}
