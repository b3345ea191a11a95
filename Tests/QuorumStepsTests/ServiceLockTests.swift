import Foundation
import Testing

@testable import QuorumSteps

/// Two actions on one service never interleave on a host (`ServiceStep.serialized`): run here with the real
/// `flock` and a `service` stand-in that records when each action began and ended.
@Suite struct ServiceLockTests {
    /// A folder with a `service` that appends `begin`/`end` lines (with the action) to `log`, sleeping between.
    static func fakeService() throws -> (folder: String, log: String) {
        let folder = NSTemporaryDirectory() + "quorum-service-lock-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let log = folder + "/log"
        let script = "#!/bin/sh\necho \"begin $2\" >> \(log)\nsleep 0.5\necho \"end $2\" >> \(log)\n"
        #expect(FileManager.default.createFile(atPath: folder + "/service", contents: Data(script.utf8), attributes: [.posixPermissions: 0o755]))
        return (folder, log)
    }

    static func start(_ script: String, path: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = ["PATH": path + ":/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts every script at once and waits for all; their exit statuses.
    static func together(_ scripts: [String], path: String) throws -> [Int32] {
        let processes = try scripts.map { try start($0, path: path) }
        return processes.map {
            $0.waitUntilExit()
            return $0.terminationStatus
        }
    }

    @Test("two restarts of one service at once run one after the other; other services are not held")
    func actionsOnOneServiceDoNotInterleave() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/flock") && FileManager.default.fileExists(atPath: "/run/lock"),
            "this test needs flock and /run/lock")
        let (folder, log) = try Self.fakeService()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let name = "quorum-lock-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: "/run/lock/quorum-service.\(name)") }
        let statuses = try Self.together(
            [
                ServiceStep.serialized("service \(name) one", service: name),
                ServiceStep.serialized("service \(name) two", service: name)
            ], path: folder)
        #expect(statuses == [0, 0])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(
            lines.count == 4 && lines[0].hasPrefix("begin") && lines[1].hasPrefix("end") && lines[2].hasPrefix("begin"),
            "the two actions interleaved: \(lines)")
        #expect(lines[0].dropFirst(6) == lines[1].dropFirst(4), "\(lines)")

        // Another service's action is not held by this one's lock: the two overlap.
        try FileManager.default.removeItem(atPath: log)
        let other = "quorum-lock-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: "/run/lock/quorum-service.\(other)") }
        _ = try Self.together(
            [
                ServiceStep.serialized("service \(name) one", service: name),
                ServiceStep.serialized("service \(other) two", service: other)
            ], path: folder)
        let overlapped = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(overlapped.count == 4 && overlapped[0].hasPrefix("begin") && overlapped[1].hasPrefix("begin"), "\(overlapped)")
    }

    @Test("an action whose lock another one holds past the wait fails with flock's status and says so")
    func lockHeldTooLongFails() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"))
        let script = ServiceStep.serialized("true", service: "demo")
        #expect(script.contains("flock -w \(ServiceStep.lockWait) -E \(ServiceStep.lockTimeoutStatus) -o /run/lock/quorum-service.demo true"))
        #expect(try shellAccepts(script))
        // The timeout path, with a short wait: a holder keeps the lock for 3 s, the waiter gives up after 1 s.
        let lock = NSTemporaryDirectory() + "quorum-lock-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: lock) }
        let holder = try Self.start("flock \(lock) sleep 3", path: "/usr/bin")
        Thread.sleep(forTimeInterval: 0.3)
        let waiter = try Self.start(
            script.replacingOccurrences(of: "/run/lock/quorum-service.demo", with: lock)
                .replacingOccurrences(of: "-w \(ServiceStep.lockWait)", with: "-w 1"), path: "/usr/bin")
        waiter.waitUntilExit()
        #expect(waiter.terminationStatus == Int32(ServiceStep.lockTimeoutStatus))
        holder.waitUntilExit()
    }
}
