import Foundation
import Testing

/// scripts/swift-toolchain.sh must find the Swift toolchain whatever other program named `swift` sits ahead
/// of it on PATH: Debian's python3-swiftclient (installed with the lab's magnum-api) puts OpenStack's
/// object-store client at /usr/bin/swift, and the README's commands failed on a fresh machine because of it.
@Suite("Swift toolchain script")
struct ToolchainScriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `source scripts/swift-toolchain.sh; <then>` under `env -i` with `path` as PATH.
    func source(path: String, env: [String] = [], then command: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["-i", "PATH=\(path)", "HOME=/root"] + env + [
                "/bin/bash", "-c",
                "cd \"$1\" && source scripts/swift-toolchain.sh && \(command)", "bash", Self.root.path
            ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A stand-in for swiftclient's `swift`: answers every command with its help text and exit 0.
    func foreignSwift() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = "#!/bin/sh\necho 'usage: swift [--version] [--help] [--os-auth-url <auth_url>] <subcommand> ...'\nexit 0\n"
        try Data(script.utf8).write(to: dir.appendingPathComponent("swift"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.appendingPathComponent("swift").path)
        return dir.path
    }

    @Test func aForeignSwiftAheadOnPathIsSkipped() throws {
        let foreign = try foreignSwift()
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        let result = try source(
            path: "\(foreign):/usr/local/bin:/usr/bin:/bin",
            then: "echo \"SWIFT=$SWIFT\"; echo \"first=$(command -v swift)\"; swift build --version")
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("SWIFT=\(foreign)"), "\(result.output)")
        #expect(!result.output.contains("first=\(foreign)"), "\(result.output)")
        #expect(result.output.contains("Swift Package Manager"), "\(result.output)")
    }

    @Test func quorumSwiftNamesTheToolchainFirst() throws {
        let real = try source(path: "/usr/bin:/bin", then: "echo \"$SWIFT\"")
        let toolchain = real.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(real.status == 0 && toolchain.hasSuffix("/swift"), "\(real.output)")
        let foreign = try foreignSwift()
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        // QUORUM_SWIFT naming the foreign client is refused like any other candidate that is no toolchain.
        let named = try source(path: "\(foreign):/usr/bin:/bin", env: ["QUORUM_SWIFT=\(foreign)/swift"], then: "echo \"$SWIFT\"")
        #expect(named.output.trimmingCharacters(in: .whitespacesAndNewlines) == toolchain, "\(named.output)")
    }
}
