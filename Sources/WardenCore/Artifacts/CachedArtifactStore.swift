/// The artifact store with items kept in memory by repository and path, so that a download of a known file costs
/// no storage read (issue 13). Every write through this store forgets what it may have changed once it has
/// committed: a write to a repository's tree or properties forgets that repository's items; a batch of counted
/// downloads is applied to the kept items it counted, as the store applied it (forgetting them would send the next
/// download of every file in the batch back to storage; a count may show up to a second late, as counts written
/// behind do anyway). A change made beside it (another process on the same database) is seen once
/// the entry is a second old. Only items are kept; lists, searches and figures are read as before.
public final class CachedArtifactStore: ArtifactStore {
    struct ItemKey: Hashable, Sendable {
        var repo: String
        var path: String
    }

    let store: any ArtifactStore
    let items: ReadThroughCache<ItemKey, ArtifactItem>

    public init(
        _ store: any ArtifactStore, revalidateAfterNanos: Int64 = 1_000_000_000, capacity: Int = 10_000,
        clock: @escaping @Sendable () -> Int64 = uptimeNanos
    ) {
        self.store = store
        items = ReadThroughCache(revalidateAfterNanos: revalidateAfterNanos, capacity: capacity, clock: clock)
    }

    public func item(repo: String, path: String) async throws -> ArtifactItem? {
        try await items.value(ItemKey(repo: repo, path: path)) { try await store.item(repo: repo, path: path) }
    }

    /// What a write in `repo` may have changed: any item of it (a file's folders above, a folder's content).
    func forget(repo: String) { items.forget { key, _ in key.repo == repo } }

    /// Forgets the items of a repository another server changed.
    public func forget(_ change: StoreChange) {
        switch change {
        case .items(let repo): forget(repo: repo)
        case .everything: items.forget { _, _ in true }
        default: break
        }
    }

    // MARK: Writes, each forgetting what it changed (also when it failed: it may have committed before the error)

    public func createRepository(_ repository: Repository) async throws -> Bool {
        defer { forget(repo: repository.key) }
        return try await store.createRepository(repository)
    }

    public func deleteRepository(key: String, release: @escaping @Sendable (String) -> Void) async throws {
        defer { forget(repo: key) }
        try await store.deleteRepository(key: key, release: release)
    }

    @discardableResult
    public func putFile(
        _ item: ArtifactItem, properties: ArtifactProperties?, quotaBytes: Int64?, materialize: @escaping @Sendable () throws -> Void,
        release: @escaping @Sendable (String) -> Void
    ) async throws -> ArtifactItem {
        defer { forget(repo: item.repo) }
        return try await store.putFile(item, properties: properties, quotaBytes: quotaBytes, materialize: materialize, release: release)
    }

    public func putFolder(_ item: ArtifactItem) async throws {
        defer { forget(repo: item.repo) }
        try await store.putFolder(item)
    }

    public func delete(repo: String, path: String, release: @escaping @Sendable (String) -> Void) async throws -> Bool {
        defer { forget(repo: repo) }
        return try await store.delete(repo: repo, path: path, release: release)
    }

    public func setProperties(repo: String, paths: [String], _ properties: ArtifactProperties, at millis: Int64) async throws {
        defer { forget(repo: repo) }
        try await store.setProperties(repo: repo, paths: paths, properties, at: millis)
    }

    public func deleteProperties(repo: String, paths: [String], names: [String], at millis: Int64) async throws {
        defer { forget(repo: repo) }
        try await store.deleteProperties(repo: repo, paths: paths, names: names, at: millis)
    }

    public func recordDownloads(_ downloads: [DownloadRecord]) async throws {
        let keys = downloads.map { ItemKey(repo: $0.repo, path: $0.path) }
        do {
            try await store.recordDownloads(downloads)
        } catch {
            items.forget(keys)  // it may have committed before the error
            throw error
        }
        // What the store did to each item's row, one download at a time.
        items.update(zip(keys, downloads)) { download, item in
            item.downloadCount &+= 1
            if (item.lastDownloaded ?? .min) <= download.millis {
                item.lastDownloaded = download.millis
                item.lastDownloadedBy = download.user
            }
        }
    }

    // MARK: Reads and writes that touch no item

    public func referencedBlobs() async throws -> Set<String> { try await store.referencedBlobs() }
    public func releaseIfUnreferenced(_ hashes: [String], release: @escaping @Sendable (String) -> Void) async throws {
        try await store.releaseIfUnreferenced(hashes, release: release)
    }
    public func repositories() async throws -> [Repository] { try await store.repositories() }
    public func repository(key: String) async throws -> Repository? { try await store.repository(key: key) }
    public func updateRepository(key: String, _ change: @escaping @Sendable (inout Repository) throws -> Void) async throws -> Repository? {
        try await store.updateRepository(key: key, change)
    }
    public func summaries() async throws -> [RepositorySummary] { try await store.summaries() }
    public func binaries() async throws -> (count: Int64, bytes: Int64) { try await store.binaries() }
    public func children(repo: String, path: String) async throws -> [ArtifactItem] { try await store.children(repo: repo, path: path) }
    public func descendants(repo: String, path: String) async throws -> [ArtifactItem] {
        try await store.descendants(repo: repo, path: path)
    }
    public func search(repos: [String]?) async throws -> [(ArtifactItem, ArtifactProperties)] { try await store.search(repos: repos) }
    public func usedBytes(repo: String) async throws -> Int64 { try await store.usedBytes(repo: repo) }
    public func properties(repo: String, path: String) async throws -> ArtifactProperties { try await store.properties(repo: repo, path: path) }
}
