import Foundation
import Synchronization
import Testing

/// The project's lab (lab/lab.sh): three controllers in network namespaces. Tests bring it up once per
/// test process (idempotent) and run the built `quorum` binary against it.
enum Lab {
    /// The package root, found from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let controllers = ["ctl1", "ctl2", "ctl3"]
    static let addresses = ["ctl1": "10.21.22.4", "ctl2": "10.21.22.5", "ctl3": "10.21.22.6"]
    static var inventory: String { root + "/inventory/lab.yml" }
    static var stateDirectory: String { root + "/lab/state" }

    private static let started = Mutex(false)

    /// Brings the lab up (once per process); throws with the script's output when it cannot.
    static func ensureUp() throws {
        try started.withLock { done in
            if done { return }
            let result = try Command.run(["bash", root + "/lab/lab.sh", "up"])
            guard result.status == 0 else { throw LabError("lab/lab.sh up failed:\n\(result.stdout)\n\(result.stderr)") }
            done = true
        }
    }

    /// Runs a shell script inside a controller (all its namespaces) and returns what it printed.
    @discardableResult
    static func exec(_ host: String, _ script: String, stdin: String = "") throws -> Command.Result {
        try Command.run(["bash", root + "/lab/lab.sh", "exec", host, "--", "/bin/sh", "-c", script], stdin: stdin)
    }

    /// The stdout of a script that must succeed inside a controller.
    static func output(_ host: String, _ script: String) throws -> String {
        let result = try exec(host, script)
        guard result.status == 0 else { throw LabError("on \(host): `\(script)` exited \(result.status): \(result.stderr)") }
        return result.stdout
    }

    /// A fingerprint of a controller's private directories: every file's path, mode, owner and sha256.
    static func fingerprint(_ host: String, _ directories: [String] = ["/etc/magnum", "/etc/haproxy", "/etc/iptables"]) throws -> String {
        let dirs = directories.map { "'\($0)'" }.joined(separator: " ")
        return try output(host, "find \(dirs) -xdev \\( -type f -o -type d \\) -printf '%p %m %u %g\\n' | sort; find \(dirs) -xdev -type f -print0 | sort -z | xargs -0r sha256sum")
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs local programs and captures their output.
enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ argv: [String], stdin: String = "", environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Read stderr on another thread while this one reads stdout, so a chatty child cannot block.
        let errData = Mutex(Data())
        let errDone = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            let data = errHandle.readDataToEndOfFile()
            errData.withLock { $0 = data }
            errDone.signal()
        }
        let inputHandle = input.fileHandleForWriting
        let stdinBytes = Data(stdin.utf8)
        DispatchQueue.global().async {
            inputHandle.write(stdinBytes)
            try? inputHandle.close()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
    }
}
