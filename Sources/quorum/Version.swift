/// Quorum's version: the one place it is declared. scripts/package.sh reads it back from the built binary
/// (`quorum --version`) to name its packages.
enum QuorumVersion {
    static let number = "0.4.0"

    /// The abbreviated git commit the binary was built from, when the build said so. scripts/package.sh
    /// writes `BuildCommit.generated.swift` beside this file and compiles with `-DQUORUM_BAKED_COMMIT`; a
    /// plain `swift build` has neither, so it compiles without it and the commit is unknown.
    static var commit: String? {
        #if QUORUM_BAKED_COMMIT
            bakedCommit
        #else
            nil
        #endif
    }

    /// What `quorum --version` prints, e.g. `quorum 0.4.0 (commit 5afffc9)`.
    static var line: String { "quorum \(number) (commit \(commit ?? "unknown"))" }
}
