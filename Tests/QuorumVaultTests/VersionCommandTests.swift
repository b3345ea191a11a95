import Foundation
import QuorumTesting
import Testing

/// `quorum --version` through the built binary. A plain `swift build` bakes in no commit (scripts/package.sh
/// does, and checks the packaged binary's answer itself), so the answer here names the declared version and
/// `commit unknown`.
@Suite("quorum --version through the binary")
struct VersionCommandTests {
    /// The version as Sources/quorum/Version.swift declares it, read from the source: the binary must print that.
    static func declaredVersion() throws -> String {
        let source = try String(contentsOfFile: PackageRoot.path + "/Sources/quorum/Version.swift", encoding: .utf8)
        guard let match = source.firstMatch(of: /static let number = "([^"]+)"/) else {
            throw TestError("no `static let number = \"…\"` in Sources/quorum/Version.swift")
        }
        return String(match.1)
    }

    @Test func printsTheDeclaredVersionAndAnUnknownCommit() throws {
        let declared = try Self.declaredVersion()
        #expect(declared.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil, "\(declared)")
        let scratch = try Scratch()
        let result = try QuorumBinary.run(["--version"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "quorum \(declared) (commit unknown)\n")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }
}
