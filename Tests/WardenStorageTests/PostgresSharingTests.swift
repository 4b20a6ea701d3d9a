import Foundation
import Synchronization
import Testing
import WardenCore
import WardenTestSupport

@testable import WardenStorage

/// What several servers over one PostgreSQL database need beyond the store contract: one schema made once, and the
/// changes one server commits told to the others.
@Suite("PostgreSQL shared by several servers")
struct PostgresSharingTests {
    @Test func serversStartingTogetherMakeTheSchemaOnce() async throws {
        let location = try await TestPostgres.shared.freshDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresStorage.self) { group in
            for _ in 0..<4 { group.addTask { try await TestPostgres.connect(location, maximumConnections: 2) } }
            return try await group.reduce(into: [PostgresStorage]()) { $0.append($1) }
        }
        try await stores[0].create(TokenRecord(id: "t", name: "n", hash: "h", scope: .user, createdAt: 1))
        #expect(try await stores[3].token(hash: "h")?.id == "t")
        for store in stores { await store.shutdown() }
    }

    /// What a server heard, collected as it arrives.
    final class Heard: Sendable {
        let changes = Mutex<[StoreChange]>([])
        var list: [StoreChange] { changes.withLock { $0 } }

        /// Waits (up to 10 s) until `condition` holds of what was heard.
        func wait(until condition: ([StoreChange]) -> Bool) async throws {
            for _ in 0..<200 where !condition(list) { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    @Test func eachServerHearsTheChangesTheOthersCommitAndNotItsOwn() async throws {
        let location = try await TestPostgres.shared.freshDatabase()
        let a = try await TestPostgres.connect(location)
        let b = try await TestPostgres.connect(location)
        let (heardByA, heardByB) = (Heard(), Heard())
        let listeners = [(a, heardByA), (b, heardByB)].map { store, heard in
            Task { for await change in store.changes() { heard.changes.withLock { $0.append(change) } } }
        }
        // The listeners connect on their own: until B hears a change made through A.
        for attempt in 0..<100 where !heardByB.list.contains(.workerState(key: "probe")) {
            try await a.save(["n": "\(attempt)"], of: "probe")
            try await Task.sleep(for: .milliseconds(100))
        }
        heardByB.changes.withLock { $0.removeAll() }

        try await a.create(StoredWorker(worker: Worker(key: "w", sourceCode: "x", action: .beforeDownload)))
        _ = try await a.revoke(id: "none")  // nothing revoked: nothing told
        try await a.create(TokenRecord(id: "t1", name: "n", hash: "h1", scope: .user, createdAt: 1))
        _ = try await a.revoke(id: "t1")
        _ = try await a.createRepository(Repository(key: "libs"))
        try await a.putFolder(
            ArtifactItem(repo: "libs", path: "f", isFolder: true, createdAt: 1, modifiedAt: 1, updatedAt: 1, createdBy: "a", modifiedBy: "a"))
        try await a.deleteSession(tokenHash: "s")
        _ = try await a.savePermissionTarget(PermissionTarget(name: "p", repositories: ["libs"]))
        try await a.enqueue([PendingRun(workerKey: "w", dataJSON: "{}", triggeredBy: "x")])
        // A write that fails tells nothing.
        await #expect(throws: (any Error).self) {
            try await a.create(StoredWorker(worker: Worker(key: "w", sourceCode: "y", action: .beforeDownload)))
        }
        _ = try await a.delete(key: "w")
        let expected: [StoreChange] = [
            .workers, .token(id: "t1"), .repositories, .items(repo: "libs"), .session(tokenHash: "s"), .permissions, .pendingRuns, .workers,
            .workerState(key: "w"),
        ]
        try await heardByB.wait { $0.count >= expected.count }
        #expect(heardByB.list.filter { $0 != .workerState(key: "probe") } == expected)
        // A server never hears its own changes.
        #expect(heardByA.list.isEmpty)
        for listener in listeners { listener.cancel() }
        await a.shutdown()
        await b.shutdown()
    }
}
