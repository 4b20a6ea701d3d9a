import Foundation
import GRDB
import WardenCore

// MARK: CI: groups, projects, registration tokens, runners, jobs

extension SQLiteStorage: CIStore {
    static func ciMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE ci_group (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    path TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE ci_project (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id INTEGER REFERENCES ci_group(id),
                    namespace TEXT NOT NULL,
                    path TEXT NOT NULL,
                    name TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (namespace, path)
                );
                CREATE TABLE ci_registration_token (
                    scope TEXT PRIMARY KEY NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    sealed_value BLOB NOT NULL
                );
                CREATE TABLE ci_runner (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    uuid TEXT NOT NULL UNIQUE,
                    token_hash TEXT NOT NULL UNIQUE,
                    scope TEXT NOT NULL,
                    description TEXT NOT NULL,
                    name TEXT,
                    version TEXT,
                    revision TEXT,
                    platform TEXT,
                    architecture TEXT,
                    ip_address TEXT,
                    active INTEGER NOT NULL,
                    locked INTEGER NOT NULL,
                    run_untagged INTEGER NOT NULL,
                    tags TEXT NOT NULL,
                    access_level TEXT NOT NULL,
                    maximum_timeout INTEGER,
                    maintenance_note TEXT,
                    project_ids TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    contacted_at INTEGER
                );
                CREATE TABLE ci_job (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    uuid TEXT NOT NULL UNIQUE,
                    run_id INTEGER NOT NULL,
                    project_id INTEGER NOT NULL,
                    runner_id INTEGER,
                    name TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    status TEXT NOT NULL,
                    ref TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER
                );
                CREATE INDEX ci_job_by_runner ON ci_job(runner_id, id);
                """)
    }

    public func createGroup(_ group: CIGroup) async throws -> CIGroup {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO ci_group (path, name, created_at) VALUES (?, ?, ?)", arguments: [group.path, group.name, group.createdAt])
            var created = group
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func groups() async throws -> [CIGroup] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_group ORDER BY id").map {
                CIGroup(id: $0["id"], path: $0["path"], name: $0["name"], createdAt: $0["created_at"])
            }
        }
    }

    public func createProject(_ project: CIProject) async throws -> CIProject {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO ci_project (group_id, namespace, path, name, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [project.groupID, project.namespace, project.path, project.name, project.createdAt])
            var created = project
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func projects() async throws -> [CIProject] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_project ORDER BY id").map {
                CIProject(
                    id: $0["id"], groupID: $0["group_id"], namespace: $0["namespace"], path: $0["path"], name: $0["name"],
                    createdAt: $0["created_at"])
            }
        }
    }

    static func encode(_ scope: RunnerScope) -> String {
        switch scope {
        case .instance: return "instance"
        case .group(let id): return "group:\(id)"
        case .project(let id): return "project:\(id)"
        }
    }

    static func decodeScope(_ text: String) -> RunnerScope {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let id = Int64(parts[1]) else { return .instance }
        return parts[0] == "group" ? .group(id) : .project(id)
    }

    public func registrationScope(tokenHash: String) async throws -> RunnerScope? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT scope FROM ci_registration_token WHERE token_hash = ?", arguments: [tokenHash]).map(Self.decodeScope)
        }
    }

    public func setRegistrationToken(_ tokenHash: String, sealed: Data, for scope: RunnerScope) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO ci_registration_token (scope, token_hash, sealed_value) VALUES (?, ?, ?)",
                arguments: [Self.encode(scope), tokenHash, sealed])
        }
    }

    public func sealedRegistrationToken(for scope: RunnerScope) async throws -> Data? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed_value FROM ci_registration_token WHERE scope = ?", arguments: [Self.encode(scope)])
        }
    }

    static func runner(from row: Row) throws -> Runner {
        Runner(
            id: row["id"], uuid: row["uuid"], tokenHash: row["token_hash"], scope: decodeScope(row["scope"]), description: row["description"],
            name: row["name"], version: row["version"], revision: row["revision"], platform: row["platform"], architecture: row["architecture"],
            ipAddress: row["ip_address"], active: row["active"], locked: row["locked"], runUntagged: row["run_untagged"],
            tags: try decode([String].self, row["tags"]) ?? [], accessLevel: row["access_level"], maximumTimeout: row["maximum_timeout"],
            maintenanceNote: row["maintenance_note"], projectIDs: try decode([Int64].self, row["project_ids"]) ?? [], createdAt: row["created_at"],
            contactedAt: row["contacted_at"])
    }

    static func write(_ runner: Runner, in db: Database, insert: Bool) throws {
        let values: StatementArguments = [
            runner.uuid, runner.tokenHash, encode(runner.scope), runner.description, runner.name, runner.version, runner.revision, runner.platform,
            runner.architecture, runner.ipAddress, runner.active, runner.locked, runner.runUntagged, try json(runner.tags), runner.accessLevel,
            runner.maximumTimeout, runner.maintenanceNote, try json(runner.projectIDs), runner.createdAt, runner.contactedAt,
        ]
        if insert {
            try db.execute(
                sql: """
                    INSERT INTO ci_runner (uuid, token_hash, scope, description, name, version, revision, platform, architecture, ip_address,
                        active, locked, run_untagged, tags, access_level, maximum_timeout, maintenance_note, project_ids, created_at, contacted_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: values)
        } else {
            try db.execute(
                sql: """
                    UPDATE ci_runner SET uuid = ?, token_hash = ?, scope = ?, description = ?, name = ?, version = ?, revision = ?, platform = ?,
                        architecture = ?, ip_address = ?, active = ?, locked = ?, run_untagged = ?, tags = ?, access_level = ?,
                        maximum_timeout = ?, maintenance_note = ?, project_ids = ?, created_at = ?, contacted_at = ?
                    WHERE id = ?
                    """, arguments: values + [runner.id])
        }
    }

    public func createRunner(_ runner: Runner) async throws -> Runner {
        try await pool.write { db in
            try Self.write(runner, in: db, insert: true)
            var created = runner
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func runner(id: Int64) async throws -> Runner? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM ci_runner WHERE id = ?", arguments: [id]).map(Self.runner(from:)) }
    }

    public func runner(tokenHash: String) async throws -> Runner? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM ci_runner WHERE token_hash = ?", arguments: [tokenHash]).map(Self.runner(from:))
        }
    }

    public func runners() async throws -> [Runner] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM ci_runner ORDER BY id").map(Self.runner(from:)) }
    }

    public func updateRunner(id: Int64, _ change: @escaping @Sendable (inout Runner) throws -> Void) async throws -> Runner? {
        try await pool.write { db in
            guard var runner = try Row.fetchOne(db, sql: "SELECT * FROM ci_runner WHERE id = ?", arguments: [id]).map(Self.runner(from:)) else {
                return nil
            }
            try change(&runner)
            runner.id = id
            try Self.write(runner, in: db, insert: false)
            return runner
        }
    }

    public func deleteRunner(id: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM ci_runner WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func jobs(runnerID: Int64) async throws -> [CIJob] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_job WHERE runner_id = ? ORDER BY id", arguments: [runnerID]).map {
                CIJob(
                    id: $0["id"], uuid: $0["uuid"], runID: $0["run_id"], projectID: $0["project_id"], runnerID: $0["runner_id"], name: $0["name"],
                    stage: $0["stage"],
                    status: $0["status"], ref: $0["ref"], createdAt: $0["created_at"], startedAt: $0["started_at"], finishedAt: $0["finished_at"])
            }
        }
    }
}
