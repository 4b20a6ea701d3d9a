import Foundation

/// A worker with its secret values sealed by the `SecretVault`.
public struct StoredWorker: Sendable, Equatable {
    public var worker: Worker
    /// Secret name → sealed value.
    public var sealedSecrets: [String: Data]
    /// When this worker was created (milliseconds; 0 when not known): history entries from before belong to an
    /// earlier worker that had the same key.
    public var createdAt: Int64
    /// Whose repository rights its run token has: who saved it last (`nil` for a worker stored before permission
    /// targets existed, whose run token keeps what it had then: read, annotate, write and delete everywhere).
    public var owner: WorkerOwner?

    public init(worker: Worker, sealedSecrets: [String: Data] = [:], createdAt: Int64 = 0, owner: WorkerOwner? = nil) {
        self.worker = worker
        self.sealedSecrets = sealedSecrets
        self.createdAt = createdAt
        self.owner = owner
    }

    /// The repository rights of this worker's run token.
    public var runRights: RepositoryRights {
        guard let owner else {
            return .owner("", ownerIsAdmin: true, within: [PlatformAccess.everywhere])
        }
        return .owner(owner.name, ownerIsAdmin: owner.isAdmin, within: worker.reach)
    }
}

/// Who saved a worker last: a user name, and whether that caller was an admin.
public struct WorkerOwner: Sendable, Equatable {
    public var name: String
    public var isAdmin: Bool

    public init(name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }

    public init(_ principal: Principal) {
        self.init(name: principal.name, isAdmin: principal.isAdmin)
    }
}

/// Workers and their secrets: one aggregate, always written together. Implemented for SQLite (and later
/// PostgreSQL) in WardenStorage and checked by the same contract tests.
public protocol WorkerStore: Sendable {
    /// Stores a new worker; `.conflict` when the key exists.
    func create(_ worker: StoredWorker) async throws
    /// Reads, changes and writes one worker in a single transaction; `.notFound` when absent.
    @discardableResult
    func update(key: String, _ change: @escaping @Sendable (inout StoredWorker) throws -> Void) async throws -> StoredWorker
    /// False when there was no such worker.
    func delete(key: String) async throws -> Bool
    func worker(key: String) async throws -> StoredWorker?
    /// Every worker, ordered by key.
    func all() async throws -> [StoredWorker]
}

/// What `context.state` keeps between runs, per worker.
public protocol StateStore: Sendable {
    func state(of workerKey: String) async throws -> [String: String]
    func save(_ state: [String: String], of workerKey: String) async throws
}

/// Which history entries a listing wants (spec §8).
public struct HistoryQuery: Sendable, Equatable {
    public var workerKey: String?
    public var projectKey: String?
    public var includeTestRuns: Bool
    public var limit: Int
    public var offset: Int

    public init(workerKey: String? = nil, projectKey: String? = nil, includeTestRuns: Bool = false, limit: Int = 100, offset: Int = 0) {
        self.workerKey = workerKey
        self.projectKey = projectKey
        self.includeTestRuns = includeTestRuns
        self.limit = limit
        self.offset = offset
    }
}

public protocol HistoryStore: Sendable {
    /// Appends the entries in one transaction.
    func append(_ entries: [HistoryEntry]) async throws
    /// Newest first.
    func entries(_ query: HistoryQuery) async throws -> [HistoryEntry]
    func entry(id: String) async throws -> HistoryEntry?
    /// Deletes all but the newest `keep` entries of a worker.
    func prune(workerKey: String, keep: Int) async throws
}

/// API tokens, stored by the SHA-256 of their value.
extension HistoryStore {
    public func append(_ entry: HistoryEntry) async throws { try await append([entry]) }
}

public protocol TokenStore: Sendable {
    func create(_ token: TokenRecord) async throws
    func token(hash: String) async throws -> TokenRecord?
    func all() async throws -> [TokenRecord]
    func revoke(id: String) async throws -> Bool
}

/// Storage that can say whether it is usable (readiness).
public protocol StorageHealth: Sendable {
    func check() async throws
}

/// Minute slots of scheduled workers, claimed once across every replica sharing the database.
public protocol ScheduleClaimStore: Sendable {
    /// True for the first caller to claim `slot` (minutes since 1970) of `workerKey`, false for every later one.
    func claim(workerKey: String, slot: Int64) async throws -> Bool
    /// Forgets claims older than `slot`.
    func forgetClaims(before slot: Int64) async throws
}

/// Values the server keeps about itself in its database (the check of its master key).
public protocol SettingStore: Sendable {
    /// The value stored under `name`, storing `value` first when there is none: the first writer's value wins.
    func setting(_ name: String, ifAbsent value: Data) async throws -> Data
}

/// Every store a server uses, as one database implements them all (WardenStorage: SQLite, PostgreSQL).
public typealias Stores = WorkerStore & StateStore & HistoryStore & TokenStore & ScheduleClaimStore & ArtifactStore & PendingRunStore
    & CIStore & PipelineStore & TenantStore & DashboardUserStore & PermissionStore & SettingStore & StorageHealth & BuildStore

/// A change another server committed to something servers keep in memory (worker lists, tokens, items …), told
/// by a database that several servers share, so that each forgets what it kept.
public enum StoreChange: Sendable, Equatable {
    /// A worker was created, changed or deleted.
    case workers
    case workerState(key: String)
    /// A token was revoked.
    case token(id: String)
    /// A repository was created, changed or deleted.
    case repositories
    /// Items or their properties changed in a repository.
    case items(repo: String)
    /// A dashboard session ended.
    case session(tokenHash: String)
    /// Permission targets or groups changed.
    case permissions
    /// Asynchronous runs were queued.
    case pendingRuns
    /// Changes may have been missed (the feed reconnected): forget everything kept.
    case everything
}

/// A database shared by several servers tells each the changes the others commit.
public protocol StoreChangeFeed: Sendable {
    /// The changes other servers commit, in the order they committed, until `stop`.
    func changes() -> AsyncStream<StoreChange>
}
