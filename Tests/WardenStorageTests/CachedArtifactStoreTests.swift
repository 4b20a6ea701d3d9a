import Foundation
import Testing

@testable import WardenCore
@testable import WardenStorage

/// Items from memory (issue 13), over the real store: a known item is not read again until it is a second old, so
/// a change made beside the cache is seen only then; every write through the cache is seen on the very next read.
@Suite("Items from memory")
struct CachedArtifactStoreTests {
    let storage: SQLiteStorage
    let clock = ManualClock()
    let cache: CachedArtifactStore

    init() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-items-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        storage = try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path)
        cache = CachedArtifactStore(storage, clock: clock.read)
        #expect(try await cache.createRepository(Repository(key: "libs")))
        try await put("a/one.jar", sha256: "1111")
    }

    func put(_ path: String, sha256: String, through store: (any ArtifactStore)? = nil) async throws {
        let item = ArtifactItem(
            repo: "libs", path: path, isFolder: false, size: 3, sha256: sha256, createdAt: 1, modifiedAt: 1, updatedAt: 1, createdBy: "u",
            modifiedBy: "u")
        try await (store ?? cache).putFile(item, properties: nil, quotaBytes: nil, materialize: {}, release: { _ in })
    }

    func one() async throws -> ArtifactItem? { try await cache.item(repo: "libs", path: "a/one.jar") }

    @Test func aChangeBesideTheCacheIsSeenOnceTheItemIsASecondOld() async throws {
        #expect(try await one()?.downloadCount == 0)
        try await storage.recordDownloads([DownloadRecord(repo: "libs", path: "a/one.jar", millis: 5, user: "u")])
        #expect(try await one()?.downloadCount == 0)
        clock.advance(seconds: 1)
        #expect(try await one()?.downloadCount == 1)
    }

    @Test func countedDownloadsAreSeenAtOnce() async throws {
        #expect(try await one()?.downloadCount == 0)
        try await cache.recordDownloads([DownloadRecord(repo: "libs", path: "a/one.jar", millis: 5, user: "v")])
        let item = try #require(try await one())
        #expect(item.downloadCount == 1 && item.lastDownloadedBy == "v")
    }

    /// Counted downloads are applied to the kept item, not dropped from memory, so the next download of the file
    /// costs no storage read: a download counted beside the cache shows only once the item is a second old.
    @Test func countedDownloadsAreAppliedToTheKeptItemWithoutReadingItBack() async throws {
        _ = try await one()
        try await cache.recordDownloads([
            DownloadRecord(repo: "libs", path: "a/one.jar", millis: 5, user: "v"),
            DownloadRecord(repo: "libs", path: "a/one.jar", millis: 6, user: "w"),
        ])
        try await storage.recordDownloads([DownloadRecord(repo: "libs", path: "a/one.jar", millis: 7, user: "x")])
        let kept = try #require(try await one())
        #expect(kept.downloadCount == 2 && kept.lastDownloaded == 6 && kept.lastDownloadedBy == "w")
        clock.advance(seconds: 1)
        let fresh = try #require(try await one())
        #expect(fresh == (try await storage.item(repo: "libs", path: "a/one.jar")))
        #expect(fresh.downloadCount == 3 && fresh.lastDownloadedBy == "x")
    }

    @Test func aReplacedFileIsSeenAtOnce() async throws {
        #expect(try await one()?.sha256 == "1111")
        try await put("a/one.jar", sha256: "2222")
        #expect(try await one()?.sha256 == "2222")
    }

    @Test func propertiesSetAndDeletedAreSeenAtOnce() async throws {
        #expect(try await one()?.updatedAt == 1)
        try await cache.setProperties(repo: "libs", paths: ["a/one.jar"], ["k": ["v"]], at: 7)
        #expect(try await one()?.updatedAt == 7)
        try await cache.deleteProperties(repo: "libs", paths: ["a/one.jar"], names: ["k"], at: 9)
        #expect(try await one()?.updatedAt == 9)
    }

    @Test func aDeletedFolderTakesItsFilesAtOnce() async throws {
        #expect(try await cache.item(repo: "libs", path: "a")?.isFolder == true)
        #expect(try await one() != nil)
        #expect(try await cache.delete(repo: "libs", path: "a", release: { _ in }))
        #expect(try await one() == nil)
        #expect(try await cache.item(repo: "libs", path: "a") == nil)
    }

    @Test func aDeletedRepositoryTakesItsItemsAtOnce() async throws {
        #expect(try await one() != nil)
        try await cache.deleteRepository(key: "libs", release: { _ in })
        #expect(try await one() == nil)
    }

    @Test func aMissIsNotKept() async throws {
        #expect(try await cache.item(repo: "libs", path: "b/two.jar") == nil)
        try await put("b/two.jar", sha256: "3333", through: storage)
        #expect(try await cache.item(repo: "libs", path: "b/two.jar")?.sha256 == "3333")
    }

    @Test func aFullCacheStartsOver() async throws {
        let small = CachedArtifactStore(storage, capacity: 2, clock: clock.read)
        for index in 0..<5 {
            try await put("many/\(index).jar", sha256: "\(index)", through: storage)
            _ = try await small.item(repo: "libs", path: "many/\(index).jar")
            #expect(small.items.state.withLock { $0.entries.count } <= 2)
        }
    }
}
