// swift-tools-version:6.2
import PackageDescription

// Every target builds in Swift 6 language mode with complete strict concurrency (the 6.2
// tools-version default), plus the two upcoming features Hummingbird and SwiftNIO build with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hub", targets: ["hub"]),
        .executable(name: "hub-bench", targets: ["IngestBenchmark"]),
        .executable(name: "hub-routing-bench", targets: ["RoutingBenchmark"]),
        .executable(name: "hub-inbox-bench", targets: ["InboxBenchmark"]),
        .executable(name: "hub-smtp-bench", targets: ["SMTPBenchmark"]),
        .executable(name: "hub-metrics-bench", targets: ["MetricsBenchmark"]),
        .executable(name: "hub-sip-message-bench", targets: ["SIPMessageBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Process setup that must happen first in `main`: the restart with huge pages for malloc
        // (see CHubProcess.h), in C for getenv/setenv/execv and the auxiliary vector.
        .target(name: "CHubProcess"),
        // Plain Sendable value types: the one conversation model. No I/O. (Crypto names kept
        // content by its SHA-256.)
        .target(
            name: "HubModel", dependencies: ["SystemRandomPool", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        // The system's random numbers drawn in blocks (identifiers, SIP tags and branches).
        .target(name: "SystemRandomPool", swiftSettings: swiftSettings),
        // The skills/tier router: a pure, deterministic engine on an injected clock, and its simulator.
        .target(
            name: "HubRouting", dependencies: ["HubModel"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Typed configuration from channels/*.yaml and routing-rules/*.yaml, with line-precise errors.
        .target(
            name: "HubConfig",
            dependencies: ["HubModel", "HubRouting", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Settings of the SQLite library that only C can make (see CSQLiteSettings.h).
        .target(name: "CSQLiteSettings", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The store protocol, its SQLite implementation, migrations, event log and outbox.
        .target(
            name: "HubStore",
            dependencies: ["HubModel", "CSQLiteSettings", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // E-mail on the wire, with no hub types: RFC 5322/MIME parsing and composing, charsets,
        // RFC 2047, the SMTP server (inbound) and client (outbound) on SwiftNIO.
        .target(
            name: "MailCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // SIP on the wire, with no hub types: RFC 3261 messages, URIs, digest authentication, the
        // UDP and TCP transport.
        .target(
            name: "SIPCore",
            dependencies: [
                "SystemRandomPool", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // One adapter per channel kind: provider wire formats, signatures, delivery.
        .target(
            name: "HubChannels",
            dependencies: [
                "HubModel", "HubConfig", "MailCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Ingest, identity, outbox delivery: the hub's behaviour over the store.
        .target(
            name: "HubEngine",
            dependencies: [
                "HubModel", "HubStore", "HubConfig", "HubRouting", "SIPCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird application: webhooks, REST, health; the service group.
        .target(
            name: "HubServer",
            dependencies: [
                "HubModel", "HubConfig", "HubStore", "HubChannels", "HubEngine", "HubRouting", "MailCore", "SIPCore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The agents' web page (plain HTML, CSS and JavaScript, no build step) and the OpenAPI document.
            resources: [.copy("Inbox/Web"), .copy("OpenAPI")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hub",
            dependencies: [
                "HubServer", "HubConfig", "HubStore", "HubModel", "HubEngine", "HubRouting", "SIPCore", "CHubProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the benchmarks that run a hub process share.
        .target(name: "BenchmarkSupport", path: "Benchmarks/BenchmarkSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "IngestBenchmark",
            dependencies: [
                "BenchmarkSupport", "HubModel", "HubEngine", "HubStore", "HubConfig", "HubChannels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/IngestBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "InboxBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/InboxBenchmark",
            swiftSettings: swiftSettings
        ),
        // Metrics reports over a month of events, against a hub process.
        .executableTarget(
            name: "MetricsBenchmark",
            dependencies: [
                "BenchmarkSupport", "HubModel", "HubStore", "HubRouting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/MetricsBenchmark",
            swiftSettings: swiftSettings
        ),
        // MailCore's SMTP listener storing nothing (the ceiling of the hub's listener).
        .executableTarget(
            name: "SMTPBenchmark",
            dependencies: [
                "MailCore", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/SMTPBenchmark",
            swiftSettings: swiftSettings
        ),
        // What one SIP message costs: parse, common headers, a response, serialization.
        .executableTarget(
            name: "SIPMessageBenchmark",
            dependencies: ["SIPCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/SIPMessageBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "RoutingBenchmark",
            dependencies: ["HubModel", "HubRouting", "CHubProcess", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/RoutingBenchmark",
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: a fake provider over real HTTP, temporary directories.
        // posix_spawn for the tests' child processes (see CTestSpawn.h).
        .target(name: "CTestSpawn", path: "Tests/CTestSpawn"),
        .target(
            name: "HubTestSupport",
            dependencies: [
                "HubModel", "CTestSpawn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/HubTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "HubModelTests", dependencies: ["HubModel"], swiftSettings: swiftSettings),
        .testTarget(name: "HubRoutingTests", dependencies: ["HubRouting", "HubModel"], swiftSettings: swiftSettings),
        .testTarget(name: "HubConfigTests", dependencies: ["HubConfig", "HubModel", "HubRouting", "HubChannels"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SIPCoreTests",
            dependencies: ["SIPCore", "HubTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            resources: [.copy("Torture")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MailCoreTests",
            dependencies: [
                "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Corpus")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "HubStoreTests", dependencies: ["HubStore", "HubModel"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HubChannelsTests",
            dependencies: ["HubTestSupport", 
                "HubChannels", "HubModel", "HubConfig", "MailCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubEngineTests",
            dependencies: ["HubTestSupport", "HubEngine", "HubStore", "HubModel", "HubConfig", "HubChannels", "HubRouting", "SIPCore",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HubServerTests",
            dependencies: ["HubTestSupport",
                "HubServer", "HubEngine", "HubStore", "HubModel", "HubConfig", "HubChannels", "MailCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["HubTestSupport",
                "HubModel", "MailCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
