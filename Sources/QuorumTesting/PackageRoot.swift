import Foundation

/// Where the package is on disk, for tests that run the built binary or read the shipped playbooks.
public enum PackageRoot {
    /// The package root, found from this file's path (`Sources/QuorumTesting/PackageRoot.swift`).
    public static let path: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `quorum` binary `swift build` leaves (`swift test` builds it too).
    public static var quorumBinary: String { path + "/.build/debug/quorum" }

    /// The lab's inventory (`inventory/lab.yml`), a file of the repository: reading it needs no lab.
    public static var labInventory: String { path + "/inventory/lab.yml" }
}
