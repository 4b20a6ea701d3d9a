import Foundation
import CoreMetrics
import GRDB
import WardenCore
import RunModel

/// Warden's data in one SQLite file (GRDB, WAL mode). Implements each store protocol of the core; a committed
/// transaction survives the process being killed (WAL with synchronous=NORMAL keeps it in the log, which SQLite
/// replays on the next open), though not a power cut.
public final class SQLiteStorage: Sendable {
    /// Every read and write goes through `pool`, which counts the database's errors.
    let databasePool: DatabasePool
    var pool: CountedPool { CountedPool(base: databasePool) }

    /// Opens (creating when needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        databasePool = pool
        let migrator = Self.migrator
        // Migrations only go forward: a database a newer Warden migrated is refused, not half understood.
        let applied = try pool.read { db -> [String] in
            guard try db.tableExists("grdb_migrations") else { return [] }
            return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        try ForwardMigrations.refuseNewer(applied: applied, known: migrator.migrations)
        try migrator.migrate(pool)
    }

    static func json<T: Encodable>(_ value: T) throws -> String { try StoredForm.json(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? { try StoredForm.decode(type, text) }
}

// MARK: Workers

extension SQLiteStorage: WorkerStore {
    public func create(_ stored: StoredWorker) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM worker WHERE key = ?", arguments: [stored.worker.key]) == true {
                throw WardenError(.conflict, "worker '\(stored.worker.key)' already exists")
            }
            try Self.write(stored, in: db)
        }
    }

    @discardableResult
    public func update(key: String, _ change: @escaping @Sendable (inout StoredWorker) throws -> Void) async throws -> StoredWorker {
        try await pool.write { db in
            guard var stored = try Self.read(key: key, in: db) else { throw WardenError(.notFound, "worker '\(key)' does not exist") }
            try change(&stored)
            try db.execute(sql: "DELETE FROM worker_secret WHERE worker_key = ?", arguments: [key])
            try Self.write(stored, in: db)
            return stored
        }
    }

    public func delete(key: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM worker WHERE key = ?", arguments: [key])
            let deleted = db.changesCount > 0
            if deleted { try db.execute(sql: "DELETE FROM worker_state WHERE worker_key = ?", arguments: [key]) }
            return deleted
        }
    }

    public func worker(key: String) async throws -> StoredWorker? {
        try await pool.read { db in try Self.read(key: key, in: db) }
    }

    public func all() async throws -> [StoredWorker] {
        try await pool.read { db in
            let keys = try String.fetchAll(db, sql: "SELECT key FROM worker ORDER BY key")
            // A row this server cannot read (an action it does not know) is left out here, so that one bad row never
            // stops every event; reading that worker by its key still says what is wrong with it.
            return keys.compactMap { try? Self.read(key: $0, in: db) }
        }
    }

    static func write(_ stored: StoredWorker, in db: Database) throws {
        let worker = stored.worker
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO worker (key, description, enabled, debug, source_code, action, filter_criteria, properties, shared,
                    project_key, version, modified_at, modified_by, created_at, owner, owner_admin, platform_access)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                worker.key, worker.description, worker.enabled, worker.debug, worker.sourceCode, worker.action.name,
                try json(worker.filterCriteria), try json(worker.properties.map { StoredForm.PropertyRow(key: $0.key, value: $0.value) }),
                worker.shared,
                worker.projectKey, try worker.version.map { try json($0) }, worker.modifiedAt, worker.modifiedBy, stored.createdAt,
                stored.owner?.name, stored.owner?.isAdmin ?? false, try worker.platformAccess.map { try json($0) },
            ])
        for (name, sealed) in stored.sealedSecrets {
            try db.execute(sql: "INSERT INTO worker_secret (worker_key, name, sealed) VALUES (?, ?, ?)", arguments: [worker.key, name, sealed])
        }
    }

    static func read(key: String, in db: Database) throws -> StoredWorker? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM worker WHERE key = ?"), arguments: [key]) else { return nil }
        let actionName: String = row["action"]
        guard let action = WorkerAction.named(actionName) else {
            throw WardenError(.unavailable, "worker '\(key)' is stored with an action this server does not know: \(actionName)")
        }
        let properties = try decode([StoredForm.PropertyRow].self, row["properties"]) ?? []
        let worker = Worker(
            key: row["key"], description: row["description"], enabled: row["enabled"], debug: row["debug"], sourceCode: row["source_code"],
            action: action, filterCriteria: try decode(FilterCriteria.self, row["filter_criteria"]) ?? FilterCriteria(),
            properties: properties.map { ($0.key, $0.value) }, shared: row["shared"], projectKey: row["project_key"],
            version: try decode(WorkerVersion.self, row["version"]), modifiedAt: row["modified_at"], modifiedBy: row["modified_by"],
            platformAccess: try decode(PlatformAccess.self, row["platform_access"]))
        var secrets: [String: Data] = [:]
        for secret in try Row.fetchAll(db.cachedStatement(sql: "SELECT name, sealed FROM worker_secret WHERE worker_key = ?"), arguments: [key]) {
            secrets[secret["name"]] = secret["sealed"]
        }
        let owner: String? = row["owner"]
        return StoredWorker(
            worker: worker, sealedSecrets: secrets, createdAt: row["created_at"],
            owner: owner.map { WorkerOwner(name: $0, isAdmin: row["owner_admin"]) })
    }
}

// MARK: State

extension SQLiteStorage: StateStore {
    public func state(of workerKey: String) async throws -> [String: String] {
        try await pool.read { db in
            try Self.decode(
                [String: String].self,
                try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM worker_state WHERE worker_key = ?"), arguments: [workerKey]))
                ?? [:]
        }
    }

    public func save(_ state: [String: String], of workerKey: String) async throws {
        let text = try Self.json(state)
        try await pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO worker_state (worker_key, state) VALUES (?, ?)", arguments: [workerKey, text])
        }
    }
}

// MARK: History

extension SQLiteStorage: HistoryStore {
    public func append(_ entries: [HistoryEntry]) async throws {
        let errors = try entries.map { try $0.error.map { try Self.json($0) } }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO history (id, trace_id, worker_key, action, project_key, payload, status, result, error, logs, cpu_nanos, wall_nanos,
                        peak_memory, start_ms, end_ms, triggered_by, test_run, executed_version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for (entry, error) in zip(entries, errors) {
                try statement.execute(
                    arguments: [
                        entry.id, entry.traceID, entry.workerKey, entry.action, entry.projectKey, entry.payloadJSON, entry.status.rawValue,
                        entry.resultJSON, error, entry.logs, entry.stats.cpuNanos, entry.stats.wallNanos, entry.stats.peakMemoryBytes,
                        entry.startMillis, entry.endMillis, entry.triggeredBy, entry.testRun, entry.executedVersion,
                    ])
            }
        }
    }

    public func entries(_ query: HistoryQuery) async throws -> [HistoryEntry] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let key = query.workerKey, !key.isEmpty {
            conditions.append("worker_key = ?")
            arguments += [key]
        }
        if let project = query.projectKey, !project.isEmpty {
            conditions.append("project_key = ?")
            arguments += [project]
        }
        if !query.includeTestRuns { conditions.append("test_run = 0") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [query.limit, query.offset]
        let sql = "SELECT * FROM history \(filter) ORDER BY seq DESC LIMIT ? OFFSET ?"
        let bound = arguments
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.entry(from:)) }
    }

    public func entry(id: String) async throws -> HistoryEntry? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM history WHERE id = ?", arguments: [id]).map(Self.entry(from:)) }
    }

    static func entry(from row: Row) throws -> HistoryEntry {
        let status: String = row["status"]
        return HistoryEntry(
            id: row["id"], traceID: row["trace_id"], workerKey: row["worker_key"], action: row["action"], projectKey: row["project_key"],
            payloadJSON: row["payload"], status: ExecutionStatus(rawValue: status) ?? .fail, resultJSON: row["result"],
            error: try Self.decode(WorkerError.self, row["error"]), logs: row["logs"],
            stats: RunStats(cpuNanos: row["cpu_nanos"], wallNanos: row["wall_nanos"], peakMemoryBytes: row["peak_memory"]),
            startMillis: row["start_ms"], endMillis: row["end_ms"], triggeredBy: row["triggered_by"], testRun: row["test_run"],
            executedVersion: row["executed_version"])
    }

    public func prune(workerKey: String, keep: Int) async throws {
        try await pool.write { db in
            try db.cachedStatement(
                sql: """
                    DELETE FROM history WHERE worker_key = ? AND seq < (
                        SELECT seq FROM history WHERE worker_key = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)
                    """
            ).execute(arguments: [workerKey, workerKey, max(0, keep - 1)])
        }
    }
}

// MARK: Tokens

extension SQLiteStorage: TokenStore {
    public func create(_ token: TokenRecord) async throws {
        let (scope, project) = StoredForm.encode(token.scope)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO token (id, name, hash, scope, project_key, created_at, expires_at, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [token.id, token.name, token.hash, scope, project, token.createdAt, token.expiresAt, token.description])
        }
    }

    public func token(hash: String) async throws -> TokenRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM token WHERE hash = ?"), arguments: [hash]).map(Self.token(from:))
        }
    }

    public func all() async throws -> [TokenRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY created_at, id").map(Self.token(from:)) }
    }

    public func revoke(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM token WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    static func token(from row: Row) -> TokenRecord {
        let scope = StoredForm.tokenScope(row["scope"], project: row["project_key"])
        return TokenRecord(
            id: row["id"], name: row["name"], hash: row["hash"], scope: scope, createdAt: row["created_at"], expiresAt: row["expires_at"],
            description: row["description"])
    }
}

extension SQLiteStorage: SettingStore {
    public func setting(_ name: String, ifAbsent value: Data) async throws -> Data {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO warden_setting (name, value) VALUES (?, ?)", arguments: [name, value])
            return try Data.fetchOne(db, sql: "SELECT value FROM warden_setting WHERE name = ?", arguments: [name]) ?? value
        }
    }
}

extension SQLiteStorage: StorageHealth {
    public func check() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

extension SQLiteStorage: ScheduleClaimStore {
    public func claim(workerKey: String, slot: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO schedule_claim (worker_key, slot, claimed_at) VALUES (?, ?, ?)",
                arguments: [workerKey, slot, Int64(Date().timeIntervalSince1970 * 1000)])
            return db.changesCount > 0
        }
    }

    public func forgetClaims(before slot: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM schedule_claim WHERE slot < ?", arguments: [slot]) }
    }
}

/// The SQLite pool as the stores use it: each read or write that fails for a reason of the database's (not a refusal
/// the store decided) is counted in `warden_storage_errors_total{database="sqlite"}`.
struct CountedPool: Sendable {
    let base: DatabasePool

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await base.read(value) } catch {
            StorageMetrics.failed(error, database: "sqlite")
            throw error
        }
    }

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await base.write(updates) } catch {
            StorageMetrics.failed(error, database: "sqlite")
            throw error
        }
    }
}

/// Storage errors at /metrics.
enum StorageMetrics {
    /// Counts `error` unless it is a refusal (a `WardenError` other than `unavailable`) or a cancellation.
    static func failed(_ error: any Error, database: String) {
        if error is CancellationError { return }
        if let refusal = error as? WardenError, refusal.code != .unavailable { return }
        Counter(label: "warden_storage_errors_total", dimensions: [("database", database)]).increment()
    }
}
