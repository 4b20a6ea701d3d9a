// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Warden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "warden", targets: ["warden"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // /metrics: the parts record through swift-metrics; the server exports them in Prometheus's text form.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The system JavaScriptCore (WebKitGTK build) plus the exported-but-private symbols we rely on.
        .systemLibrary(
            name: "CJavaScriptCore",
            pkgConfig: "javascriptcoregtk-4.1",
            providers: [.apt(["libjavascriptcoregtk-4.1-dev"])]
        ),
        // posix_spawn with a closed descriptor table: Swift cannot reach the glibc extension directly.
        .target(name: "CWardenSystem"),
        .target(
            name: "JavaScriptSandbox",
            dependencies: ["CJavaScriptCore"]
        ),
        // What crosses between the core and the runtime: a run's plan and its record, host calls, and the text helpers
        // both sides use. Values only, on Foundation alone: the core sees no process and no JavaScriptCore.
        .target(name: "RunModel"),
        .target(
            name: "WorkerRuntime",
            dependencies: [
                "RunModel",
                "JavaScriptSandbox",
                "CWardenSystem",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "WardenCore",
            dependencies: [
                // The runtime is reached through `ScriptRunner`; only the values of a run are shared with it.
                "RunModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                // The tenant dialect's admin JWTs (HS256 or RS256).
                .product(name: "JWTKit", package: "jwt-kit"),
                // What the core loses (a state or history write, an asynchronous run, a scheduler tick) is logged.
                .product(name: "Logging", package: "swift-log"),
                // The event runner and the scheduler are services of the server's group (graceful shutdown).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Worker runs are counted and timed (/metrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The only target that writes SQL.
        .target(
            name: "WardenStorage",
            dependencies: [
                "WardenCore", "RunModel", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                // The same stores on PostgreSQL, for several servers over one database.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // TLS to PostgreSQL for the first, single connection that checks the URL.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                // Storage errors are counted (/metrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The only target that imports Hummingbird: one route collection per API dialect.
        .target(
            name: "WardenHTTP",
            dependencies: [
                "WardenCore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                // The HTTP server is a service of the server's group.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Run results and host calls (the in-process platform answers workers' platformHttp calls).
                "RunModel",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Swift concurrency's jobs on the server's event loops (`EventLoopExecutor`).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // Requests are counted and timed (/metrics).
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Where the parts meet: the object graph of a server (used by `serve` and the tests), and the executor pool
        // seen as the core's `ScriptRunner`.
        .target(
            name: "WardenServer",
            dependencies: [
                "WardenCore", "WardenStorage", "WardenHTTP", "WorkerRuntime", "RunModel", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The executor pool's and the queues' figures, read when /metrics is scraped.
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        // The commit and build time `warden --version` and `GET /api/version` tell (scripts/build-stamp.sh).
        .plugin(name: "BuildStamp", capability: .buildTool()),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenServer",
                "RunModel",
                "WardenCore",
                "WardenStorage",
                "WardenHTTP",
                "WorkerRuntime",
                "JavaScriptSandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // The metrics backend of `serve`: a registry rendered in Prometheus's text form at /metrics.
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            plugins: ["BuildStamp"]
        ),
        // The tests' own PostgreSQL server (scripts/test-postgres.sh), for the store contract and the replicas' tests.
        .target(name: "WardenTestSupport", path: "Tests/WardenTestSupport"),
        .testTarget(name: "JavaScriptSandboxTests", dependencies: ["JavaScriptSandbox"]),
        .testTarget(name: "RunModelTests", dependencies: ["RunModel"]),
        .testTarget(name: "WorkerRuntimeTests", dependencies: ["WorkerRuntime", "RunModel"]),
        .testTarget(
            name: "WardenCoreTests",
            dependencies: [
                "WardenCore", "RunModel", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "WardenServerTests",
            dependencies: [
                "WardenServer", "WardenCore", "WardenHTTP", "WardenStorage", "WorkerRuntime", "RunModel",
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "WardenStorageTests",
            dependencies: [
                "WardenStorage", "WardenCore", "RunModel", "WardenTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        .testTarget(
            name: "WardenHTTPTests",
            dependencies: [
                "WardenHTTP", "WardenStorage", "WardenCore", "WardenServer", "WorkerRuntime", "RunModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .testTarget(name: "WardenCLITests", dependencies: ["WardenCore", "WardenTestSupport"]),
    ]
)
