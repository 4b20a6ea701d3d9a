import Foundation
import GRDB
import Testing
import WardenCore

@testable import WardenStorage

/// Migrations go forward only (docs/operations.md, upgrading): a database a newer Warden migrated is refused by
/// name and left as it is.
@Suite("SQLite storage: forward-only migrations")
struct ForwardMigrationTests {
    @Test func aDatabaseANewerWardenMigratedIsRefusedAndLeftAlone() async throws {
        let path = try temporaryDatabasePath("warden-forward-migrations")
        _ = try SQLiteStorage(path: path)
        do {
            let pool = try DatabasePool(path: path)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('999-from-the-future')")
            }
        }
        #expect {
            _ = try SQLiteStorage(path: path)
        } throws: { error in
            (error as? WardenError)?.message.contains("'999-from-the-future', which this server does not know: a newer Warden made it") == true
        }
        let pool = try DatabasePool(path: path)
        let applied = try await pool.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(applied.count == SQLiteStorage.migrator.migrations.count + 1)
    }
}
