import Foundation
import GRDB
import WardenCore

// MARK: Dashboard users and sessions

extension SQLiteStorage: DashboardUserStore {
    public func createUser(_ user: DashboardUser) async throws -> DashboardUser {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO ci_user (username, password_salt, password_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [user.username, user.passwordSalt, user.passwordHash, user.createdAt])
            var created = user
            created.id = db.lastInsertedRowID
            return created
        }
    }

    static func user(from row: Row) -> DashboardUser {
        DashboardUser(
            id: row["id"], username: row["username"], passwordSalt: row["password_salt"], passwordHash: row["password_hash"],
            createdAt: row["created_at"])
    }

    public func user(username: String) async throws -> DashboardUser? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM ci_user WHERE username = ?", arguments: [username]).map(Self.user(from:))
        }
    }

    public func createSession(tokenHash: String, userID: Int64, expiresAt: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM ci_session WHERE expires_at < ?", arguments: [Int64(Date().timeIntervalSince1970 * 1000)])
            try db.execute(
                sql: "INSERT INTO ci_session (token_hash, user_id, expires_at) VALUES (?, ?, ?)", arguments: [tokenHash, userID, expiresAt])
        }
    }

    public func session(tokenHash: String) async throws -> DashboardSession? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT u.*, s.expires_at AS session_expires_at FROM ci_session s JOIN ci_user u ON u.id = s.user_id WHERE s.token_hash = ?",
                arguments: [tokenHash]
            ).map { DashboardSession(user: Self.user(from: $0), expiresAt: $0["session_expires_at"]) }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM ci_session WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func abandonRunningRuns(note: String, at millis: Int64, drivenBy driver: String?) async throws -> Int {
        try await pool.write { db in
            // `?2 IS NULL`: every running run; otherwise those of that driver.
            try db.execute(
                sql: """
                    UPDATE ci_job SET status = 'failed', finished_at = ?1
                    WHERE status IN ('pending', 'running')
                        AND run_id IN (SELECT id FROM ci_run WHERE status = 'Running' AND (?2 IS NULL OR driver = ?2))
                    """, arguments: [millis, driver])
            try db.execute(
                sql: "UPDATE ci_run SET status = 'Error', log = log || ?1, finished_at = ?2 WHERE status = 'Running' AND (?3 IS NULL OR driver = ?3)",
                arguments: [note, millis, driver])
            return db.changesCount
        }
    }
}
