import Foundation
import Logging
import PostgresNIO
import WardenCore

// MARK: Artifacts
//
// A repository's tree is changed under its advisory lock (`repo:<key>`), so that folders, replaced files and the quota
// are read and written as SQLite's single writer would. A blob's file is written and removed under its own lock
// (`blob:<sha256>`): an upload holds it from its item's insert to its commit (the file is renamed into place in
// between), and a blob no item refers to any more is released after the change commits, in a transaction of its own
// that takes the lock and looks again. So an upload of equal content on another server never loses its file to a
// delete that committed just before.

extension PostgresStorage: ArtifactStore {
    public func referencedBlobs() async throws -> Set<String> {
        try await read { connection in
            Set(
                try await connection.query("SELECT DISTINCT sha256 FROM item WHERE NOT is_folder", logger: self.logger).collect().map {
                    try $0.decode(String.self)
                })
        }
    }

    public func binaries() async throws -> (count: Int64, bytes: Int64) {
        let figures = try await read { connection in
            try await connection.query(
                """
                SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT
                FROM (SELECT sha256, MAX(size) AS size FROM item WHERE NOT is_folder GROUP BY sha256) AS blob
                """, logger: self.logger
            ).collect().first?.decode((Int64, Int64).self)
        }
        return (figures?.0 ?? 0, figures?.1 ?? 0)
    }

    public func repositories() async throws -> [Repository] {
        try await read { connection in
            try await Self.rows("SELECT * FROM repository ORDER BY key", on: connection, logger: self.logger).map(Self.repository(from:))
        }
    }

    public func repository(key: String) async throws -> Repository? {
        try await read { connection in
            try await Self.rows("SELECT * FROM repository WHERE key = \(key)", on: connection, logger: self.logger).first.map(
                Self.repository(from:))
        }
    }

    static func repository(from row: Columns) throws -> Repository {
        Repository(
            key: try row["key"], description: try row["description"], anonymousRead: try row["anonymous_read"],
            createdAt: try row["created_at"], quotaBytes: try row["quota_bytes"], layout: StoredForm.layout(try row["layout"]))
    }

    public func createRepository(_ repository: Repository) async throws -> Bool {
        try await write { connection in
            let created = try await connection.query(
                """
                INSERT INTO repository (key, description, anonymous_read, created_at, quota_bytes, layout)
                VALUES (\(repository.key), \(repository.description), \(repository.anonymousRead), \(repository.createdAt),
                    \(repository.quotaBytes), \(StoredForm.layoutText(repository.layout)))
                ON CONFLICT (key) DO NOTHING RETURNING 1
                """, logger: self.logger
            ).collect()
            guard !created.isEmpty else { return false }
            let root = ArtifactItem(
                repo: repository.key, path: "", isFolder: true, createdAt: repository.createdAt, modifiedAt: repository.createdAt,
                updatedAt: repository.createdAt, createdBy: "system", modifiedBy: "system")
            try await Self.insert(root, on: connection, logger: self.logger)
            try await self.notify(.repositories, on: connection)
            return true
        }
    }

    public func updateRepository(key: String, _ change: @escaping @Sendable (inout Repository) throws -> Void) async throws -> Repository? {
        try await write { connection in
            guard
                var repository = try await Self.rows("SELECT * FROM repository WHERE key = \(key) FOR UPDATE", on: connection, logger: self.logger)
                    .first.map(Self.repository(from:))
            else { return nil }
            try change(&repository)
            try await connection.query(
                """
                UPDATE repository SET description = \(repository.description), anonymous_read = \(repository.anonymousRead),
                    quota_bytes = \(repository.quotaBytes), layout = \(StoredForm.layoutText(repository.layout))
                WHERE key = \(key)
                """, logger: self.logger)
            try await self.notify(.repositories, on: connection)
            return repository
        }
    }

    public func deleteRepository(key: String, release: @escaping @Sendable (String) -> Void) async throws {
        let hashes = try await write { connection in
            try await Self.lock("repo:\(key)", on: connection, logger: self.logger)
            let hashes = try await connection.query(
                "SELECT DISTINCT sha256 FROM item WHERE repo = \(key) AND NOT is_folder", logger: self.logger
            ).collect().map { try $0.decode(String.self) }
            try await connection.query("DELETE FROM repository WHERE key = \(key)", logger: self.logger)
            try await self.notify(.repositories, on: connection)
            try await self.notify(.items(repo: key), on: connection)
            return hashes
        }
        try await releaseIfUnreferenced(hashes, release: release)
    }

    public func summaries() async throws -> [RepositorySummary] {
        try await read { connection in
            try await Self.rows(
                """
                SELECT r.key AS key, COUNT(*) FILTER (WHERE i.is_folder = FALSE) AS files,
                    COUNT(*) FILTER (WHERE i.is_folder AND i.path != '') AS folders, COALESCE(SUM(i.size), 0)::BIGINT AS used
                FROM repository r LEFT JOIN item i ON i.repo = r.key GROUP BY r.key ORDER BY r.key
                """, on: connection, logger: self.logger
            ).map { RepositorySummary(key: try $0["key"], files: try $0["files"], folders: try $0["folders"], usedBytes: try $0["used"]) }
        }
    }

    public func item(repo: String, path: String) async throws -> ArtifactItem? {
        try await read { connection in
            try await Self.rows("SELECT * FROM item WHERE repo = \(repo) AND path = \(path)", on: connection, logger: self.logger).first.map(
                Self.item(from:))
        }
    }

    public func children(repo: String, path: String) async throws -> [ArtifactItem] {
        try await read { connection in
            try await Self.rows("SELECT * FROM item WHERE repo = \(repo) AND parent = \(path) ORDER BY path", on: connection, logger: self.logger)
                .map(Self.item(from:))
        }
    }

    public func descendants(repo: String, path: String) async throws -> [ArtifactItem] {
        try await read { connection in
            let query: PostgresQuery =
                path.isEmpty
                ? "SELECT * FROM item WHERE repo = \(repo) AND path != '' ORDER BY path"
                : "SELECT * FROM item WHERE repo = \(repo) AND path >= \(path + "/") AND path < \(path + "0") ORDER BY path"
            return try await Self.rows(query, on: connection, logger: self.logger).map(Self.item(from:))
        }
    }

    public func search(repos: [String]?) async throws -> [(ArtifactItem, ArtifactProperties)] {
        let found = try await read { connection in
            let items: [ArtifactItem]
            let propertyRows: [Columns]
            if let repos {
                items = try await Self.rows("SELECT * FROM item WHERE repo = ANY(\(repos))", on: connection, logger: self.logger).map(
                    Self.item(from:))
                propertyRows = try await Self.rows(
                    "SELECT repo, path, name, value FROM item_property WHERE repo = ANY(\(repos)) ORDER BY position", on: connection,
                    logger: self.logger)
            } else {
                items = try await Self.rows("SELECT * FROM item", on: connection, logger: self.logger).map(Self.item(from:))
                propertyRows = try await Self.rows(
                    "SELECT repo, path, name, value FROM item_property ORDER BY position", on: connection, logger: self.logger)
            }
            var properties: [String: ArtifactProperties] = [:]
            for row in propertyRows {
                let repo: String = try row["repo"]
                let path: String = try row["path"]
                properties["\(repo)\u{0}\(path)", default: [:]][try row["name"], default: []].append(try row["value"])
            }
            return items.map { SearchRow(item: $0, properties: properties["\($0.repo)\u{0}\($0.path)"] ?? [:]) }
        }
        return found.map { ($0.item, $0.properties) }
    }

    /// An item with its properties, as one sendable value.
    struct SearchRow: Sendable {
        var item: ArtifactItem
        var properties: ArtifactProperties
    }

    public func putFile(
        _ item: ArtifactItem, properties: ArtifactProperties?, quotaBytes: Int64?, materialize: @escaping @Sendable () throws -> Void,
        release: @escaping @Sendable (String) -> Void
    ) async throws -> ArtifactItem {
        let (stored, replaced) = try await write { connection in
            try await Self.lock("repo:\(item.repo)", on: connection, logger: self.logger)
            try await Self.lock("blob:\(item.sha256)", on: connection, logger: self.logger)
            try await Self.ensureFolders(above: item, on: connection, logger: self.logger)
            var item = item
            var replaced: String?
            if let existing = try await Self.rows(
                "SELECT * FROM item WHERE repo = \(item.repo) AND path = \(item.path)", on: connection, logger: self.logger
            ).first.map(Self.item(from:)) {
                item = try StoredForm.replacing(existing, with: item)
                try await connection.query(
                    """
                    UPDATE item SET size = \(item.size), sha256 = \(item.sha256), sha1 = \(item.sha1), md5 = \(item.md5),
                        modified_at = \(item.modifiedAt), updated_at = \(item.updatedAt), modified_by = \(item.modifiedBy)
                    WHERE repo = \(item.repo) AND path = \(item.path)
                    """, logger: self.logger)
                if existing.sha256 != item.sha256 { replaced = existing.sha256 }
            } else {
                try await Self.insert(item, on: connection, logger: self.logger)
            }
            if let properties { try await Self.write(properties, repo: item.repo, paths: [item.path], on: connection, logger: self.logger) }
            if let quotaBytes {
                // Under the repository's lock: two uploads at once cannot both pass the quota.
                let used = try await Self.usedBytes(repo: item.repo, on: connection, logger: self.logger)
                if used > quotaBytes {
                    throw WardenError(
                        .tooLarge,
                        "repository '\(item.repo)' has a quota of \(quotaBytes) bytes; with this file of \(item.size) bytes its files would hold \(used)"
                    )
                }
            }
            try await self.notify(.items(repo: item.repo), on: connection)
            try materialize()
            return (item, replaced)
        }
        if let replaced { try await releaseIfUnreferenced([replaced], release: release) }
        return stored
    }

    public func usedBytes(repo: String) async throws -> Int64 {
        try await read { connection in try await Self.usedBytes(repo: repo, on: connection, logger: self.logger) }
    }

    static func usedBytes(repo: String, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query("SELECT COALESCE(SUM(size), 0)::BIGINT FROM item WHERE repo = \(repo) AND NOT is_folder", logger: logger)
            .collect().first?.decode(Int64.self) ?? 0
    }

    public func putFolder(_ item: ArtifactItem) async throws {
        try await write { connection in
            try await Self.lock("repo:\(item.repo)", on: connection, logger: self.logger)
            try await Self.ensureFolders(above: item, on: connection, logger: self.logger)
            if let isFolder = try await connection.query(
                "SELECT is_folder FROM item WHERE repo = \(item.repo) AND path = \(item.path)", logger: self.logger
            ).collect().first?.decode(Bool.self) {
                guard isFolder else { throw WardenError(.conflict, "\(item.repo)/\(item.path) is a file") }
                return
            }
            try await Self.insert(item, on: connection, logger: self.logger)
            try await self.notify(.items(repo: item.repo), on: connection)
        }
    }

    public func delete(repo: String, path: String, release: @escaping @Sendable (String) -> Void) async throws -> Bool {
        let hashes: [String]? = try await write { connection in
            try await Self.lock("repo:\(repo)", on: connection, logger: self.logger)
            let deleted = try await connection.query(
                """
                DELETE FROM item WHERE repo = \(repo) AND (path = \(path) OR (path >= \(path + "/") AND path < \(path + "0")))
                RETURNING is_folder, sha256
                """, logger: self.logger
            ).collect().map { try $0.decode((Bool, String).self) }
            guard !deleted.isEmpty else { return nil }
            try await self.notify(.items(repo: repo), on: connection)
            return Array(Set(deleted.filter { !$0.0 }.map(\.1)))
        }
        guard let hashes else { return false }
        try await releaseIfUnreferenced(hashes, release: release)
        return true
    }

    public func properties(repo: String, path: String) async throws -> ArtifactProperties {
        try await read { connection in
            var properties: ArtifactProperties = [:]
            for row in try await Self.rows(
                "SELECT name, value FROM item_property WHERE repo = \(repo) AND path = \(path) ORDER BY position", on: connection,
                logger: self.logger)
            {
                properties[try row["name"], default: []].append(try row["value"])
            }
            return properties
        }
    }

    public func setProperties(repo: String, paths: [String], _ properties: ArtifactProperties, at millis: Int64) async throws {
        try await write { connection in
            try await Self.lock("repo:\(repo)", on: connection, logger: self.logger)
            // Items deleted since the request found them are not written to (their properties would have no item).
            let present = Set(
                try await connection.query("SELECT path FROM item WHERE repo = \(repo) AND path = ANY(\(paths))", logger: self.logger).collect()
                    .map { try $0.decode(String.self) })
            let kept = paths.filter(present.contains)
            guard !kept.isEmpty else { throw WardenError(.notFound, "\(repo)/\(paths.first ?? "") does not exist") }
            try await Self.write(properties, repo: repo, paths: kept, on: connection, logger: self.logger)
            try await connection.query("UPDATE item SET updated_at = \(millis) WHERE repo = \(repo) AND path = ANY(\(kept))", logger: self.logger)
            try await self.notify(.items(repo: repo), on: connection)
        }
    }

    public func deleteProperties(repo: String, paths: [String], names: [String], at millis: Int64) async throws {
        try await write { connection in
            try await Self.lock("repo:\(repo)", on: connection, logger: self.logger)
            try await connection.query(
                "DELETE FROM item_property WHERE repo = \(repo) AND path = ANY(\(paths)) AND name = ANY(\(names))", logger: self.logger)
            try await connection.query("UPDATE item SET updated_at = \(millis) WHERE repo = \(repo) AND path = ANY(\(paths))", logger: self.logger)
            try await self.notify(.items(repo: repo), on: connection)
        }
    }

    public func recordDownloads(_ downloads: [DownloadRecord]) async throws {
        guard !downloads.isEmpty else { return }
        // One statement for the batch: per item, how many, and the latest one's time and user.
        var counted: [String: (repo: String, path: String, count: Int64, millis: Int64, user: String)] = [:]
        for download in downloads {
            let key = "\(download.repo)\u{0}\(download.path)"
            if var known = counted[key] {
                known.count += 1
                if download.millis >= known.millis { (known.millis, known.user) = (download.millis, download.user) }
                counted[key] = known
            } else {
                counted[key] = (download.repo, download.path, 1, download.millis, download.user)
            }
        }
        let rows = Array(counted.values)
        let repos = rows.map(\.repo)
        let paths = rows.map(\.path)
        let counts = rows.map(\.count)
        let times = rows.map(\.millis)
        let users = rows.map(\.user)
        try await write { connection in
            try await connection.query(
                """
                UPDATE item SET download_count = item.download_count + d.count,
                    last_downloaded = GREATEST(COALESCE(item.last_downloaded, d.millis), d.millis),
                    last_downloaded_by = CASE WHEN item.last_downloaded > d.millis THEN item.last_downloaded_by ELSE d.username END
                FROM unnest(\(repos)::TEXT[], \(paths)::TEXT[], \(counts)::BIGINT[], \(times)::BIGINT[], \(users)::TEXT[])
                    AS d(repo, path, count, millis, username)
                WHERE item.repo = d.repo AND item.path = d.path
                """, logger: self.logger)
        }
    }

    // MARK: Rows

    static func item(from row: Columns) throws -> ArtifactItem {
        ArtifactItem(
            repo: try row["repo"], path: try row["path"], isFolder: try row["is_folder"], size: try row["size"], sha256: try row["sha256"],
            sha1: try row["sha1"], md5: try row["md5"], createdAt: try row["created_at"], modifiedAt: try row["modified_at"],
            updatedAt: try row["updated_at"], createdBy: try row["created_by"], modifiedBy: try row["modified_by"],
            downloadCount: try row["download_count"], lastDownloaded: try row["last_downloaded"],
            lastDownloadedBy: try row["last_downloaded_by"])
    }

    static func insert(_ item: ArtifactItem, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO item (repo, path, parent, is_folder, size, sha256, sha1, md5, created_at, modified_at, updated_at, created_by,
                modified_by, download_count, last_downloaded, last_downloaded_by)
            VALUES (\(item.repo), \(item.path), \(item.parentPath), \(item.isFolder), \(item.size), \(item.sha256), \(item.sha1), \(item.md5),
                \(item.createdAt), \(item.modifiedAt), \(item.updatedAt), \(item.createdBy), \(item.modifiedBy), \(item.downloadCount),
                \(item.lastDownloaded), \(item.lastDownloadedBy))
            """, logger: logger)
    }

    /// Creates the missing folders above `item`; a file in the way is a conflict. Called under the repository's lock.
    static func ensureFolders(above item: ArtifactItem, on connection: PostgresConnection, logger: Logger) async throws {
        // The repository may have been deleted since the request looked it up: say so, rather than fail on the key.
        guard try await !connection.query("SELECT 1 FROM repository WHERE key = \(item.repo)", logger: logger).collect().isEmpty else {
            throw WardenError(.notFound, "repository '\(item.repo)' does not exist")
        }
        let folders = ArtifactPath.ancestors(of: item.path).filter { !$0.isEmpty }
        guard !folders.isEmpty else { return }
        var existing: [String: Bool] = [:]
        for row in try await connection.query(
            "SELECT path, is_folder FROM item WHERE repo = \(item.repo) AND path = ANY(\(folders))", logger: logger
        ).collect() {
            let (path, isFolder) = try row.decode((String, Bool).self)
            existing[path] = isFolder
        }
        for folder in folders {
            if let isFolder = existing[folder] {
                guard isFolder else { throw WardenError(.conflict, "\(item.repo)/\(folder) is a file, so it cannot hold \(item.path)") }
                continue
            }
            try await insert(
                ArtifactItem(
                    repo: item.repo, path: folder, isFolder: true, createdAt: item.modifiedAt, modifiedAt: item.modifiedAt,
                    updatedAt: item.modifiedAt, createdBy: item.modifiedBy, modifiedBy: item.modifiedBy), on: connection, logger: logger)
        }
    }

    static func write(
        _ properties: ArtifactProperties, repo: String, paths: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let names = Array(properties.keys)
        try await connection.query(
            "DELETE FROM item_property WHERE repo = \(repo) AND path = ANY(\(paths)) AND name = ANY(\(names))", logger: logger)
        var rowPaths: [String] = []
        var rowNames: [String] = []
        var rowValues: [String] = []
        var rowPositions: [Int64] = []
        for path in paths {
            for (name, values) in properties {
                for (position, value) in values.enumerated() {
                    rowPaths.append(path)
                    rowNames.append(name)
                    rowValues.append(value)
                    rowPositions.append(Int64(position))
                }
            }
        }
        guard !rowPaths.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO item_property (repo, path, name, value, position)
            SELECT \(repo), * FROM unnest(\(rowPaths)::TEXT[], \(rowNames)::TEXT[], \(rowValues)::TEXT[], \(rowPositions)::BIGINT[])
            """, logger: logger)
    }

    /// Releases each blob that no item refers to any more, each under its lock, after the change that let it go.
    public func releaseIfUnreferenced(_ hashes: [String], release: @escaping @Sendable (String) -> Void) async throws {
        for hash in Set(hashes) where !hash.isEmpty {
            try await write { connection in
                try await Self.lock("blob:\(hash)", on: connection, logger: self.logger)
                if try await connection.query("SELECT 1 FROM item WHERE sha256 = \(hash) LIMIT 1", logger: self.logger).collect().isEmpty {
                    release(hash)
                }
            }
        }
    }
}

// MARK: Pending runs of asynchronous workers

extension PostgresStorage: PendingRunStore {
    public func enqueue(_ runs: [PendingRun]) async throws {
        guard !runs.isEmpty else { return }
        let workers = runs.map(\.workerKey)
        let data = runs.map(\.dataJSON)
        let triggers = runs.map(\.triggeredBy)
        let depths = runs.map { Int64($0.depth) }
        let traces = runs.map(\.traceID)
        try await write { connection in
            try await connection.query(
                """
                INSERT INTO pending_run (worker_key, data, triggered_by, depth, trace_id)
                SELECT w, d, t, p, i FROM unnest(\(workers)::TEXT[], \(data)::TEXT[], \(triggers)::TEXT[], \(depths)::BIGINT[], \(traces)::TEXT[])
                    WITH ORDINALITY AS r(w, d, t, p, i, n)
                ORDER BY n
                """, logger: self.logger)
            try await self.notify(.pendingRuns, on: connection)
        }
    }

    public func pendingCount() async throws -> Int {
        try await read { connection in
            var count: Int64 = 0
            for try await value in try await connection.query("SELECT COUNT(*) FROM pending_run", logger: self.logger).decode(Int64.self) {
                count = value
            }
            return Int(count)
        }
    }

    public func pending(limit: Int) async throws -> [PendingRun] {
        guard limit > 0 else { return [] }
        return try await read { connection in
            try await Self.rows("SELECT * FROM pending_run ORDER BY id LIMIT \(Int64(limit))", on: connection, logger: self.logger).map(
                Self.pendingRun(from:))
        }
    }

    public func claim(limit: Int, owner: String, now: Int64, until: Int64) async throws -> [PendingRun] {
        guard limit > 0 else { return [] }
        // Rows another server is claiming at this moment are skipped, not waited for.
        return try await read { connection in
            try await Self.rows(
                """
                UPDATE pending_run SET leased_by = \(owner), leased_until = \(until), attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM pending_run WHERE leased_until < \(now) ORDER BY id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                RETURNING *
                """, on: connection, logger: self.logger
            ).map(Self.pendingRun(from:)).sorted { $0.id < $1.id }
        }
    }

    public func renew(ids: [Int64], owner: String, until: Int64) async throws {
        guard !ids.isEmpty else { return }
        try await read { connection in
            try await connection.query(
                "UPDATE pending_run SET leased_until = \(until) WHERE leased_by = \(owner) AND id = ANY(\(ids))", logger: self.logger
            ).collect().count
        }
    }

    public func releaseLeases() async throws {
        try await read { connection in
            try await connection.query("UPDATE pending_run SET leased_by = NULL, leased_until = 0", logger: self.logger).collect().count
        }
    }

    static func pendingRun(from row: Columns) throws -> PendingRun {
        PendingRun(
            id: try row["id"], workerKey: try row["worker_key"], dataJSON: try row["data"], triggeredBy: try row["triggered_by"],
            depth: Int(try row["depth"] as Int64), attempts: Int(try row["attempts"] as Int64), traceID: try row["trace_id"])
    }

    public func finish(id: Int64) async throws {
        _ = try await read { connection in
            try await connection.query("DELETE FROM pending_run WHERE id = \(id)", logger: self.logger).collect().count
        }
    }
}
