import Foundation
import GRDB
import WardenCore

// MARK: Artifacts

extension SQLiteStorage: ArtifactStore {
    public func referencedBlobs() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM item WHERE is_folder = 0 AND sha256 IS NOT NULL")) }
    }

    public func releaseIfUnreferenced(_ hashes: [String], release: @escaping @Sendable (String) -> Void) async throws {
        // In a write transaction: an upload renames its blob and commits its item inside one, so this sees either
        // no file of it yet or its item.
        try await pool.write { db in try Self.releaseUnreferenced(hashes, in: db, release: release) }
    }

    public func binaries() async throws -> (count: Int64, bytes: Int64) {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes
                    FROM (SELECT sha256, MAX(size) AS size FROM item WHERE is_folder = 0 GROUP BY sha256)
                    """)
            return (row?["count"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    public func repositories() async throws -> [Repository] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM repository ORDER BY key").map(Self.repository(from:)) }
    }

    public func repository(key: String) async throws -> Repository? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM repository WHERE key = ?"), arguments: [key]).map(Self.repository(from:))
        }
    }

    static func repository(from row: Row) -> Repository {
        Repository(
            key: row["key"], description: row["description"], anonymousRead: row["anonymous_read"], createdAt: row["created_at"],
            quotaBytes: row["quota_bytes"], layout: StoredForm.layout(row["layout"]))
    }

    public func createRepository(_ repository: Repository) async throws -> Bool {
        try await pool.write { db in
            guard try !(Bool.fetchOne(db, sql: "SELECT 1 FROM repository WHERE key = ?", arguments: [repository.key]) ?? false) else { return false }
            try db.execute(
                sql: "INSERT INTO repository (key, description, anonymous_read, created_at, quota_bytes, layout) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    repository.key, repository.description, repository.anonymousRead, repository.createdAt, repository.quotaBytes,
                    StoredForm.layoutText(repository.layout),
                ])
            let root = ArtifactItem(
                repo: repository.key, path: "", isFolder: true, createdAt: repository.createdAt, modifiedAt: repository.createdAt,
                updatedAt: repository.createdAt, createdBy: "system", modifiedBy: "system")
            try Self.insert(root, in: db)
            return true
        }
    }

    public func updateRepository(key: String, _ change: @escaping @Sendable (inout Repository) throws -> Void) async throws -> Repository? {
        try await pool.write { db in
            guard var repository = try Row.fetchOne(db, sql: "SELECT * FROM repository WHERE key = ?", arguments: [key]).map(Self.repository(from:))
            else { return nil }
            try change(&repository)
            try db.execute(
                sql: "UPDATE repository SET description = ?, anonymous_read = ?, quota_bytes = ?, layout = ? WHERE key = ?",
                arguments: [repository.description, repository.anonymousRead, repository.quotaBytes, StoredForm.layoutText(repository.layout), key])
            return repository
        }
    }

    public func deleteRepository(key: String, release: @escaping @Sendable (String) -> Void) async throws {
        try await pool.write { db in
            let hashes = try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM item WHERE repo = ? AND is_folder = 0", arguments: [key])
            try db.execute(sql: "DELETE FROM repository WHERE key = ?", arguments: [key])
            try Self.releaseUnreferenced(hashes, in: db, release: release)
        }
    }

    public func summaries() async throws -> [RepositorySummary] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.key AS key, COALESCE(SUM(CASE WHEN i.is_folder = 0 THEN 1 ELSE 0 END), 0) AS files,
                        COALESCE(SUM(CASE WHEN i.is_folder = 1 AND i.path != '' THEN 1 ELSE 0 END), 0) AS folders,
                        COALESCE(SUM(i.size), 0) AS used
                    FROM repository r LEFT JOIN item i ON i.repo = r.key GROUP BY r.key ORDER BY r.key
                    """
            ).map { RepositorySummary(key: $0["key"], files: $0["files"], folders: $0["folders"], usedBytes: $0["used"]) }
        }
    }

    public func item(repo: String, path: String) async throws -> ArtifactItem? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM item WHERE repo = ? AND path = ?"), arguments: [repo, path]).map(Self.item(from:))
        }
    }

    public func children(repo: String, path: String) async throws -> [ArtifactItem] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM item WHERE repo = ? AND parent = ? ORDER BY path", arguments: [repo, path]).map(Self.item(from:))
        }
    }

    public func descendants(repo: String, path: String) async throws -> [ArtifactItem] {
        try await pool.read { db in
            if path.isEmpty {
                return try Row.fetchAll(db, sql: "SELECT * FROM item WHERE repo = ? AND path != '' ORDER BY path", arguments: [repo]).map(
                    Self.item(from:))
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM item WHERE repo = ? AND substr(path, 1, ?) = ? ORDER BY path",
                arguments: [repo, path.utf8.count + 1, path + "/"]
            ).map(Self.item(from:))
        }
    }

    public func search(repos: [String]?) async throws -> [(ArtifactItem, ArtifactProperties)] {
        try await pool.read { db in
            let filter = repos.map { "WHERE repo IN (\(Array(repeating: "?", count: $0.count).joined(separator: ",")))" } ?? ""
            let arguments = StatementArguments(repos ?? [])
            let items = try Row.fetchAll(db, sql: "SELECT * FROM item \(filter)", arguments: arguments).map(Self.item(from:))
            var properties: [String: ArtifactProperties] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM item_property \(filter) ORDER BY position", arguments: arguments) {
                let repo: String = row["repo"]
                let path: String = row["path"]
                properties["\(repo)\u{0}\(path)", default: [:]][row["name"], default: []].append(row["value"])
            }
            return items.map { ($0, properties["\($0.repo)\u{0}\($0.path)"] ?? [:]) }
        }
    }

    public func putFile(
        _ item: ArtifactItem, properties: ArtifactProperties?, quotaBytes: Int64?, materialize: @escaping @Sendable () throws -> Void,
        release: @escaping @Sendable (String) -> Void
    ) async throws -> ArtifactItem {
        try await pool.write { db in
            try Self.ensureFolders(above: item, in: db)
            var item = item
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM item WHERE repo = ? AND path = ?", arguments: [item.repo, item.path])
                .map(Self.item(from:))
            {
                item = try StoredForm.replacing(existing, with: item)
                try db.execute(
                    sql: """
                        UPDATE item SET size = ?, sha256 = ?, sha1 = ?, md5 = ?, modified_at = ?, updated_at = ?, modified_by = ?
                        WHERE repo = ? AND path = ?
                        """,
                    arguments: [item.size, item.sha256, item.sha1, item.md5, item.modifiedAt, item.updatedAt, item.modifiedBy, item.repo, item.path])
                if existing.sha256 != item.sha256 { try Self.releaseUnreferenced([existing.sha256], in: db, release: release) }
            } else {
                try Self.insert(item, in: db)
            }
            if let properties { try Self.write(properties, repo: item.repo, paths: [item.path], in: db) }
            if let quotaBytes {
                // Inside the transaction: two uploads at once cannot both pass the quota.
                let used = try Self.usedBytes(repo: item.repo, in: db)
                if used > quotaBytes {
                    throw WardenError(
                        .tooLarge,
                        "repository '\(item.repo)' has a quota of \(quotaBytes) bytes; with this file of \(item.size) bytes its files would hold \(used)"
                    )
                }
            }
            try materialize()
            return item
        }
    }

    public func usedBytes(repo: String) async throws -> Int64 {
        try await pool.read { db in try Self.usedBytes(repo: repo, in: db) }
    }

    static func usedBytes(repo: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM item WHERE repo = ? AND is_folder = 0", arguments: [repo]) ?? 0
    }

    public func putFolder(_ item: ArtifactItem) async throws {
        try await pool.write { db in
            try Self.ensureFolders(above: item, in: db)
            if let existing = try Row.fetchOne(db, sql: "SELECT is_folder FROM item WHERE repo = ? AND path = ?", arguments: [item.repo, item.path]) {
                let isFolder: Bool = existing["is_folder"]
                guard isFolder else { throw WardenError(.conflict, "\(item.repo)/\(item.path) is a file") }
                return
            }
            try Self.insert(item, in: db)
        }
    }

    public func delete(repo: String, path: String, release: @escaping @Sendable (String) -> Void) async throws -> Bool {
        try await pool.write { db in
            let condition = "repo = ? AND (path = ? OR substr(path, 1, ?) = ?)"
            let arguments: StatementArguments = [repo, path, path.utf8.count + 1, path + "/"]
            let hashes = try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM item WHERE is_folder = 0 AND \(condition)", arguments: arguments)
            try db.execute(sql: "DELETE FROM item WHERE \(condition)", arguments: arguments)
            guard db.changesCount > 0 else { return false }
            try Self.releaseUnreferenced(hashes, in: db, release: release)
            return true
        }
    }

    public func properties(repo: String, path: String) async throws -> ArtifactProperties {
        try await pool.read { db in
            var properties: ArtifactProperties = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT name, value FROM item_property WHERE repo = ? AND path = ? ORDER BY position", arguments: [repo, path])
            {
                properties[row["name"], default: []].append(row["value"])
            }
            return properties
        }
    }

    public func setProperties(repo: String, paths: [String], _ properties: ArtifactProperties, at millis: Int64) async throws {
        try await pool.write { db in
            // Items deleted since the request found them are not written to (their properties would have no item).
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM item WHERE repo = ? AND path = ?")
            let present = try paths.filter { try Bool.fetchOne(statement, arguments: [repo, $0]) == true }
            guard !present.isEmpty else { throw WardenError(.notFound, "\(repo)/\(paths.first ?? "") does not exist") }
            try Self.write(properties, repo: repo, paths: present, in: db)
            for path in present {
                try db.execute(sql: "UPDATE item SET updated_at = ? WHERE repo = ? AND path = ?", arguments: [millis, repo, path])
            }
        }
    }

    public func deleteProperties(repo: String, paths: [String], names: [String], at millis: Int64) async throws {
        try await pool.write { db in
            for path in paths {
                for name in names {
                    try db.execute(sql: "DELETE FROM item_property WHERE repo = ? AND path = ? AND name = ?", arguments: [repo, path, name])
                }
                try db.execute(sql: "UPDATE item SET updated_at = ? WHERE repo = ? AND path = ?", arguments: [millis, repo, path])
            }
        }
    }

    public func recordDownloads(_ downloads: [DownloadRecord]) async throws {
        try await pool.write { db in
            // The latest download's time and user, whatever the order the batches of several servers arrive in.
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE item SET download_count = download_count + 1,
                        last_downloaded_by = CASE WHEN last_downloaded > ?1 THEN last_downloaded_by ELSE ?2 END,
                        last_downloaded = MAX(COALESCE(last_downloaded, ?1), ?1)
                    WHERE repo = ?3 AND path = ?4
                    """)
            for download in downloads {
                try statement.execute(arguments: [download.millis, download.user, download.repo, download.path])
            }
        }
    }

    // MARK: Rows

    static func item(from row: Row) -> ArtifactItem {
        ArtifactItem(
            repo: row["repo"], path: row["path"], isFolder: row["is_folder"], size: row["size"], sha256: row["sha256"], sha1: row["sha1"],
            md5: row["md5"], createdAt: row["created_at"], modifiedAt: row["modified_at"], updatedAt: row["updated_at"],
            createdBy: row["created_by"], modifiedBy: row["modified_by"], downloadCount: row["download_count"],
            lastDownloaded: row["last_downloaded"], lastDownloadedBy: row["last_downloaded_by"])
    }

    static func insert(_ item: ArtifactItem, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO item (repo, path, parent, is_folder, size, sha256, sha1, md5, created_at, modified_at, updated_at, created_by,
                    modified_by, download_count, last_downloaded, last_downloaded_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                item.repo, item.path, item.parentPath, item.isFolder, item.size, item.sha256, item.sha1, item.md5, item.createdAt, item.modifiedAt,
                item.updatedAt, item.createdBy, item.modifiedBy, item.downloadCount, item.lastDownloaded, item.lastDownloadedBy,
            ])
    }

    /// Creates the missing folders above `item`; a file in the way is a conflict.
    static func ensureFolders(above item: ArtifactItem, in db: Database) throws {
        // The repository may have been deleted since the request looked it up: say so, rather than fail on the key.
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM repository WHERE key = ?"), arguments: [item.repo]) == true else {
            throw WardenError(.notFound, "repository '\(item.repo)' does not exist")
        }
        for folder in ArtifactPath.ancestors(of: item.path) where !folder.isEmpty {
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT is_folder FROM item WHERE repo = ? AND path = ?"), arguments: [item.repo, folder])
            {
                let isFolder: Bool = row["is_folder"]
                guard isFolder else { throw WardenError(.conflict, "\(item.repo)/\(folder) is a file, so it cannot hold \(item.path)") }
                continue
            }
            try insert(
                ArtifactItem(
                    repo: item.repo, path: folder, isFolder: true, createdAt: item.modifiedAt, modifiedAt: item.modifiedAt,
                    updatedAt: item.modifiedAt,
                    createdBy: item.modifiedBy, modifiedBy: item.modifiedBy), in: db)
        }
    }

    static func write(_ properties: ArtifactProperties, repo: String, paths: [String], in db: Database) throws {
        for path in paths {
            for (name, values) in properties {
                try db.execute(sql: "DELETE FROM item_property WHERE repo = ? AND path = ? AND name = ?", arguments: [repo, path, name])
                for (position, value) in values.enumerated() {
                    try db.execute(
                        sql: "INSERT INTO item_property (repo, path, name, value, position) VALUES (?, ?, ?, ?, ?)",
                        arguments: [repo, path, name, value, position])
                }
            }
        }
    }

    static func releaseUnreferenced(_ hashes: [String], in db: Database, release: (String) -> Void) throws {
        for hash in hashes where !hash.isEmpty {
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM item WHERE sha256 = ? LIMIT 1", arguments: [hash]) != true { release(hash) }
        }
    }
}

// MARK: Pending runs of asynchronous workers

extension SQLiteStorage: PendingRunStore {
    public func enqueue(_ runs: [PendingRun]) async throws {
        try await pool.write { db in
            for run in runs {
                try db.cachedStatement(
                    sql: "INSERT INTO pending_run (worker_key, data, triggered_by, depth, trace_id) VALUES (?, ?, ?, ?, ?)"
                ).execute(arguments: [run.workerKey, run.dataJSON, run.triggeredBy, run.depth, run.traceID])
            }
        }
    }

    public func pendingCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_run") ?? 0 }
    }

    public func pending(limit: Int) async throws -> [PendingRun] {
        guard limit > 0 else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM pending_run ORDER BY id LIMIT ?", arguments: [limit]).map(Self.pendingRun(from:))
        }
    }

    public func claim(limit: Int, owner: String, now: Int64, until: Int64) async throws -> [PendingRun] {
        guard limit > 0 else { return [] }
        return try await pool.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM pending_run WHERE leased_until < ? ORDER BY id LIMIT ?", arguments: [now, limit])
            guard !ids.isEmpty else { return [] }
            let list = databaseQuestionMarks(count: ids.count)
            try db.execute(
                sql: "UPDATE pending_run SET leased_by = ?, leased_until = ?, attempts = attempts + 1 WHERE id IN (\(list))",
                arguments: [owner, until] + StatementArguments(ids))
            return try Row.fetchAll(db, sql: "SELECT * FROM pending_run WHERE id IN (\(list)) ORDER BY id", arguments: StatementArguments(ids))
                .map(Self.pendingRun(from:))
        }
    }

    public func renew(ids: [Int64], owner: String, until: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE pending_run SET leased_until = ? WHERE leased_by = ? AND id IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: [until, owner] + StatementArguments(ids))
        }
    }

    public func releaseLeases() async throws {
        try await pool.write { db in try db.execute(sql: "UPDATE pending_run SET leased_by = NULL, leased_until = 0") }
    }

    static func pendingRun(from row: Row) -> PendingRun {
        PendingRun(
            id: row["id"], workerKey: row["worker_key"], dataJSON: row["data"], triggeredBy: row["triggered_by"], depth: row["depth"],
            attempts: row["attempts"], traceID: row["trace_id"])
    }

    public func finish(id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM pending_run WHERE id = ?", arguments: [id]) }
    }
}
