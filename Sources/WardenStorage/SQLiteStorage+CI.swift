import Foundation
import GRDB
import WardenCore

// MARK: CI: groups, projects, registration tokens, runners, jobs

extension SQLiteStorage: CIStore {

    public func createTenant(_ tenant: CITenant) async throws -> CITenant? {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO ci_tenant (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [tenant.name, tenant.createdAt])
            guard db.changesCount == 1 else { return nil }
            var created = tenant
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func tenants() async throws -> [CITenant] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_tenant ORDER BY name").map {
                CITenant(id: $0["id"], name: $0["name"], createdAt: $0["created_at"])
            }
        }
    }

    public func setTenant(_ tenantID: Int64?, ofProject projectID: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE ci_project SET tenant_id = ? WHERE id = ?", arguments: [tenantID, projectID])
        }
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
                sql: "INSERT INTO ci_project (group_id, tenant_id, namespace, path, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [project.groupID, project.tenantID, project.namespace, project.path, project.name, project.createdAt])
            var created = project
            created.id = db.lastInsertedRowID
            return created
        }
    }

    public func projects() async throws -> [CIProject] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ci_project ORDER BY id").map {
                CIProject(
                    id: $0["id"], groupID: $0["group_id"], tenantID: $0["tenant_id"], namespace: $0["namespace"], path: $0["path"], name: $0["name"],
                    createdAt: $0["created_at"])
            }
        }
    }

    public func registrationScope(tokenHash: String) async throws -> RunnerScope? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT scope FROM ci_registration_token WHERE token_hash = ?", arguments: [tokenHash]).map(
                StoredForm.runnerScope)
        }
    }

    public func setRegistrationToken(_ tokenHash: String, sealed: Data, for scope: RunnerScope) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO ci_registration_token (scope, token_hash, sealed_value) VALUES (?, ?, ?)",
                arguments: [StoredForm.encode(scope), tokenHash, sealed])
        }
    }

    public func sealedRegistrationToken(for scope: RunnerScope) async throws -> Data? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed_value FROM ci_registration_token WHERE scope = ?", arguments: [StoredForm.encode(scope)])
        }
    }

    static func runner(from row: Row) throws -> Runner {
        Runner(
            id: row["id"], uuid: row["uuid"], tokenHash: row["token_hash"], scope: StoredForm.runnerScope(row["scope"]),
            description: row["description"],
            name: row["name"], version: row["version"], revision: row["revision"], platform: row["platform"], architecture: row["architecture"],
            ipAddress: row["ip_address"], active: row["active"], locked: row["locked"], runUntagged: row["run_untagged"],
            tags: try decode([String].self, row["tags"]) ?? [], accessLevel: row["access_level"], maximumTimeout: row["maximum_timeout"],
            maintenanceNote: row["maintenance_note"], projectIDs: try decode([Int64].self, row["project_ids"]) ?? [], createdAt: row["created_at"],
            contactedAt: row["contacted_at"], url: row["url"], sealedControlToken: row["sealed_control_token"])
    }

    static func write(_ runner: Runner, in db: Database, insert: Bool) throws {
        let values: StatementArguments = [
            runner.uuid, runner.tokenHash, StoredForm.encode(runner.scope), runner.description, runner.name, runner.version, runner.revision,
            runner.platform,
            runner.architecture, runner.ipAddress, runner.active, runner.locked, runner.runUntagged, try json(runner.tags), runner.accessLevel,
            runner.maximumTimeout, runner.maintenanceNote, try json(runner.projectIDs), runner.createdAt, runner.contactedAt, runner.url,
            runner.sealedControlToken,
        ]
        if insert {
            try db.execute(
                sql: """
                    INSERT INTO ci_runner (uuid, token_hash, scope, description, name, version, revision, platform, architecture, ip_address,
                        active, locked, run_untagged, tags, access_level, maximum_timeout, maintenance_note, project_ids, created_at, contacted_at,
                        url, sealed_control_token)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: values)
        } else {
            try db.execute(
                sql: """
                    UPDATE ci_runner SET uuid = ?, token_hash = ?, scope = ?, description = ?, name = ?, version = ?, revision = ?, platform = ?,
                        architecture = ?, ip_address = ?, active = ?, locked = ?, run_untagged = ?, tags = ?, access_level = ?,
                        maximum_timeout = ?, maintenance_note = ?, project_ids = ?, created_at = ?, contacted_at = ?, url = ?,
                        sealed_control_token = ?
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

    /// The columns `job(from:)` reads, by position (names cost a lowercased lookup per cell; lists read thousands).
    static let jobColumns = "id, uuid, run_id, project_id, runner_id, name, stage, status, ref, created_at, started_at, finished_at"

    static func job(from row: Row) -> CIJob {
        CIJob(
            id: row[0], uuid: row[1], runID: row[2], projectID: row[3], runnerID: row[4], name: row[5], stage: row[6], status: row[7], ref: row[8],
            createdAt: row[9], startedAt: row[10], finishedAt: row[11])
    }

    public func jobs(runnerID: Int64) async throws -> [CIJob] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM ci_job WHERE runner_id = ? ORDER BY id", arguments: [runnerID]).map(
                Self.job(from:))
        }
    }
}
