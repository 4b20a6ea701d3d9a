import Foundation
import GRDB
import WardenCore

extension SQLiteStorage: BuildStore {
    public func saveBuild(_ build: BuildRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO build (name, number, started, started_millis, info, saved_at, saved_by) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name, number) DO UPDATE SET started = excluded.started, started_millis = excluded.started_millis,
                        info = excluded.info, saved_at = excluded.saved_at, saved_by = excluded.saved_by
                    """,
                arguments: [build.name, build.number, build.started, build.startedMillis, build.infoJSON, build.savedAt, build.savedBy])
        }
    }

    public func buildNames() async throws -> [BuildName] {
        try await pool.read { db in
            // The latest run of each name: the one with the greatest start (the greatest number among equal starts).
            try Row.fetchAll(
                db,
                sql: """
                    SELECT name, started, started_millis FROM build AS b WHERE NOT EXISTS (
                        SELECT 1 FROM build AS later WHERE later.name = b.name AND (later.started_millis > b.started_millis
                            OR (later.started_millis = b.started_millis AND later.number > b.number)))
                    ORDER BY name
                    """
            ).map { BuildName(name: $0["name"], lastStarted: $0["started"], lastStartedMillis: $0["started_millis"]) }
        }
    }

    public func buildRuns(named name: String) async throws -> [BuildRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT name, number, started, started_millis, '' AS info, saved_at, saved_by FROM build WHERE name = ?
                    ORDER BY started_millis DESC, number DESC
                    """, arguments: [name]
            ).map(Self.build(from:))
        }
    }

    public func build(name: String, number: String) async throws -> BuildRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM build WHERE name = ? AND number = ?", arguments: [name, number]).map(Self.build(from:))
        }
    }

    public func deleteBuilds(name: String, number: String?) async throws -> Int {
        try await pool.write { db in
            if let number {
                try db.execute(sql: "DELETE FROM build WHERE name = ? AND number = ?", arguments: [name, number])
            } else {
                try db.execute(sql: "DELETE FROM build WHERE name = ?", arguments: [name])
            }
            return db.changesCount
        }
    }

    static func build(from row: Row) -> BuildRecord {
        BuildRecord(
            name: row["name"], number: row["number"], started: row["started"], startedMillis: row["started_millis"], infoJSON: row["info"],
            savedAt: row["saved_at"], savedBy: row["saved_by"])
    }
}
