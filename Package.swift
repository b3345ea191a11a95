// swift-tools-version: 6.0
import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode plus the strictness the project wants.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // A file sees only the members of modules it imports itself, so each target's list below is what it uses.
    .enableUpcomingFeature("MemberImportVisibility")
]

let orderedCollections: Target.Dependency = .product(name: "OrderedCollections", package: "swift-collections")

let package = Package(
    name: "Quorum",
    // Linux only, so no `platforms:` (SwiftPM has no way to say "Linux only"): the code calls Glibc and uses
    // SOCK_NONBLOCK, and Mutex would need macOS 15 anyway; the macOS 14 this line used to claim was untrue.
    products: [
        .executable(name: "quorum", targets: ["quorum"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3")
    ],
    targets: [
        // libssh2, found through pkg-config and linked; its shim wraps the macros Swift cannot import.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // MariaDB Connector/C and libcurl are not linked but opened when a step first needs them (dlopen,
        // through CSharedLibrary): most runs use neither, and loading them and the 29 libraries they bring
        // cost every run ~9 ms of CPU and ~6 MiB. Their headers come from default-libmysqlclient-dev and
        // libcurl4-openssl-dev.
        .target(name: "CSharedLibrary"),
        .target(name: "CMariaDB", dependencies: ["CSharedLibrary"]),
        .target(name: "CCurl", dependencies: ["CSharedLibrary"]),

        // A serial executor on a dedicated thread, for the blocking calls of the C libraries.
        .target(name: "QuorumThreading", swiftSettings: strict),

        // The SSH transport: sessions, exec, host keys, tunnels.
        .target(
            name: "QuorumSSH",
            dependencies: [
                "CLibSSH2",
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: strict
        ),
        // MySQL/MariaDB through libmysqlclient (MariaDB Connector/C): connections, escaping, queries.
        .target(
            name: "QuorumMySQL",
            dependencies: ["CMariaDB", "QuorumThreading"],
            swiftSettings: strict
        ),
        // Vault files: passphrase-encrypted YAML (scrypt + AES-256-GCM from swift-crypto), the text format;
        // Ansible Vault read (PBKDF2-SHA256 + AES-256-CTR + HMAC-SHA256, also from swift-crypto).
        .target(
            name: "QuorumVault",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto")
            ],
            swiftSettings: strict
        ),
        // The vocabulary every layer speaks: `Value`/`Variables`, `SourceLocation`, did-you-mean hints and
        // shell quoting (one quoting function, shared by the templates' `quote` filter and the Remote contract).
        .target(
            name: "QuorumValues",
            dependencies: [orderedCollections],
            swiftSettings: strict
        ),
        // Strict Jinja-like templating: scanner, block parser, expressions, filters and tests, `include`.
        .target(
            name: "QuorumTemplates",
            dependencies: [
                "QuorumValues",
                orderedCollections,
                // `to_yaml`, `to_nice_yaml`.
                .product(name: "Yams", package: "Yams")
            ],
            swiftSettings: strict
        ),
        // Model, loaders, validation, variables, secrets, and the step-kind contract; re-exports
        // QuorumValues and QuorumTemplates (see Exports.swift).
        .target(
            name: "QuorumCore",
            dependencies: [
                "QuorumValues", "QuorumTemplates", "QuorumVault",
                .product(name: "Yams", package: "Yams"),
                orderedCollections
            ],
            swiftSettings: strict
        ),
        // The HTTP client the Keystone, RabbitMQ and health steps use: libcurl on its own thread, behind HTTPTransport.
        .target(
            name: "QuorumHTTP",
            dependencies: ["CCurl", "QuorumThreading"],
            swiftSettings: strict
        ),
        // One file per step kind.
        .target(
            name: "QuorumSteps",
            dependencies: [
                "QuorumCore", "QuorumMySQL", "QuorumHTTP", orderedCollections,
                // RabbitMQ password hashes are compared locally (SHA-256/512, MD5).
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: strict
        ),
        // The SSH-backed Remote: each operation one command over a QuorumSSH session (become through sudo,
        // atomic writes by a shell script), tunnels per session, every command shown to an observer (`-vv`).
        .target(
            name: "QuorumSSHRemote",
            dependencies: ["QuorumCore", "QuorumSSH"],
            swiftSettings: strict
        ),
        // The engine: connections, plays, batches, handlers, events and reporters.
        .target(
            name: "QuorumEngine",
            dependencies: ["QuorumCore", "QuorumVault", "QuorumSSH", "QuorumSSHRemote", orderedCollections],
            swiftSettings: strict
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "quorum",
            dependencies: [
                "QuorumEngine", "QuorumCore", "QuorumSteps", "QuorumVault", orderedCollections,
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: strict
        ),

        // What the tests share: one fake host, this machine as a host, the built binary's runner, workspaces.
        .target(name: "QuorumTesting", dependencies: ["QuorumCore"], swiftSettings: strict),

        // The commands that contact nothing (validate, doc, inventory, malformed input) through the built binary.
        .testTarget(name: "QuorumCLITests", dependencies: ["QuorumTesting"], swiftSettings: strict),
        .testTarget(
            name: "QuorumCoreTests",
            dependencies: ["QuorumCore", "QuorumSteps", "QuorumVault", "QuorumTesting", orderedCollections, .product(name: "Yams", package: "Yams")],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "QuorumEngineTests",
            dependencies: ["QuorumEngine", "QuorumCore", "QuorumSteps", "QuorumVault", "QuorumHTTP", "QuorumSSH", "QuorumTesting", orderedCollections],
            swiftSettings: strict),
        .testTarget(
            name: "QuorumStepsTests", dependencies: ["QuorumSteps", "QuorumCore", "QuorumHTTP", "QuorumTesting", orderedCollections], swiftSettings: strict),
        // QuorumMySQL: names, grants, the read-only door; with the lab's MariaDB up, real round trips.
        .testTarget(name: "QuorumMySQLTests", dependencies: ["QuorumMySQL", "CSharedLibrary"], swiftSettings: strict),
        .testTarget(name: "QuorumSSHTests", dependencies: ["QuorumSSH", "QuorumTesting"], swiftSettings: strict),
        // The SSH Remote's shell scripts, run by the local /bin/sh.
        .testTarget(name: "QuorumSSHRemoteTests", dependencies: ["QuorumSSHRemote", "QuorumCore", "QuorumTesting"], swiftSettings: strict),
        // Vault format and crypto, and the `quorum vault` commands through the built binary.
        // Fixtures/ansible: Ansible Vault files made by the real ansible-vault (see its README.md).
        .testTarget(
            name: "QuorumVaultTests", dependencies: ["QuorumVault", "QuorumCore", "QuorumSteps", "QuorumTesting", orderedCollections], exclude: ["Fixtures"],
            swiftSettings: strict),
        // Real parts: these bring the project's lab up (lab/lab.sh) and run the built `quorum` against it.
        .testTarget(
            name: "QuorumLabTests",
            dependencies: ["QuorumMySQL", "QuorumTesting"],
            swiftSettings: strict
        )
    ]
)
