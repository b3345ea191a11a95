import Foundation
import QuorumTesting
import Synchronization

/// Checks a rendered `magnum.conf` with Magnum's own option definitions (LAB.md, "Validating magnum.conf"):
/// `oslo-config-validator` of a given Magnum release, and for `[keystone_authtoken]`, which the validator
/// skips, lab/tools/check-keystone-authtoken.py against keystonemiddleware's option data.
enum MagnumConf {
    /// Where Magnum's option definitions come from.
    enum Release: String {
        /// PyPI magnum 23.0.0 (2026.2, no `[trust]`) in lab/state/venvs/magnum-validator (lab/venvs.d).
        case magnum23 = "Magnum 23 (2026.2)"
        /// Debian 12's python3-magnum 15.0.1 (2023.1, still has `[trust]`) with Debian's libraries.
        case debianMagnum15 = "Magnum 15 (Debian 12)"

        var bin: String {
            switch self {
            case .magnum23: Lab.stateDirectory + "/venvs/magnum-validator/bin"
            case .debianMagnum15: "/usr/bin"
            }
        }
        var python: String { self == .magnum23 ? bin + "/python" : "/usr/bin/python3" }
    }

    /// Magnum's namespaces (Magnum's generator config names `magnum`, a module that no longer exists).
    static let namespaces = [
        "magnum.conf", "oslo.concurrency", "oslo.db", "oslo.log", "oslo.messaging",
        "oslo.middleware.cors", "oslo.policy", "oslo.service.periodic_task",
        "oslo.service.service", "keystonemiddleware.auth_token"
    ]

    struct Job {
        var label: String
        var text: String
        var release: Release
    }

    struct Verdict {
        var label: String
        var status: Int32
        var output: String
    }

    /// Runs the validator on every job at once (each run is a Python start-up of seconds); results in order.
    static func validate(_ jobs: [Job]) throws -> [Verdict] {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let verdicts = Mutex([Verdict?](repeating: nil, count: jobs.count))
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let job = jobs[index]
            do {
                let file = folder + "/\(index).conf"
                try job.text.write(toFile: file, atomically: true, encoding: .utf8)
                let argv =
                    [job.release.bin + "/oslo-config-validator", "--input-file", file]
                    + namespaces.flatMap { ["--namespace", $0] }
                let result = try Command.run(argv)
                verdicts.withLock { $0[index] = Verdict(label: job.label, status: result.status, output: result.stdout + result.stderr) }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return verdicts.withLock { $0.compactMap { $0 } }
    }

    /// `[keystone_authtoken]` option names of each text against keystonemiddleware's data (one run).
    static func checkAuthtoken(_ texts: [String], release: Release) throws -> Command.Result {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var files: [String] = []
        for (index, text) in texts.enumerated() {
            let file = folder + "/\(index).conf"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        return try Command.run([release.python, PackageRoot.path + "/lab/tools/check-keystone-authtoken.py"] + files)
    }

    private static func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "quorum-magnum-conf-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}
