import Foundation
import PostgresNIO
import WardenCore

extension PostgresStorage: BuildStore {
    public func saveBuild(_ build: BuildRecord) async throws {
        _ = try await write { connection in
            try await connection.query(
                """
                INSERT INTO build (name, number, started, started_millis, info, saved_at, saved_by)
                VALUES (\(build.name), \(build.number), \(build.started), \(build.startedMillis), \(build.infoJSON), \(build.savedAt),
                    \(build.savedBy))
                ON CONFLICT (name, number) DO UPDATE SET started = excluded.started, started_millis = excluded.started_millis,
                    info = excluded.info, saved_at = excluded.saved_at, saved_by = excluded.saved_by
                """, logger: self.logger
            ).collect().count
        }
    }

    public func buildNames() async throws -> [BuildName] {
        try await read { connection in
            try await Self.rows(
                """
                SELECT DISTINCT ON (name) name, started, started_millis FROM build
                ORDER BY name, started_millis DESC, number DESC
                """, on: connection, logger: self.logger
            ).map { BuildName(name: try $0["name"], lastStarted: try $0["started"], lastStartedMillis: try $0["started_millis"]) }
        }
    }

    public func buildRuns(named name: String) async throws -> [BuildRecord] {
        try await read { connection in
            try await Self.rows(
                """
                SELECT name, number, started, started_millis, '' AS info, saved_at, saved_by FROM build WHERE name = \(name)
                ORDER BY started_millis DESC, number DESC
                """, on: connection, logger: self.logger
            ).map(Self.build(from:))
        }
    }

    public func build(name: String, number: String) async throws -> BuildRecord? {
        try await read { connection in
            try await Self.rows("SELECT * FROM build WHERE name = \(name) AND number = \(number)", on: connection, logger: self.logger).first
                .map(Self.build(from:))
        }
    }

    public func deleteBuilds(name: String, number: String?) async throws -> Int {
        try await write { connection in
            if let number {
                return try await connection.query("DELETE FROM build WHERE name = \(name) AND number = \(number) RETURNING 1", logger: self.logger)
                    .collect().count
            }
            return try await connection.query("DELETE FROM build WHERE name = \(name) RETURNING 1", logger: self.logger).collect().count
        }
    }

    static func build(from row: Columns) throws -> BuildRecord {
        BuildRecord(
            name: try row["name"], number: try row["number"], started: try row["started"], startedMillis: try row["started_millis"],
            infoJSON: try row["info"], savedAt: try row["saved_at"], savedBy: try row["saved_by"])
    }
}
