import Foundation
import Logging
import PostgresNIO
import RunModel
import WardenCore

// MARK: Workers

extension PostgresStorage: WorkerStore {
    public func create(_ stored: StoredWorker) async throws {
        try await write { connection in
            guard try await Self.insert(stored, on: connection, logger: self.logger) else {
                throw WardenError(.conflict, "worker '\(stored.worker.key)' already exists")
            }
            try await self.notify(.workers, on: connection)
        }
    }

    @discardableResult
    public func update(key: String, _ change: @escaping @Sendable (inout StoredWorker) throws -> Void) async throws -> StoredWorker {
        try await write { connection in
            guard var stored = try await Self.read(key: key, lock: true, on: connection, logger: self.logger) else {
                throw WardenError(.notFound, "worker '\(key)' does not exist")
            }
            try change(&stored)
            // In place (a delete and an insert would make a concurrent update, waiting on the row, find none).
            try await Self.write(stored, key: key, on: connection, logger: self.logger)
            try await self.notify(.workers, on: connection)
            return stored
        }
    }

    public func delete(key: String) async throws -> Bool {
        try await write { connection in
            let deleted = try await connection.query("DELETE FROM worker WHERE key = \(key) RETURNING 1", logger: self.logger).collect()
            guard !deleted.isEmpty else { return false }
            try await connection.query("DELETE FROM worker_state WHERE worker_key = \(key)", logger: self.logger)
            try await self.notify(.workers, on: connection)
            try await self.notify(.workerState(key: key), on: connection)
            return true
        }
    }

    public func worker(key: String) async throws -> StoredWorker? {
        try await read { connection in try await Self.read(key: key, lock: false, on: connection, logger: self.logger) }
    }

    /// Two queries, whatever the number of workers (every server reads this list again after each worker change).
    public func all() async throws -> [StoredWorker] {
        try await read { connection in
            var secrets: [String: [String: Data]] = [:]
            for secret in try await Self.rows("SELECT worker_key, name, sealed FROM worker_secret", on: connection, logger: self.logger) {
                secrets[try secret["worker_key"], default: [:]][try secret["name"]] = try secret["sealed"]
            }
            // As on SQLite: a row this server cannot read (an action it does not know) is left out of the list.
            return try await Self.rows("SELECT * FROM worker ORDER BY key", on: connection, logger: self.logger).compactMap { row in
                try? Self.worker(from: row, secrets: secrets[try row["key"]] ?? [:])
            }
        }
    }

    /// Inserts the worker and its secrets; false (and nothing written) when the key exists.
    static func insert(_ stored: StoredWorker, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let worker = stored.worker
        let (filter, properties, version, access) = try columns(of: worker)
        let inserted = try await connection.query(
            """
            INSERT INTO worker (key, description, enabled, debug, source_code, action, filter_criteria, properties, shared, project_key,
                version, modified_at, modified_by, created_at, owner, owner_admin, platform_access)
            VALUES (\(worker.key), \(worker.description), \(worker.enabled), \(worker.debug), \(worker.sourceCode), \(worker.action.name),
                \(filter), \(properties), \(worker.shared), \(worker.projectKey), \(version), \(worker.modifiedAt), \(worker.modifiedBy),
                \(stored.createdAt), \(stored.owner?.name), \(stored.owner?.isAdmin ?? false), \(access))
            ON CONFLICT (key) DO NOTHING RETURNING 1
            """, logger: logger
        ).collect()
        guard !inserted.isEmpty else { return false }
        try await insertSecrets(of: stored, on: connection, logger: logger)
        return true
    }

    /// Writes every column of the worker stored at `key` (its row locked by the caller) and replaces its secrets.
    static func write(_ stored: StoredWorker, key: String, on connection: PostgresConnection, logger: Logger) async throws {
        let worker = stored.worker
        let (filter, properties, version, access) = try columns(of: worker)
        try await connection.query(
            """
            UPDATE worker SET description = \(worker.description), enabled = \(worker.enabled), debug = \(worker.debug),
                source_code = \(worker.sourceCode), action = \(worker.action.name), filter_criteria = \(filter), properties = \(properties),
                shared = \(worker.shared), project_key = \(worker.projectKey), version = \(version), modified_at = \(worker.modifiedAt),
                modified_by = \(worker.modifiedBy), created_at = \(stored.createdAt), owner = \(stored.owner?.name),
                owner_admin = \(stored.owner?.isAdmin ?? false), platform_access = \(access)
            WHERE key = \(key)
            """, logger: logger)
        try await connection.query("DELETE FROM worker_secret WHERE worker_key = \(key)", logger: logger)
        try await insertSecrets(of: stored, on: connection, logger: logger)
    }

    /// The columns kept as JSON: filter, properties (in their order), version, platform access.
    static func columns(of worker: Worker) throws -> (String, String, String?, String?) {
        (
            try StoredForm.json(worker.filterCriteria),
            try StoredForm.json(worker.properties.map { StoredForm.PropertyRow(key: $0.key, value: $0.value) }),
            try worker.version.map { try StoredForm.json($0) }, try worker.platformAccess.map { try StoredForm.json($0) }
        )
    }

    static func insertSecrets(of stored: StoredWorker, on connection: PostgresConnection, logger: Logger) async throws {
        for (name, sealed) in stored.sealedSecrets {
            try await connection.query(
                "INSERT INTO worker_secret (worker_key, name, sealed) VALUES (\(stored.worker.key), \(name), \(sealed))", logger: logger)
        }
    }

    static func read(key: String, lock: Bool, on connection: PostgresConnection, logger: Logger) async throws -> StoredWorker? {
        let query: PostgresQuery = lock ? "SELECT * FROM worker WHERE key = \(key) FOR UPDATE" : "SELECT * FROM worker WHERE key = \(key)"
        guard let row = try await rows(query, on: connection, logger: logger).first else { return nil }
        var secrets: [String: Data] = [:]
        for secret in try await rows("SELECT name, sealed FROM worker_secret WHERE worker_key = \(key)", on: connection, logger: logger) {
            secrets[try secret["name"]] = try secret["sealed"]
        }
        return try worker(from: row, secrets: secrets)
    }

    /// A worker row with its sealed secrets; `.unavailable` for an action this server does not know.
    static func worker(from row: Columns, secrets: [String: Data]) throws -> StoredWorker {
        let key: String = try row["key"]
        let actionName: String = try row["action"]
        guard let action = WorkerAction.named(actionName) else {
            throw WardenError(.unavailable, "worker '\(key)' is stored with an action this server does not know: \(actionName)")
        }
        let properties = try StoredForm.decode([StoredForm.PropertyRow].self, try row["properties"]) ?? []
        let worker = Worker(
            key: key, description: try row["description"], enabled: try row["enabled"], debug: try row["debug"],
            sourceCode: try row["source_code"], action: action,
            filterCriteria: try StoredForm.decode(FilterCriteria.self, try row["filter_criteria"]) ?? FilterCriteria(),
            properties: properties.map { ($0.key, $0.value) }, shared: try row["shared"], projectKey: try row["project_key"],
            version: try StoredForm.decode(WorkerVersion.self, try row["version"]), modifiedAt: try row["modified_at"],
            modifiedBy: try row["modified_by"], platformAccess: try StoredForm.decode(PlatformAccess.self, try row["platform_access"]))
        let owner: String? = try row["owner"]
        return StoredWorker(
            worker: worker, sealedSecrets: secrets, createdAt: try row["created_at"],
            owner: try owner.map { WorkerOwner(name: $0, isAdmin: try row["owner_admin"]) })
    }
}

// MARK: State

extension PostgresStorage: StateStore {
    public func state(of workerKey: String) async throws -> [String: String] {
        try await read { connection in
            let text = try await connection.query("SELECT state FROM worker_state WHERE worker_key = \(workerKey)", logger: self.logger)
                .collect().first?.decode(String.self)
            return try StoredForm.decode([String: String].self, text) ?? [:]
        }
    }

    public func save(_ state: [String: String], of workerKey: String) async throws {
        let text = try StoredForm.json(state)
        try await write { connection in
            try await connection.query(
                """
                INSERT INTO worker_state (worker_key, state) VALUES (\(workerKey), \(text))
                ON CONFLICT (worker_key) DO UPDATE SET state = EXCLUDED.state
                """, logger: self.logger)
            try await self.notify(.workerState(key: workerKey), on: connection)
        }
    }
}

// MARK: History

extension PostgresStorage: HistoryStore {
    public func append(_ entries: [HistoryEntry]) async throws {
        guard !entries.isEmpty else { return }
        let errors = try entries.map { try $0.error.map { try StoredForm.json($0) } }
        // One statement per 1,000 entries (18 values each, under the protocol's 65,535); a transaction only when
        // there are several (one statement is atomic by itself, and a round trip or two cheaper).
        let body: @Sendable (PostgresConnection) async throws -> Void = { connection in
            for start in stride(from: 0, to: entries.count, by: 1_000) {
                var sql = """
                    INSERT INTO history (id, trace_id, worker_key, action, project_key, payload, status, result, error, logs, cpu_nanos,
                        wall_nanos, peak_memory, start_ms, end_ms, triggered_by, test_run, executed_version) VALUES
                    """
                var binds = PostgresBindings(capacity: 18 * min(1_000, entries.count - start))
                for index in start..<min(start + 1_000, entries.count) {
                    let entry = entries[index]
                    let first = binds.count + 1
                    sql += (index == start ? " (" : ", (") + (first..<first + 18).map { "$\($0)" }.joined(separator: ", ") + ")"
                    binds.append(entry.id)
                    binds.append(entry.traceID)
                    binds.append(entry.workerKey)
                    binds.append(entry.action)
                    binds.append(entry.projectKey)
                    binds.append(entry.payloadJSON)
                    binds.append(entry.status.rawValue)
                    binds.append(entry.resultJSON)
                    binds.append(errors[index])
                    binds.append(entry.logs)
                    binds.append(entry.stats.cpuNanos)
                    binds.append(entry.stats.wallNanos)
                    binds.append(entry.stats.peakMemoryBytes)
                    binds.append(entry.startMillis)
                    binds.append(entry.endMillis)
                    binds.append(entry.triggeredBy)
                    binds.append(entry.testRun)
                    binds.append(entry.executedVersion)
                }
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
            }
        }
        if entries.count > 1_000 { try await write(body) } else { try await read(body) }
    }

    public func entries(_ query: HistoryQuery) async throws -> [HistoryEntry] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let key = query.workerKey, !key.isEmpty {
            binds.append(key)
            conditions.append("worker_key = $\(binds.count)")
        }
        if let project = query.projectKey, !project.isEmpty {
            binds.append(project)
            conditions.append("project_key = $\(binds.count)")
        }
        if !query.includeTestRuns { conditions.append("NOT test_run") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        binds.append(Int64(max(0, query.limit)))
        binds.append(Int64(max(0, query.offset)))
        let sql = PostgresQuery(
            unsafeSQL: "SELECT * FROM history \(filter) ORDER BY seq DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)", binds: binds)
        return try await read { connection in try await Self.rows(sql, on: connection, logger: self.logger).map(Self.entry(from:)) }
    }

    public func entry(id: String) async throws -> HistoryEntry? {
        try await read { connection in
            try await Self.rows("SELECT * FROM history WHERE id = \(id)", on: connection, logger: self.logger).first.map(Self.entry(from:))
        }
    }

    static func entry(from row: Columns) throws -> HistoryEntry {
        let status: String = try row["status"]
        return HistoryEntry(
            id: try row["id"], traceID: try row["trace_id"], workerKey: try row["worker_key"], action: try row["action"],
            projectKey: try row["project_key"], payloadJSON: try row["payload"], status: ExecutionStatus(rawValue: status) ?? .fail,
            resultJSON: try row["result"], error: try StoredForm.decode(WorkerError.self, try row["error"]), logs: try row["logs"],
            stats: RunStats(cpuNanos: try row["cpu_nanos"], wallNanos: try row["wall_nanos"], peakMemoryBytes: try row["peak_memory"]),
            startMillis: try row["start_ms"], endMillis: try row["end_ms"], triggeredBy: try row["triggered_by"], testRun: try row["test_run"],
            executedVersion: try row["executed_version"])
    }

    /// Looks for the oldest entry kept, and deletes the older ones, only from where this server's last prune of the
    /// worker stopped: a range of the index, not every entry older than that. (Deleted rows stay in the table until
    /// vacuumed; reading from the start would walk over all of them on every prune, tens of thousands of rows at a
    /// few thousand runs a second: PostgreSQL's CPU was twice the server's.)
    public func prune(workerKey: String, keep: Int) async throws {
        let offset = Int64(max(0, keep - 1))
        let from = prunedBelow.withLock { $0[workerKey] ?? 0 }
        let cutoff: Int64? = try await read { connection in
            guard
                let cutoff = try await connection.query(
                    "SELECT seq FROM history WHERE worker_key = \(workerKey) AND seq >= \(from) ORDER BY seq DESC LIMIT 1 OFFSET \(offset)",
                    logger: self.logger
                ).collect().first?.decode(Int64.self)
            else { return nil }
            try await connection.query(
                "DELETE FROM history WHERE worker_key = \(workerKey) AND seq >= \(from) AND seq < \(cutoff)", logger: self.logger)
            return cutoff
        }
        if let cutoff { prunedBelow.withLock { $0[workerKey] = max($0[workerKey] ?? 0, cutoff) } }
    }
}

// MARK: Tokens

extension PostgresStorage: TokenStore {
    public func create(_ token: TokenRecord) async throws {
        let (scope, project) = StoredForm.encode(token.scope)
        _ = try await read { connection in
            try await connection.query(
                """
                INSERT INTO token (id, name, hash, scope, project_key, created_at, expires_at, description)
                VALUES (\(token.id), \(token.name), \(token.hash), \(scope), \(project), \(token.createdAt), \(token.expiresAt),
                    \(token.description))
                """, logger: self.logger
            ).collect().count
        }
    }

    public func token(hash: String) async throws -> TokenRecord? {
        try await read { connection in
            try await Self.rows("SELECT * FROM token WHERE hash = \(hash)", on: connection, logger: self.logger).first.map(Self.token(from:))
        }
    }

    public func all() async throws -> [TokenRecord] {
        try await read { connection in
            try await Self.rows("SELECT * FROM token ORDER BY created_at, id", on: connection, logger: self.logger).map(Self.token(from:))
        }
    }

    public func revoke(id: String) async throws -> Bool {
        try await write { connection in
            guard try await !connection.query("DELETE FROM token WHERE id = \(id) RETURNING 1", logger: self.logger).collect().isEmpty else {
                return false
            }
            try await self.notify(.token(id: id), on: connection)
            return true
        }
    }

    static func token(from row: Columns) throws -> TokenRecord {
        TokenRecord(
            id: try row["id"], name: try row["name"], hash: try row["hash"],
            scope: StoredForm.tokenScope(try row["scope"], project: try row["project_key"]), createdAt: try row["created_at"],
            expiresAt: try row["expires_at"], description: try row["description"])
    }
}

// MARK: Schedule claims

extension PostgresStorage: ScheduleClaimStore {
    public func claim(workerKey: String, slot: Int64) async throws -> Bool {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return try await read { connection in
            try await !connection.query(
                """
                INSERT INTO schedule_claim (worker_key, slot, claimed_at) VALUES (\(workerKey), \(slot), \(now))
                ON CONFLICT (worker_key, slot) DO NOTHING RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    public func forgetClaims(before slot: Int64) async throws {
        _ = try await read { connection in
            try await connection.query("DELETE FROM schedule_claim WHERE slot < \(slot)", logger: self.logger).collect().count
        }
    }
}
