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
                    contacted_at INTEGER,
                    url TEXT,
                    sealed_control_token BLOB
                );
                CREATE TABLE ci_pipeline (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL REFERENCES ci_project(id),
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    trigger_token_hash TEXT NOT NULL UNIQUE,
                    parameters TEXT NOT NULL,
                    header_constraints TEXT NOT NULL,
                    body_constraints TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    archive_repository TEXT NOT NULL,
                    assignees TEXT NOT NULL,
                    public INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE ci_run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    pipeline_id INTEGER NOT NULL REFERENCES ci_pipeline(id),
                    status TEXT NOT NULL,
                    runner_id INTEGER,
                    log TEXT NOT NULL,
                    archived TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER
                );
                CREATE INDEX ci_run_by_pipeline ON ci_run(pipeline_id, id);
                CREATE TABLE ci_user (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    username TEXT NOT NULL UNIQUE,
                    password_salt BLOB NOT NULL,
                    password_hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE ci_session (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    user_id INTEGER NOT NULL REFERENCES ci_user(id) ON DELETE CASCADE,
                    expires_at INTEGER NOT NULL
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

    static func tenantMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE ci_tenant (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL
                );
                ALTER TABLE ci_project ADD COLUMN tenant_id INTEGER REFERENCES ci_tenant(id);
                """)
    }

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
            contactedAt: row["contacted_at"], url: row["url"], sealedControlToken: row["sealed_control_token"])
    }

    static func write(_ runner: Runner, in db: Database, insert: Bool) throws {
        let values: StatementArguments = [
            runner.uuid, runner.tokenHash, encode(runner.scope), runner.description, runner.name, runner.version, runner.revision, runner.platform,
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

// MARK: Pipelines and runs

extension SQLiteStorage: PipelineStore {
    public func createPipeline(_ pipeline: CIPipeline) async throws -> CIPipeline {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ci_pipeline (project_id, name, plan, trigger_token_hash, parameters, header_constraints, body_constraints, tags,
                        archive_repository, assignees, public, created_at, readers)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    pipeline.projectID, pipeline.name, try Self.json(pipeline.plan), pipeline.triggerTokenHash, try Self.json(pipeline.parameters),
                    try Self.json(pipeline.headerConstraints), try Self.json(pipeline.bodyConstraints), try Self.json(pipeline.tags),
                    pipeline.archiveRepository, try Self.json(pipeline.assignees), pipeline.isPublic, pipeline.createdAt,
                    try Self.json(pipeline.readers),
                ])
            var created = pipeline
            created.id = db.lastInsertedRowID
            return created
        }
    }

    static func pipeline(from row: Row) throws -> CIPipeline {
        CIPipeline(
            id: row["id"], projectID: row["project_id"], name: row["name"],
            plan: try decode(PipelinePlan.self, row["plan"]) ?? PipelinePlan(stages: []), triggerTokenHash: row["trigger_token_hash"],
            parameters: try decode([String].self, row["parameters"]) ?? [],
            headerConstraints: try decode([String: String].self, row["header_constraints"]) ?? [:],
            bodyConstraints: try decode([String: String].self, row["body_constraints"]) ?? [:], tags: try decode([String].self, row["tags"]) ?? [],
            archiveRepository: row["archive_repository"], assignees: try decode([String].self, row["assignees"]) ?? [],
            readers: try decode([String].self, row["readers"]) ?? [], isPublic: row["public"], createdAt: row["created_at"])
    }

    public func pipelines() async throws -> [CIPipeline] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM ci_pipeline ORDER BY id").map(Self.pipeline(from:)) }
    }

    public func pipeline(id: Int64) async throws -> CIPipeline? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM ci_pipeline WHERE id = ?", arguments: [id]).map(Self.pipeline(from:)) }
    }

    public func pipeline(triggerTokenHash: String) async throws -> CIPipeline? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM ci_pipeline WHERE trigger_token_hash = ?", arguments: [triggerTokenHash]).map(
                Self.pipeline(from:))
        }
    }

    /// The columns `run(from:)` reads, by position; `runColumns(log: false)` leaves the log out (lists).
    static func runColumns(log: Bool = true) -> String {
        "id, uuid, pipeline_id, event, status, runner_id, \(log ? "log" : "'' AS log"), archived, started_at, finished_at"
    }

    static func run(from row: Row) throws -> CIRun {
        let event: String? = row[3]
        let archived: String = row[7]
        return CIRun(
            id: row[0], uuid: row[1], pipelineID: row[2], event: event.flatMap(RunEvent.fromJSON), status: row[4],
            runnerID: row[5], log: row[6], archived: archived == "[]" ? [] : try decode([String].self, archived) ?? [], startedAt: row[8],
            finishedAt: row[9])
    }

    public func startRun(_ run: CIRun, stages: [String], projectID: Int64) async throws -> CIRun? {
        try await pool.write { db in
            let running =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM ci_run WHERE pipeline_id = ? AND status = 'Running' LIMIT 1", arguments: [run.pipelineID]) ?? false
            if running { return nil }
            try db.execute(
                sql: "INSERT INTO ci_run (uuid, pipeline_id, event, status, runner_id, log, archived, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    run.uuid, run.pipelineID, try run.event.map(Self.json), run.status, run.runnerID, run.log, try Self.json(run.archived),
                    run.startedAt,
                ])
            var created = run
            created.id = db.lastInsertedRowID
            for stage in stages {
                try db.execute(
                    sql: """
                        INSERT INTO ci_job (uuid, run_id, project_id, runner_id, name, stage, status, ref, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, 'pending', 'main', ?)
                        """, arguments: [UUID().uuidString.lowercased(), created.id, projectID, run.runnerID, stage, stage, run.startedAt])
            }
            return created
        }
    }

    public func run(pipelineID: Int64, id: Int64?) async throws -> CIRun? {
        try await pool.read { db in
            if let id {
                return try Row.fetchOne(
                    db, sql: "SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = ? AND id = ?", arguments: [pipelineID, id]
                ).map(
                    Self.run(from:))
            }
            return try Row.fetchOne(
                db, sql: "SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = ? ORDER BY id DESC LIMIT 1", arguments: [pipelineID]
            ).map(
                Self.run(from:))
        }
    }

    public func runs(pipelineID: Int64) async throws -> [CIRun] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = ? ORDER BY id", arguments: [pipelineID]).map(
                Self.run(from:))
        }
    }

    public func runs(pipelineIDs: [Int64], before: Int64?, limit: Int, change: Int?) async throws -> [CIRun] {
        guard !pipelineIDs.isEmpty else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.runColumns(log: false)) FROM ci_run
                    WHERE pipeline_id IN (\(databaseQuestionMarks(count: pipelineIDs.count))) AND id < ?
                    \(change == nil ? "" : "AND json_extract(event, '$.change') = ?") ORDER BY id DESC LIMIT ?
                    """,
                arguments: StatementArguments(pipelineIDs) + [before ?? Int64.max] + (change.map { [$0] } ?? []) + [limit]
            ).map(Self.run(from:))
        }
    }

    public func run(uuid: String) async throws -> CIRun? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.runColumns(log: false)) FROM ci_run WHERE uuid = ?", arguments: [uuid]).map(Self.run(from:))
        }
    }

    public func run(ofJob uuid: String) async throws -> CIRun? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.runColumns(log: false)) FROM ci_run WHERE id = (SELECT run_id FROM ci_job WHERE uuid = ?)", arguments: [uuid]
            ).map(Self.run(from:))
        }
    }

    public func jobs(runIDs: [Int64]) async throws -> [CIJob] {
        guard !runIDs.isEmpty else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.jobColumns) FROM ci_job WHERE run_id IN (\(databaseQuestionMarks(count: runIDs.count))) ORDER BY id",
                arguments: StatementArguments(runIDs)
            ).map(Self.job(from:))
        }
    }

    public func finishRun(_ run: CIRun, jobs: [(stage: String, status: String)], at millis: Int64) async throws {
        let archived = try Self.json(run.archived)
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE ci_run SET status = ?, log = ?, archived = ?, finished_at = ? WHERE id = ?",
                arguments: [run.status, run.log, archived, millis, run.id])
            for job in jobs {
                let ran = job.status != "skipped"
                try db.execute(
                    sql: """
                        UPDATE ci_job SET status = ?, started_at = CASE WHEN ? THEN ? ELSE NULL END, finished_at = ?
                        WHERE run_id = ? AND stage = ?
                        """, arguments: [job.status, ran, run.startedAt, millis, run.id, job.stage])
            }
        }
    }

    public func jobs(runID: Int64) async throws -> [CIJob] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM ci_job WHERE run_id = ? ORDER BY id", arguments: [runID]).map(Self.job(from:))
        }
    }
}

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

    public func sessionUser(tokenHash: String, now: Int64) async throws -> DashboardUser? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT u.* FROM ci_session s JOIN ci_user u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
                arguments: [tokenHash, now]
            ).map(Self.user(from:))
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM ci_session WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func abandonRunningRuns(note: String, at millis: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE ci_job SET status = 'failed', finished_at = ?
                    WHERE status IN ('pending', 'running') AND run_id IN (SELECT id FROM ci_run WHERE status = 'Running')
                    """, arguments: [millis])
            try db.execute(
                sql: "UPDATE ci_run SET status = 'Error', log = log || ?, finished_at = ? WHERE status = 'Running'", arguments: [note, millis])
            return db.changesCount
        }
    }
}
