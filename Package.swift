// swift-tools-version:6.1
import PackageDescription

/// One settings block for every target, as swift-log does.
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "custody-ledger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "custodyd", targets: ["custodyd"]),
        .executable(name: "custody", targets: ["custody"]),
        .executable(name: "custody-bench", targets: ["custody-bench"]),
        .library(name: "CustodyLedger", targets: ["CustodyLedger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Exact rational origin shares: denominators grow with every mix, beyond any fixed-width integer.
        .package(url: "https://github.com/attaswift/BigInt.git", from: "6.0.1"),
    ],
    targets: [
        // System libraries: libsodium (Ed25519, SHA-256) and SQLite.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Wire types, strict JSON and RFC 8785 canonical form. No I/O.
        .target(name: "CustodyModel", swiftSettings: settings),
        // Ed25519 and SHA-256 over libsodium; key files.
        .target(name: "CustodyCrypto", dependencies: ["CSodium"], swiftSettings: settings),
        // RFC 9162 Merkle tree, hash chain, proofs, C2SP checkpoints and signed notes. No I/O.
        .target(name: "CustodyLog", dependencies: ["CustodyCrypto"], swiftSettings: settings),
        // The custody domain: participants, roles, keys, the event catalogue and its rules, as pure functions.
        .target(name: "CustodyDomain", dependencies: ["CustodyModel", "CustodyCrypto", "CustodyLog"], swiftSettings: settings),
        // SQLite storage of the log: entries, tree nodes, checkpoints.
        .target(name: "CustodyStore", dependencies: ["CSQLite", "CustodyModel", "CustodyLog", "CustodyDomain"], swiftSettings: settings),
        // Admission (parse, canonicalize, verify), group commit, and the offline auditor.
        .target(
            name: "CustodyLedger",
            dependencies: [
                "CustodyModel",
                "CustodyDomain",
                "CustodyStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        // HTTP API over the ledger.
        .target(
            name: "CustodyServer",
            dependencies: [
                "CustodyLedger",
                "CustodyProjections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: settings
        ),
        // Derived views over the log (provenance, lineage, origin composition, as-of) and the sourcing-policy engine.
        .target(
            name: "CustodyProjections",
            dependencies: [
                "CustodyModel", "CustodyCrypto", "CustodyLog", "CustodyDomain", "CustodyStore", "CustodyLedger",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Policies")],
            swiftSettings: settings
        ),
        // HTTP client used by the CLI and the integration tests.
        .target(name: "CustodyClient", dependencies: ["CustodyLedger", "CustodyProjections"], swiftSettings: settings),
        // Deterministic, realistic signed workloads (custody simulate, benchmarks, tests).
        .target(
            name: "CustodySimulation",
            dependencies: ["CustodyLedger", "CustodyDomain", "CustodyCrypto", "CustodyModel"],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "custodyd",
            dependencies: [
                "CustodyServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "custody",
            dependencies: [
                "CustodyClient",
                "CustodyDomain",
                "CustodySimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "custody-bench",
            dependencies: ["CustodyServer", "CustodyClient", "CustodyStore", "CSodium", "CSQLite", "CustodySimulation", "CustodyProjections"],
            swiftSettings: settings
        ),

        .testTarget(name: "CustodyModelTests", dependencies: ["CustodyModel"], resources: [.copy("Fixtures")], swiftSettings: settings),
        .testTarget(name: "CustodyCryptoTests", dependencies: ["CustodyCrypto"], swiftSettings: settings),
        .testTarget(name: "CustodyLogTests", dependencies: ["CustodyLog"], resources: [.copy("Fixtures")], swiftSettings: settings),
        .testTarget(name: "CustodyLedgerTests", dependencies: ["CustodyLedger", "CustodyDomain", "CustodyStore", "CSQLite"], swiftSettings: settings),
        .testTarget(
            name: "CustodyProjectionsTests",
            dependencies: ["CustodyProjections", "CustodyLedger", "CustodyDomain", "CustodyStore", "CustodySimulation"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "CustodyIntegrationTests",
            dependencies: ["CustodyServer", "CustodyClient", "CustodyDomain", "CustodyProjections"],
            swiftSettings: settings
        ),
    ]
)
