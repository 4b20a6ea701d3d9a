import Foundation
import Synchronization
import Testing
import WardenCore

@testable import WardenStorage

/// The artifact and pending-run stores' contract, on SQLite and on PostgreSQL.
@Suite("Store contract: repositories, items, properties, pending runs")
struct ArtifactStoreContractTests {
    func file(_ repo: String, _ path: String, sha: String, size: Int64 = 10, at time: Int64 = 100, by user: String = "ann") -> ArtifactItem {
        ArtifactItem(
            repo: repo, path: path, isFolder: false, size: size, sha256: sha, sha1: "s1-\(sha)", md5: "m-\(sha)", createdAt: time, modifiedAt: time,
            updatedAt: time, createdBy: user, modifiedBy: user)
    }

    /// What `release` was given.
    final class Released: Sendable {
        let hashes = Mutex<[String]>([])
        var sorted: [String] { hashes.withLock { $0.sorted() } }
        func callAsFunction(_ hash: String) { hashes.withLock { $0.append(hash) } }
    }

    @discardableResult
    func put(
        _ item: ArtifactItem, in storage: any Stores, properties: ArtifactProperties? = nil, quota: Int64? = nil, released: Released = Released()
    ) async throws -> ArtifactItem {
        try await storage.putFile(item, properties: properties, quotaBytes: quota, materialize: {}, release: { released($0) })
    }

    @Test(arguments: StoreKind.allCases) func repositoriesAreCreatedOnceUpdatedAndListedByKey(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            #expect(try await storage.createRepository(Repository(key: "libs", description: "d", createdAt: 5)))
            #expect(try await !storage.createRepository(Repository(key: "libs", description: "other")))
            #expect(try await storage.createRepository(Repository(key: "Apps", anonymousRead: true, quotaBytes: 99)))
            #expect(try await storage.repositories().map(\.key) == ["Apps", "libs"])
            #expect(try await storage.repository(key: "libs") == Repository(key: "libs", description: "d", createdAt: 5))
            let root = try #require(try await storage.item(repo: "libs", path: ""))
            #expect(root.isFolder && root.createdBy == "system")
            let changed = try await storage.updateRepository(key: "Apps") { $0.quotaBytes = nil }
            #expect(changed == Repository(key: "Apps", anonymousRead: true))
            #expect(try await storage.repository(key: "Apps") == changed)
            #expect(try await storage.updateRepository(key: "missing") { $0.description = "x" } == nil)
            // The class and the layout are kept, and changed, with the rest.
            let maven = RepositoryLayout(packageType: .maven, handleReleases: false)
            let remote = RepositoryLayout(
                rclass: .remote, packageType: .maven, remote: RemoteSettings(url: "https://repo.example.com/m2", retrievalCachePeriodSecs: 60))
            #expect(try await storage.createRepository(Repository(key: "snapshots", layout: maven)))
            #expect(try await storage.createRepository(Repository(key: "central", layout: remote)))
            #expect(try await storage.repository(key: "snapshots")?.layout == maven)
            #expect(try await storage.repository(key: "central")?.layout == remote)
            let offline = try await storage.updateRepository(key: "central") { $0.layout.remote?.offline = true }
            #expect(try await storage.repository(key: "central") == offline && offline?.layout.remote?.offline == true)
            #expect(try await storage.repository(key: "libs")?.layout == .local)
        }
    }

    @Test(arguments: StoreKind.allCases) func aFileBringsItsFoldersAndReplacingKeepsItsHistory(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            try await put(file("libs", "a/b/one.bin", sha: "h1"), in: storage)
            #expect(try await storage.item(repo: "libs", path: "a")?.isFolder == true)
            #expect(try await storage.children(repo: "libs", path: "a").map(\.path) == ["a/b"])
            try await storage.recordDownloads([
                DownloadRecord(repo: "libs", path: "a/b/one.bin", millis: 200, user: "bob"),
                DownloadRecord(repo: "libs", path: "a/b/one.bin", millis: 300, user: "cid"),
                DownloadRecord(repo: "libs", path: "a/b/one.bin", millis: 250, user: "dan"),
                DownloadRecord(repo: "libs", path: "a/b/missing", millis: 250, user: "dan"),
            ])
            let released = Released()
            let replaced = try await put(file("libs", "a/b/one.bin", sha: "h2", at: 400, by: "eve"), in: storage, released: released)
            #expect(replaced.createdAt == 100 && replaced.createdBy == "ann" && replaced.modifiedBy == "eve")
            #expect(replaced.downloadCount == 3 && replaced.lastDownloaded == 300 && replaced.lastDownloadedBy == "cid")
            #expect(try await storage.item(repo: "libs", path: "a/b/one.bin") == replaced)
            #expect(released.sorted == ["h1"])
            // A folder in the way of a file, a file in the way of a folder.
            await #expect(throws: WardenError.self) { try await put(file("libs", "a", sha: "h3"), in: storage) }
            await #expect(throws: WardenError.self) { try await put(file("libs", "a/b/one.bin/x", sha: "h3"), in: storage) }
            await #expect(throws: WardenError.self) {
                try await storage.putFolder(
                    ArtifactItem(
                        repo: "libs", path: "a/b/one.bin", isFolder: true, createdAt: 1, modifiedAt: 1, updatedAt: 1, createdBy: "a", modifiedBy: "a")
                )
            }
            await #expect(throws: WardenError.self) { try await put(file("gone", "x", sha: "h3"), in: storage) }
            try await storage.putFolder(
                ArtifactItem(repo: "libs", path: "c/d", isFolder: true, createdAt: 1, modifiedAt: 1, updatedAt: 1, createdBy: "a", modifiedBy: "a"))
            try await storage.putFolder(
                ArtifactItem(repo: "libs", path: "c/d", isFolder: true, createdAt: 2, modifiedAt: 2, updatedAt: 2, createdBy: "b", modifiedBy: "b"))
            #expect(try await storage.item(repo: "libs", path: "c/d")?.createdBy == "a")
            #expect(try await storage.referencedBlobs() == ["h2"])
        }
    }

    @Test(arguments: StoreKind.allCases) func descendantsAreTheFolderPrefixOnlyInByteOrder(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            for path in ["a/b/x", "a/b/Y", "a/b%/z", "a/b0", "a/b_c", "a/bb/q", "a/b/c/d"] {
                try await put(file("libs", path, sha: "h-\(path)"), in: storage)
            }
            #expect(try await storage.descendants(repo: "libs", path: "a/b").map(\.path) == ["a/b/Y", "a/b/c", "a/b/c/d", "a/b/x"])
            #expect(try await storage.descendants(repo: "libs", path: "").count == 12)
            let released = Released()
            #expect(try await storage.delete(repo: "libs", path: "a/b", release: { released($0) }))
            #expect(released.sorted == ["h-a/b/Y", "h-a/b/c/d", "h-a/b/x"])
            #expect(try await storage.item(repo: "libs", path: "a/b0") != nil)
            #expect(try await storage.item(repo: "libs", path: "a/b%/z") != nil)
            #expect(try await !storage.delete(repo: "libs", path: "a/b", release: { released($0) }))
        }
    }

    @Test(arguments: StoreKind.allCases) func aBlobIsReleasedOnlyWhenNoItemAnywhereRefersToIt(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "one"))
            _ = try await storage.createRepository(Repository(key: "two"))
            try await put(file("one", "a.bin", sha: "same"), in: storage)
            try await put(file("one", "b.bin", sha: "same"), in: storage)
            try await put(file("two", "c.bin", sha: "same", size: 10), in: storage)
            try await put(file("two", "d.bin", sha: "other", size: 5), in: storage)
            #expect(try await storage.binaries() == (count: 2, bytes: 15))
            let released = Released()
            #expect(try await storage.delete(repo: "one", path: "a.bin", release: { released($0) }))
            try await storage.deleteRepository(key: "one", release: { released($0) })
            #expect(released.sorted.isEmpty)
            try await storage.deleteRepository(key: "two", release: { released($0) })
            #expect(released.sorted == ["other", "same"])
            #expect(try await storage.repository(key: "two") == nil)
            #expect(try await storage.item(repo: "two", path: "c.bin") == nil)
            #expect(try await storage.binaries() == (count: 0, bytes: 0))
        }
    }

    @Test(arguments: StoreKind.allCases) func aSweepWaitsForAnUploadOfTheSameContentBetweenItsRenameAndCommit(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            let renamed = Mutex(false)
            let released = Released()
            // The upload stays a second between its file's rename and its commit (a bounded wait, which needs
            // nothing else to end it).
            async let upload = storage.putFile(
                file("libs", "x", sha: "racing"), properties: nil, quotaBytes: nil,
                materialize: {
                    renamed.withLock { $0 = true }
                    usleep(1_000_000)
                }, release: { _ in })
            while !renamed.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            // The file is in place, its item not committed: a sweep now must wait and then keep it.
            try await storage.releaseIfUnreferenced(["racing", "orphan"]) { released($0) }
            _ = try await upload
            #expect(released.sorted == ["orphan"])
            #expect(try await storage.item(repo: "libs", path: "x") != nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func summariesAndQuotas(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            _ = try await storage.createRepository(Repository(key: "empty"))
            try await put(file("libs", "a/one", sha: "h1", size: 40), in: storage, quota: 100)
            try await put(file("libs", "a/two", sha: "h2", size: 60), in: storage, quota: 100)
            await #expect(throws: WardenError.self) { try await put(file("libs", "b/three", sha: "h3", size: 1), in: storage, quota: 100) }
            // Refused means nothing written: not the file, not its folder.
            #expect(try await storage.item(repo: "libs", path: "b") == nil)
            // Replacing a file counts its new size only.
            try await put(file("libs", "a/two", sha: "h4", size: 50), in: storage, quota: 100)
            #expect(try await storage.usedBytes(repo: "libs") == 90)
            #expect(
                try await storage.summaries() == [
                    RepositorySummary(key: "empty", files: 0, folders: 0, usedBytes: 0),
                    RepositorySummary(key: "libs", files: 2, folders: 1, usedBytes: 90),
                ])
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentUploadsCannotBothPassTheQuota(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        do {
                            try await put(file("libs", "f\(index)", sha: "h\(index)", size: 30), in: storage, quota: 100)
                            return true
                        } catch let error as WardenError where error.code == .tooLarge {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(stored == 3)
            #expect(try await storage.usedBytes(repo: "libs") == 90)
        }
    }

    @Test(arguments: StoreKind.allCases) func propertiesKeepTheirOrderAndSearchReadsThem(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            _ = try await storage.createRepository(Repository(key: "libs"))
            _ = try await storage.createRepository(Repository(key: "other"))
            try await put(file("libs", "a", sha: "h1"), in: storage, properties: ["v": ["3", "1", "2"], "k": ["x"]])
            try await put(file("libs", "b", sha: "h2"), in: storage)
            try await put(file("other", "c", sha: "h3"), in: storage, properties: ["k": ["y"]])
            #expect(try await storage.properties(repo: "libs", path: "a") == ["v": ["3", "1", "2"], "k": ["x"]])
            try await storage.setProperties(repo: "libs", paths: ["a", "b", "gone"], ["k": ["z", "w"]], at: 500)
            #expect(try await storage.properties(repo: "libs", path: "a") == ["v": ["3", "1", "2"], "k": ["z", "w"]])
            #expect(try await storage.properties(repo: "libs", path: "b") == ["k": ["z", "w"]])
            #expect(try await storage.item(repo: "libs", path: "b")?.updatedAt == 500)
            await #expect(throws: WardenError.self) { try await storage.setProperties(repo: "libs", paths: ["gone"], ["k": ["1"]], at: 1) }
            try await storage.deleteProperties(repo: "libs", paths: ["a"], names: ["v", "unknown"], at: 600)
            #expect(try await storage.properties(repo: "libs", path: "a") == ["k": ["z", "w"]])
            #expect(try await storage.item(repo: "libs", path: "a")?.updatedAt == 600)
            let found = try await storage.search(repos: ["other"])
            #expect(found.map(\.0.path) == ["", "c"] || found.map(\.0.path).sorted() == ["", "c"])
            #expect(found.first { $0.0.path == "c" }?.1 == ["k": ["y"]])
            let all = try await storage.search(repos: nil)
            #expect(all.count == 5)
            #expect(all.first { $0.0.repo == "libs" && $0.0.path == "a" }?.1 == ["k": ["z", "w"]])
            #expect(try await storage.search(repos: []).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func pendingRunsAreClaimedOldestFirstWithALeaseAndLeaveWhenFinished(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.enqueue(
                (0..<5).map {
                    PendingRun(workerKey: "w\($0)", dataJSON: "{\"n\":\($0)}", triggeredBy: "ann", depth: $0 % 2, traceID: $0 == 1 ? "request-1" : "")
                })
            let first = try await storage.claim(limit: 3, owner: "a", now: 1_000, until: 2_000)
            #expect(first.map(\.workerKey) == ["w0", "w1", "w2"])
            #expect(first[1].dataJSON == "{\"n\":1}" && first[1].depth == 1 && first[1].triggeredBy == "ann" && first[1].attempts == 1)
            #expect(first.map(\.traceID) == ["", "request-1", ""])
            #expect(try await storage.pendingCount() == 5)
            // Held runs are not taken again while their lease lasts, by anyone.
            let rest = try await storage.claim(limit: 10, owner: "b", now: 1_500, until: 2_500)
            #expect(rest.map(\.workerKey) == ["w3", "w4"])
            #expect(try await storage.claim(limit: 10, owner: "c", now: 1_900, until: 2_900).isEmpty)
            try await storage.finish(id: first[0].id)
            #expect(try await storage.pending(limit: 10).map(\.workerKey) == ["w1", "w2", "w3", "w4"])
            // "a" renews its leases; "b" stopped: its runs are taken again once its lease ended, as a second attempt.
            try await storage.renew(ids: [first[1].id, first[2].id, rest[0].id], owner: "a", until: 5_000)
            let retaken = try await storage.claim(limit: 10, owner: "c", now: 3_000, until: 4_000)
            #expect(retaken.map(\.workerKey) == ["w3", "w4"] && retaken.allSatisfy { $0.attempts == 2 })
            #expect(try await storage.claim(limit: 0, owner: "c", now: 9_000, until: 9_999).isEmpty)
            // A server alone on its database ends every lease at its start.
            try await storage.releaseLeases()
            #expect(try await storage.claim(limit: 10, owner: "d", now: 3_000, until: 4_000).map(\.workerKey) == ["w1", "w2", "w3", "w4"])
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentClaimersNeverShareARun(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            try await storage.enqueue((0..<60).map { PendingRun(workerKey: "w\($0)", dataJSON: "{}", triggeredBy: "ann") })
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for owner in 0..<6 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await storage.claim(limit: 4, owner: "o\(owner)", now: 10, until: 1_000_000)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 60 && Set(claimed).count == 60)
        }
    }
}
