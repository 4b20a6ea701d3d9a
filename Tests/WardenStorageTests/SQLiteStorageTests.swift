import Foundation
import Testing
import WardenCore
import RunModel

@testable import WardenStorage

/// The store contract, run against SQLite (a PostgreSQL implementation will run the same tests).
@Suite("SQLite storage")
struct SQLiteStorageTests {
    let folder: URL
    let storage: SQLiteStorage

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        storage = try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path)
    }

    func worker(_ key: String, project: String = "") -> StoredWorker {
        StoredWorker(
            worker: Worker(
                key: key, description: "d", sourceCode: "export default async () => 1;", action: .beforeDownload,
                filterCriteria: FilterCriteria(artifactFilterCriteria: ArtifactFilter(repoKeys: ["libs"], includePatterns: ["**/*.jar"])),
                properties: [("b", "2"), ("a", "1")], projectKey: project, version: WorkerVersion(versionNumber: "1.0"), modifiedAt: 5,
                modifiedBy: "admin"),
            sealedSecrets: ["token": Data([1, 2, 3])])
    }

    @Test func workersRoundTripWithSecretsAndPropertyOrder() async throws {
        try await storage.create(worker("one"))
        let read = try #require(try await storage.worker(key: "one"))
        #expect(read == worker("one"))
        #expect(read.worker.properties.map(\.key) == ["b", "a"])
        #expect(try await storage.worker(key: "two") == nil)
    }

    @Test func creatingAnExistingKeyConflictsAndChangesNothing() async throws {
        try await storage.create(worker("one"))
        var other = worker("one")
        other.worker.description = "changed"
        await #expect(throws: WardenError(.conflict, "worker 'one' already exists")) { try await storage.create(other) }
        #expect(try await storage.worker(key: "one")?.worker.description == "d")
    }

    @Test func updateIsOneTransactionAndThrowingLeavesTheWorkerAsItWas() async throws {
        try await storage.create(worker("one"))
        try await storage.update(key: "one") { stored in
            stored.worker.enabled = false
            stored.sealedSecrets["token"] = nil
            stored.sealedSecrets["other"] = Data([9])
        }
        let read = try #require(try await storage.worker(key: "one"))
        #expect(!read.worker.enabled)
        #expect(read.sealedSecrets == ["other": Data([9])])
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await storage.update(key: "one") { stored in
                stored.worker.description = "half"
                throw Refused()
            }
        }
        #expect(try await storage.worker(key: "one")?.worker.description == "d")
        await #expect(throws: WardenError.self) { try await storage.update(key: "missing") { _ in } }
    }

    @Test func deleteRemovesSecretsAndState() async throws {
        try await storage.create(worker("one"))
        try await storage.save(["n": "1"], of: "one")
        #expect(try await storage.delete(key: "one"))
        #expect(try await !storage.delete(key: "one"))
        #expect(try await storage.worker(key: "one") == nil)
        #expect(try await storage.state(of: "one") == [:])
        try await storage.create(worker("one"))
        #expect(try await storage.worker(key: "one")?.sealedSecrets == ["token": Data([1, 2, 3])])
    }

    func entry(_ worker: String, _ index: Int, testRun: Bool = false, project: String = "") -> HistoryEntry {
        HistoryEntry(
            id: "\(worker)-\(index)", traceID: "t", workerKey: worker, action: "GENERIC_EVENT", projectKey: project, payloadJSON: "{\"i\":\(index)}",
            status: index % 2 == 0 ? .success : .fail, resultJSON: index % 2 == 0 ? "\(index)" : nil,
            error: index % 2 == 0 ? nil : WorkerError(type: "Error", message: "m\(index)", line: index), logs: "l", stats: RunStats(cpuNanos: 1),
            startMillis: Int64(index), endMillis: Int64(index + 1), triggeredBy: "admin", testRun: testRun, executedVersion: "v")
    }

    @Test func historyIsNewestFirstWithFiltersPagingAndPruning() async throws {
        for index in 0..<10 { try await storage.append(entry("a", index, testRun: index == 9)) }
        for index in 0..<3 { try await storage.append(entry("b", index, project: "p")) }
        let newest = try await storage.entries(HistoryQuery(workerKey: "a", limit: 3))
        #expect(newest.map(\.id) == ["a-8", "a-7", "a-6"])
        #expect(newest[1].error == WorkerError(type: "Error", message: "m7", line: 7))
        #expect(try await storage.entries(HistoryQuery(workerKey: "a", includeTestRuns: true, limit: 1)).map(\.id) == ["a-9"])
        #expect(try await storage.entries(HistoryQuery(workerKey: "a", limit: 2, offset: 2)).map(\.id) == ["a-6", "a-5"])
        #expect(try await storage.entries(HistoryQuery(projectKey: "p")).map(\.id) == ["b-2", "b-1", "b-0"])
        try await storage.prune(workerKey: "a", keep: 4)
        #expect(try await storage.entries(HistoryQuery(workerKey: "a", includeTestRuns: true)).map(\.id) == ["a-9", "a-8", "a-7", "a-6"])
        #expect(try await storage.entries(HistoryQuery(workerKey: "b")).count == 3)
    }

    @Test func stateAndTokens() async throws {
        try await storage.save(["k": "v"], of: "w")
        try await storage.save(["k": "v2", "x": "y"], of: "w")
        #expect(try await storage.state(of: "w") == ["k": "v2", "x": "y"])
        let token = TokenRecord(id: "t1", name: "ci", hash: TokenRecord.hash(of: "secret"), scope: .projectAdmin("p1"), createdAt: 1)
        try await storage.create(token)
        #expect(try await storage.token(hash: TokenRecord.hash(of: "secret")) == token)
        #expect(try await storage.revoke(id: "t1"))
        #expect(try await storage.token(hash: TokenRecord.hash(of: "secret")) == nil)
    }

    @Test func dataSurvivesReopening() async throws {
        try await storage.create(worker("kept"))
        let reopened = try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path)
        #expect(try await reopened.worker(key: "kept") == worker("kept"))
    }
}
