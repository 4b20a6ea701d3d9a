import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Logging
import ServiceLifecycle
import Testing
import WardenCore
import WardenHTTP
import WardenServer
import WardenStorage
import WorkerRuntime

/// The object graph `warden serve` runs: built once, served on a port the kernel picks, and stopped gracefully.
@Suite("The server's composition root")
struct WardenServerTests {
    @Test func theGroupServesOnTheBoundPortAndEveryServiceSeesIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pool = try ExecutorPool(
            configuration: .init(executorCommand: [ScriptRunnerAdapterTests.wardenBinary, "executor"], executors: 1),
            handler: LocalHostCallHandler())
        defer { pool.shutdown() }
        let server = try await WardenServer(
            storage: try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path),
            vault: try SecretVault(masterKey: SecretVault.generateMasterKey()), runner: pool,
            platform: InProcessPlatform(logger: Logger(label: "test")),
            options: .init(workers: WorkerSettings(baseURL: "http://127.0.0.1:0"), blobsFolder: folder.appendingPathComponent("blobs").path),
            engineReady: { pool.isReady })
        try await server.recover()
        let (bound, tellBound) = AsyncStream.makeStream(of: Int.self)
        let group = try server.serviceGroup(runtime: Idle(), host: "127.0.0.1", port: 0) { port in tellBound.yield(port) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var ports = bound.makeAsyncIterator()
            let port = try #require(await ports.next())
            #expect(port > 0)
            // The one address every service reads follows the port the kernel gave.
            #expect(server.address.url == "http://127.0.0.1:\(port)")
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/worker/api/v1/system/liveness"))
            let (data, response) = try await URLSession.shared.data(from: url)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self).contains("OK"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Stands in for the executors' service: lives until the group shuts down.
    struct Idle: Service {
        func run() async throws { try? await gracefulShutdown() }
    }
}
