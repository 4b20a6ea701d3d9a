import Foundation
import Testing
import WardenCore
import RunModel

@testable import WardenStorage

/// The store contract: every test runs on SQLite and on PostgreSQL, each on a new, empty database.
@Suite("Store contract: workers, state, history, tokens, claims")
struct StoreContractTests {
    func worker(_ key: String, project: String = "") -> StoredWorker {
        StoredWorker(
            worker: Worker(
                key: key, description: "d", sourceCode: "export default async () => 1;", action: .beforeDownload,
                filterCriteria: FilterCriteria(artifactFilterCriteria: ArtifactFilter(repoKeys: ["libs"], includePatterns: ["**/*.jar"])),
                properties: [("b", "2"), ("a", "1")], projectKey: project, version: WorkerVersion(versionNumber: "1.0"), modifiedAt: 5,
                modifiedBy: "admin"),
            sealedSecrets: ["token": Data([1, 2, 3])], createdAt: 7, owner: WorkerOwner(name: "ann", isAdmin: false))
    }

    @Test(arguments: StoreKind.allCases) func workersRoundTripWithSecretsAndPropertyOrder(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.create(worker("one"))
            let read = try #require(try await storage.worker(key: "one"))
            #expect(read == worker("one"))
            #expect(read.worker.properties.map(\.key) == ["b", "a"])
            #expect(try await storage.worker(key: "two") == nil)
            try await storage.create(worker("B-upper"))
            try await storage.create(worker("a-lower"))
            // Byte order, as SQLite compares: upper case before lower case.
            #expect(try await (storage as any WorkerStore).all().map(\.worker.key) == ["B-upper", "a-lower", "one"])
        }
    }

    @Test(arguments: StoreKind.allCases) func creatingAnExistingKeyConflictsAndChangesNothing(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.create(worker("one"))
            var other = worker("one")
            other.worker.description = "changed"
            other.sealedSecrets = ["other": Data([4])]
            await #expect(throws: WardenError(.conflict, "worker 'one' already exists")) { try await storage.create(other) }
            #expect(try await storage.worker(key: "one") == worker("one"))
        }
    }

    @Test(arguments: StoreKind.allCases) func updateIsOneTransactionAndThrowingLeavesTheWorkerAsItWas(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.create(worker("one"))
            try await storage.update(key: "one") { stored in
                stored.worker.enabled = false
                stored.sealedSecrets["token"] = nil
                stored.sealedSecrets["other"] = Data([9])
            }
            let read = try #require(try await storage.worker(key: "one"))
            #expect(!read.worker.enabled)
            #expect(read.sealedSecrets == ["other": Data([9])])
            #expect(read.createdAt == 7 && read.owner == WorkerOwner(name: "ann", isAdmin: false))
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
    }

    @Test(arguments: StoreKind.allCases) func concurrentUpdatesOfOneWorkerLoseNone(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.create(worker("count"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await storage.update(key: "count") { stored in
                            stored.worker.modifiedAt += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await storage.worker(key: "count")?.worker.modifiedAt == 25)
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteRemovesSecretsAndState(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.create(worker("one"))
            try await storage.save(["n": "1"], of: "one")
            #expect(try await storage.delete(key: "one"))
            #expect(try await !storage.delete(key: "one"))
            #expect(try await storage.worker(key: "one") == nil)
            #expect(try await storage.state(of: "one") == [:])
            try await storage.create(worker("one"))
            #expect(try await storage.worker(key: "one")?.sealedSecrets == ["token": Data([1, 2, 3])])
        }
    }

    func entry(_ worker: String, _ index: Int, testRun: Bool = false, project: String = "") -> HistoryEntry {
        HistoryEntry(
            id: "\(worker)-\(index)", traceID: "t", workerKey: worker, action: "GENERIC_EVENT", projectKey: project, payloadJSON: "{\"i\":\(index)}",
            status: index % 2 == 0 ? .success : .fail, resultJSON: index % 2 == 0 ? "\(index)" : nil,
            error: index % 2 == 0 ? nil : WorkerError(type: "Error", message: "m\(index)", line: index), logs: "l", stats: RunStats(cpuNanos: 1),
            startMillis: Int64(index), endMillis: Int64(index + 1), triggeredBy: "admin", testRun: testRun, executedVersion: "v")
    }

    @Test(arguments: StoreKind.allCases) func historyIsNewestFirstWithFiltersPagingAndPruning(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            for index in 0..<10 { try await storage.append(entry("a", index, testRun: index == 9)) }
            try await storage.append((0..<3).map { entry("b", $0, project: "p") })
            let newest = try await storage.entries(HistoryQuery(workerKey: "a", limit: 3))
            #expect(newest.map(\.id) == ["a-8", "a-7", "a-6"])
            #expect(newest[1].error == WorkerError(type: "Error", message: "m7", line: 7))
            #expect(newest[0] == entry("a", 8))
            #expect(try await storage.entries(HistoryQuery(workerKey: "a", includeTestRuns: true, limit: 1)).map(\.id) == ["a-9"])
            #expect(try await storage.entries(HistoryQuery(workerKey: "a", limit: 2, offset: 2)).map(\.id) == ["a-6", "a-5"])
            #expect(try await storage.entries(HistoryQuery(projectKey: "p")).map(\.id) == ["b-2", "b-1", "b-0"])
            #expect(try await storage.entry(id: "a-7") == entry("a", 7))
            #expect(try await storage.entry(id: "missing") == nil)
            try await storage.prune(workerKey: "a", keep: 4)
            #expect(try await storage.entries(HistoryQuery(workerKey: "a", includeTestRuns: true)).map(\.id) == ["a-9", "a-8", "a-7", "a-6"])
            #expect(try await storage.entries(HistoryQuery(workerKey: "b")).count == 3)
        }
    }

    @Test(arguments: StoreKind.allCases) func aBatchOfHistoryIsOneTransaction(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.append((0..<1_500).map { entry("big", $0) })
            #expect(try await storage.entries(HistoryQuery(workerKey: "big", limit: 10_000)).count == 1_500)
            // An id seen twice fails the whole batch: nothing of it is kept.
            await #expect(throws: (any Error).self) { try await storage.append([entry("dup", 1), entry("dup", 2), entry("dup", 1)]) }
            #expect(try await storage.entries(HistoryQuery(workerKey: "dup")).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func stateAndTokens(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.save(["k": "v"], of: "w")
            try await storage.save(["k": "v2", "x": "y"], of: "w")
            #expect(try await storage.state(of: "w") == ["k": "v2", "x": "y"])
            let token = TokenRecord(id: "t1", name: "ci", hash: TokenRecord.hash(of: "secret"), scope: .projectAdmin("p1"), createdAt: 1)
            let admin = TokenRecord(
                id: "t0", name: "root", hash: TokenRecord.hash(of: "root"), scope: .admin, createdAt: 1, expiresAt: 99,
                description: "the first [pinned]")
            try await storage.create(token)
            try await storage.create(admin)
            #expect(try await storage.token(hash: TokenRecord.hash(of: "secret")) == token)
            #expect(try await (storage as any TokenStore).all() == [admin, token])
            #expect(try await storage.revoke(id: "t1"))
            #expect(try await !storage.revoke(id: "t1"))
            #expect(try await storage.token(hash: TokenRecord.hash(of: "secret")) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func aScheduleSlotIsClaimedOnceEvenByConcurrentClaimers(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await storage.claim(workerKey: "w", slot: 100) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await storage.claim(workerKey: "w", slot: 101))
            try await storage.forgetClaims(before: 101)
            #expect(try await storage.claim(workerKey: "w", slot: 100))
            #expect(try await !storage.claim(workerKey: "w", slot: 101))
        }
    }

    @Test(arguments: StoreKind.allCases) func theFirstSettingWrittenWinsAndAVaultChecksItsKey(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            #expect(try await storage.setting("s", ifAbsent: Data([1])) == Data([1]))
            #expect(try await storage.setting("s", ifAbsent: Data([2])) == Data([1]))
            let key = SecretVault.generateMasterKey()
            try await SecretVault(masterKey: key).checkKey(against: storage)
            try await SecretVault(masterKey: key).checkKey(against: storage)
            await #expect(throws: WardenError.self) { try await SecretVault(masterKey: SecretVault.generateMasterKey()).checkKey(against: storage) }
        }
    }

    @Test(arguments: StoreKind.allCases) func healthCheckAnswers(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in try await storage.check() }
    }
}

@Suite("SQLite storage")
struct SQLiteStorageTests {
    @Test func dataSurvivesReopening() async throws {
        let path = try temporaryDatabasePath("warden-reopen")
        let stored = StoredWorker(
            worker: Worker(key: "kept", sourceCode: "export default async () => 1;", action: .beforeDownload, modifiedAt: 1, modifiedBy: "a"))
        try await SQLiteStorage(path: path).create(stored)
        #expect(try await SQLiteStorage(path: path).worker(key: "kept") == stored)
    }
}

@Suite("Build store contract")
struct BuildStoreContractTests {
    @Test(arguments: StoreKind.allCases) func buildsAreSavedReplacedListedAndDeleted(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            func record(_ name: String, _ number: String, at millis: Int64, info: String = "{}") -> BuildRecord {
                BuildRecord(name: name, number: number, started: "t\(millis)", startedMillis: millis, infoJSON: info, savedAt: 1, savedBy: "ci")
            }
            try await storage.saveBuild(record("app", "1", at: 10))
            try await storage.saveBuild(record("app", "2", at: 30))
            try await storage.saveBuild(record("app", "10", at: 20))
            try await storage.saveBuild(record("lib/core", "1", at: 5))
            // The same name and number replace the run.
            try await storage.saveBuild(record("app", "1", at: 10, info: #"{"again":true}"#))
            #expect(try await storage.build(name: "app", number: "1")?.infoJSON == #"{"again":true}"#)
            #expect(try await storage.build(name: "app", number: "3") == nil)
            #expect(
                try await storage.buildNames() == [
                    BuildName(name: "app", lastStarted: "t30", lastStartedMillis: 30),
                    BuildName(name: "lib/core", lastStarted: "t5", lastStartedMillis: 5),
                ])
            let runs = try await storage.buildRuns(named: "app")
            #expect(runs.map(\.number) == ["2", "10", "1"])
            #expect(runs.allSatisfy { $0.infoJSON.isEmpty })
            #expect(try await storage.buildRuns(named: "none").isEmpty)
            #expect(try await storage.deleteBuilds(name: "app", number: "10") == 1)
            #expect(try await storage.deleteBuilds(name: "app", number: "10") == 0)
            #expect(try await storage.deleteBuilds(name: "app", number: nil) == 2)
            #expect(try await storage.buildNames().map(\.name) == ["lib/core"])
        }
    }
}
