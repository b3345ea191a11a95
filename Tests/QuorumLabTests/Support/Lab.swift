import Foundation
import QuorumTesting
import Synchronization
import Testing

/// The project's lab (lab/lab.sh): three controllers in network namespaces. Tests bring it up once per
/// test process (idempotent) and run the built `quorum` binary against it.
enum Lab {

    static let controllers = ["ctl1", "ctl2", "ctl3"]
    static let addresses = ["ctl1": "10.21.22.4", "ctl2": "10.21.22.5", "ctl3": "10.21.22.6"]
    static var inventory: String { PackageRoot.labInventory }
    static var stateDirectory: String { PackageRoot.path + "/lab/state" }

    private static let started = Mutex(false)

    /// Brings the lab up (once per process); throws with the script's output when it cannot.
    static func ensureUp() throws {
        try started.withLock { done in
            if done { return }
            let result = try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "up"])
            guard result.status == 0 else { throw TestError("lab/lab.sh up failed:\n\(result.stdout)\n\(result.stderr)") }
            done = true
        }
    }

    /// Runs a shell script inside a controller (all its namespaces) and returns what it printed.
    @discardableResult
    static func exec(_ host: String, _ script: String, stdin: String = "") throws -> Command.Result {
        try Command.run(["bash", PackageRoot.path + "/lab/lab.sh", "exec", host, "--", "/bin/sh", "-c", script], stdin: stdin)
    }

    /// The stdout of a script that must succeed inside a controller.
    static func output(_ host: String, _ script: String) throws -> String {
        let result = try exec(host, script)
        guard result.status == 0 else { throw TestError("on \(host): `\(script)` exited \(result.status): \(result.stderr)") }
        return result.stdout
    }

    /// A fingerprint of a controller's private directories: every file's path, mode, owner and sha256.
    static func fingerprint(_ host: String, _ directories: [String] = ["/etc/magnum", "/etc/haproxy", "/etc/iptables"]) throws -> String {
        let dirs = directories.map { "'\($0)'" }.joined(separator: " ")
        return try output(
            host,
            "find \(dirs) -xdev \\( -type f -o -type d \\) -printf '%p %m %u %g\\n' | sort; find \(dirs) -xdev -type f -print0 | sort -z | xargs -0r sha256sum")
    }
}
