import Foundation

/// Summary figures of one repository (storage info).
public struct RepositorySummary: Sendable, Equatable {
    public var key: String
    public var files: Int64
    public var folders: Int64
    public var usedBytes: Int64

    public init(key: String, files: Int64, folders: Int64, usedBytes: Int64) {
        self.key = key
        self.files = files
        self.folders = folders
        self.usedBytes = usedBytes
    }
}

/// Repositories, their items and properties. Each method is one transaction.
public protocol ArtifactStore: Sendable {
    /// The SHA-256 of every blob an item refers to.
    func referencedBlobs() async throws -> Set<String>
    /// Gives `release` each of these blobs that no item refers to, looking under each blob's own lock (an upload of
    /// the same content holds it from its file's rename to its commit, on any server): safe while others upload.
    func releaseIfUnreferenced(_ hashes: [String], release: @escaping @Sendable (String) -> Void) async throws
    func repositories() async throws -> [Repository]
    func repository(key: String) async throws -> Repository?
    /// Creates the repository and its root folder; false (and nothing written) when the key exists.
    func createRepository(_ repository: Repository) async throws -> Bool
    /// Reads, changes and writes a repository's settings in one transaction; `nil` when it does not exist.
    func updateRepository(key: String, _ change: @escaping @Sendable (inout Repository) throws -> Void) async throws -> Repository?
    /// Deletes the repository and everything in it; `release` gets each blob no item refers to any more.
    func deleteRepository(key: String, release: @escaping @Sendable (String) -> Void) async throws
    func summaries() async throws -> [RepositorySummary]
    /// Distinct stored contents: how many, and their bytes (equal files count once).
    func binaries() async throws -> (count: Int64, bytes: Int64)

    func item(repo: String, path: String) async throws -> ArtifactItem?
    func children(repo: String, path: String) async throws -> [ArtifactItem]
    /// Items under `path` at any depth (not `path` itself).
    func descendants(repo: String, path: String) async throws -> [ArtifactItem]
    /// Items of the given repositories (all when `nil`) with their properties, for searches.
    func search(repos: [String]?) async throws -> [(ArtifactItem, ArtifactProperties)]
    /// Stores a file and the folders above it in one transaction, replacing a file at the same path (its creation
    /// time is kept). `materialize` runs inside the transaction before it commits; `release` gets the replaced blob
    /// when nothing refers to it any more. Fails with a conflict when a folder is in the way. Returns the item as
    /// stored (with the creation and download figures of the file it replaced). With `quotaBytes`, fails with
    /// `.tooLarge` (and stores nothing) when the repository's files would then hold more bytes than that.
    @discardableResult
    func putFile(
        _ item: ArtifactItem, properties: ArtifactProperties?, quotaBytes: Int64?, materialize: @escaping @Sendable () throws -> Void,
        release: @escaping @Sendable (String) -> Void
    ) async throws -> ArtifactItem
    /// The bytes the repository's files hold together.
    func usedBytes(repo: String) async throws -> Int64
    /// Creates a folder and the folders above it; an existing folder is left as it is.
    func putFolder(_ item: ArtifactItem) async throws
    /// Deletes the item, everything under it and their properties. Returns whether it existed.
    func delete(repo: String, path: String, release: @escaping @Sendable (String) -> Void) async throws -> Bool

    func properties(repo: String, path: String) async throws -> ArtifactProperties
    /// Sets (replaces the values of) each named property on the given items.
    func setProperties(repo: String, paths: [String], _ properties: ArtifactProperties, at millis: Int64) async throws
    func deleteProperties(repo: String, paths: [String], names: [String], at millis: Int64) async throws
    /// Counts downloads (one transaction for all of them).
    func recordDownloads(_ downloads: [DownloadRecord]) async throws
}

/// One download to count in an item's statistics.
public struct DownloadRecord: Sendable, Equatable {
    public var repo: String
    public var path: String
    public var millis: Int64
    public var user: String

    public init(repo: String, path: String, millis: Int64, user: String) {
        self.repo = repo
        self.path = path
        self.millis = millis
        self.user = user
    }
}

/// A run of an asynchronous worker, persisted before the client gets its answer (spec §9).
public struct PendingRun: Sendable, Equatable {
    public var id: Int64
    public var workerKey: String
    public var dataJSON: String
    public var triggeredBy: String
    /// The event depth of the request that fired it (see `Principal.eventDepth`).
    public var depth: Int
    /// How many times it was claimed, this time included: more than one when a holder stopped before it finished
    /// (asynchronous runs are at least once).
    public var attempts: Int
    /// The id of the request that queued it (`RequestTrace`), or "" when none did.
    public var traceID: String

    public init(
        id: Int64 = 0, workerKey: String, dataJSON: String, triggeredBy: String, depth: Int = 0, attempts: Int = 0, traceID: String = ""
    ) {
        self.traceID = traceID
        self.depth = depth
        self.id = id
        self.workerKey = workerKey
        self.dataJSON = dataJSON
        self.triggeredBy = triggeredBy
        self.attempts = attempts
    }
}

/// The runs of asynchronous workers still to run, claimed with a lease: a server takes runs for a while and renews
/// that while they run; runs whose holder stopped (a hard stop, a lost database) are taken again by any server once
/// the lease ends. Two claimers never hold the same run at once.
public protocol PendingRunStore: Sendable {
    func enqueue(_ runs: [PendingRun]) async throws
    /// Up to `limit` runs still to run, oldest first, held or not.
    func pending(limit: Int) async throws -> [PendingRun]
    /// How many runs are still to run, held or not (the backlog /metrics shows).
    func pendingCount() async throws -> Int
    /// Takes up to `limit` of the oldest runs that nobody holds, or whose lease ended before `now`, for `owner` until
    /// `until` (milliseconds), counting an attempt on each.
    func claim(limit: Int, owner: String, now: Int64, until: Int64) async throws -> [PendingRun]
    /// Extends `owner`'s leases of these runs to `until` (a run another owner took since is left alone).
    func renew(ids: [Int64], owner: String, until: Int64) async throws
    /// Removes a run that ran.
    func finish(id: Int64) async throws
    /// Ends every lease. Only for a server alone on its database, at its start: what it held before a hard stop
    /// runs at once instead of after the lease.
    func releaseLeases() async throws
}
