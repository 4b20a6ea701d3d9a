import Foundation
import PostgresNIO
import WardenCore

// The PostgreSQL schema, in numbered migrations applied once, in order, in one transaction, under an advisory lock:
// several servers starting together over one empty database make it once. Never edit one that has shipped: add the
// next. The tables and columns are SQLite's (see Migrations.swift), with PostgreSQL's types: BIGINT for every number
// and time, BOOLEAN, BYTEA, identity columns for the generated ids. Keys that lists are ordered by compare byte by
// byte (`COLLATE "C"`), as SQLite's do, whatever the database's collation: the same order on both stores, and a
// folder's descendants are a range of the primary key (`path >= 'a/' AND path < 'a0'`).

extension PostgresStorage {
    /// Each migration is a list of statements (the extended protocol runs one statement per query).
    static let migrations: [(name: String, statements: [String])] = [
        (
            "001-schema",
            [
                """
                CREATE TABLE worker (
                    key TEXT COLLATE "C" PRIMARY KEY, description TEXT NOT NULL, enabled BOOLEAN NOT NULL, debug BOOLEAN NOT NULL,
                    source_code TEXT NOT NULL, action TEXT NOT NULL, filter_criteria TEXT NOT NULL, properties TEXT NOT NULL,
                    shared BOOLEAN NOT NULL, project_key TEXT NOT NULL, version TEXT, modified_at BIGINT NOT NULL,
                    modified_by TEXT NOT NULL, created_at BIGINT NOT NULL DEFAULT 0, owner TEXT,
                    owner_admin BOOLEAN NOT NULL DEFAULT FALSE, platform_access TEXT)
                """,
                """
                CREATE TABLE worker_secret (
                    worker_key TEXT NOT NULL REFERENCES worker(key) ON DELETE CASCADE, name TEXT NOT NULL, sealed BYTEA NOT NULL,
                    PRIMARY KEY (worker_key, name))
                """,
                "CREATE TABLE worker_state (worker_key TEXT PRIMARY KEY, state TEXT NOT NULL)",
                """
                CREATE TABLE history (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, trace_id TEXT NOT NULL,
                    worker_key TEXT NOT NULL, action TEXT NOT NULL, project_key TEXT NOT NULL, payload TEXT NOT NULL,
                    status TEXT NOT NULL, result TEXT, error TEXT, logs TEXT NOT NULL, cpu_nanos BIGINT NOT NULL,
                    wall_nanos BIGINT NOT NULL, peak_memory BIGINT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,
                    triggered_by TEXT NOT NULL, test_run BOOLEAN NOT NULL, executed_version TEXT NOT NULL)
                """,
                "CREATE INDEX history_by_worker ON history(worker_key, seq)",
                """
                CREATE TABLE token (
                    id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, project_key TEXT,
                    created_at BIGINT NOT NULL, expires_at BIGINT)
                """,
                """
                CREATE TABLE schedule_claim (
                    worker_key TEXT NOT NULL, slot BIGINT NOT NULL, claimed_at BIGINT NOT NULL, PRIMARY KEY (worker_key, slot))
                """,
                """
                CREATE TABLE repository (
                    key TEXT COLLATE "C" PRIMARY KEY, description TEXT NOT NULL, anonymous_read BOOLEAN NOT NULL, created_at BIGINT NOT NULL,
                    quota_bytes BIGINT)
                """,
                """
                CREATE TABLE item (
                    repo TEXT COLLATE "C" NOT NULL REFERENCES repository(key) ON DELETE CASCADE, path TEXT COLLATE "C" NOT NULL,
                    parent TEXT COLLATE "C",
                    is_folder BOOLEAN NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, sha1 TEXT NOT NULL, md5 TEXT NOT NULL,
                    created_at BIGINT NOT NULL, modified_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, created_by TEXT NOT NULL,
                    modified_by TEXT NOT NULL, download_count BIGINT NOT NULL DEFAULT 0, last_downloaded BIGINT,
                    last_downloaded_by TEXT, PRIMARY KEY (repo, path))
                """,
                "CREATE INDEX item_by_parent ON item(repo, parent)",
                "CREATE INDEX item_by_sha256 ON item(sha256)",
                """
                CREATE TABLE item_property (
                    repo TEXT COLLATE "C" NOT NULL, path TEXT COLLATE "C" NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, position BIGINT NOT NULL,
                    PRIMARY KEY (repo, path, name, position),
                    FOREIGN KEY (repo, path) REFERENCES item(repo, path) ON DELETE CASCADE)
                """,
                """
                CREATE TABLE pending_run (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, worker_key TEXT NOT NULL, data TEXT NOT NULL,
                    triggered_by TEXT NOT NULL, depth BIGINT NOT NULL DEFAULT 0, leased_by TEXT, leased_until BIGINT NOT NULL DEFAULT 0,
                    attempts BIGINT NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX pending_run_by_lease ON pending_run(leased_until, id)",
                "CREATE TABLE ci_group (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at BIGINT NOT NULL)",
                """
                CREATE TABLE ci_tenant (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, created_at BIGINT NOT NULL,
                    state TEXT)
                """,
                """
                CREATE TABLE ci_project (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, group_id BIGINT REFERENCES ci_group(id),
                    namespace TEXT NOT NULL, path TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,
                    tenant_id BIGINT REFERENCES ci_tenant(id), UNIQUE (namespace, path))
                """,
                "CREATE TABLE ci_registration_token (scope TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, sealed_value BYTEA NOT NULL)",
                """
                CREATE TABLE ci_runner (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
                    scope TEXT NOT NULL, description TEXT NOT NULL, name TEXT, version TEXT, revision TEXT, platform TEXT,
                    architecture TEXT, ip_address TEXT, active BOOLEAN NOT NULL, locked BOOLEAN NOT NULL, run_untagged BOOLEAN NOT NULL,
                    tags TEXT NOT NULL, access_level TEXT NOT NULL, maximum_timeout BIGINT, maintenance_note TEXT,
                    project_ids TEXT NOT NULL, created_at BIGINT NOT NULL, contacted_at BIGINT, url TEXT, sealed_control_token BYTEA)
                """,
                """
                CREATE TABLE ci_pipeline (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, project_id BIGINT NOT NULL REFERENCES ci_project(id),
                    name TEXT NOT NULL, plan TEXT NOT NULL, trigger_token_hash TEXT NOT NULL UNIQUE, parameters TEXT NOT NULL,
                    header_constraints TEXT NOT NULL, body_constraints TEXT NOT NULL, tags TEXT NOT NULL,
                    archive_repository TEXT NOT NULL, assignees TEXT NOT NULL, public BOOLEAN NOT NULL, created_at BIGINT NOT NULL,
                    readers TEXT NOT NULL DEFAULT '[]')
                """,
                """
                CREATE TABLE ci_run (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pipeline_id BIGINT NOT NULL REFERENCES ci_pipeline(id),
                    status TEXT NOT NULL, runner_id BIGINT, log TEXT NOT NULL, archived TEXT NOT NULL, started_at BIGINT NOT NULL,
                    finished_at BIGINT, uuid TEXT UNIQUE, event TEXT, driver TEXT)
                """,
                "CREATE INDEX ci_run_by_pipeline ON ci_run(pipeline_id, id)",
                """
                CREATE TABLE ci_user (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_salt BYTEA NOT NULL,
                    password_hash BYTEA NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE ci_session (
                    token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES ci_user(id) ON DELETE CASCADE,
                    expires_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE ci_job (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, run_id BIGINT NOT NULL,
                    project_id BIGINT NOT NULL, runner_id BIGINT, name TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL,
                    ref TEXT NOT NULL, created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT)
                """,
                "CREATE INDEX ci_job_by_runner ON ci_job(runner_id, id)",
                "CREATE INDEX ci_job_by_run ON ci_job(run_id, id)",
                """
                CREATE TABLE ci_autohold (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id BIGINT NOT NULL REFERENCES ci_tenant(id),
                    project_id BIGINT NOT NULL REFERENCES ci_project(id), job TEXT NOT NULL, ref_filter TEXT NOT NULL,
                    max_count BIGINT NOT NULL, current_count BIGINT NOT NULL, reason TEXT NOT NULL, node_expiration BIGINT NOT NULL,
                    nodes TEXT NOT NULL, created_at BIGINT NOT NULL)
                """,
                "CREATE TABLE ci_key (owner TEXT PRIMARY KEY, sealed_value BYTEA NOT NULL)",
                """
                CREATE TABLE permission_target (
                    name TEXT COLLATE "C" PRIMARY KEY, repositories TEXT NOT NULL, include_patterns TEXT NOT NULL, exclude_patterns TEXT NOT NULL,
                    users TEXT NOT NULL, groups TEXT NOT NULL)
                """,
                "CREATE TABLE warden_setting (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
                #"CREATE TABLE user_group (name TEXT COLLATE "C" PRIMARY KEY, description TEXT NOT NULL, auto_join BOOLEAN NOT NULL)"#,
                """
                CREATE TABLE group_member (
                    group_name TEXT COLLATE "C" NOT NULL REFERENCES user_group(name) ON DELETE CASCADE, user_name TEXT COLLATE "C" NOT NULL,
                    PRIMARY KEY (group_name, user_name))
                """,
            ]
        ),
        // The Access API's free text on a token (SQLite's 013).
        ("002-token-description", ["ALTER TABLE token ADD COLUMN description TEXT NOT NULL DEFAULT ''"]),
        // Build info (SQLite's 014).
        (
            "003-builds",
            [
                """
                CREATE TABLE build (
                    name TEXT COLLATE "C" NOT NULL, number TEXT COLLATE "C" NOT NULL, started TEXT NOT NULL, started_millis BIGINT NOT NULL,
                    info TEXT NOT NULL, saved_at BIGINT NOT NULL, saved_by TEXT NOT NULL, PRIMARY KEY (name, number))
                """,
                "CREATE INDEX build_by_start ON build(name, started_millis)",
            ]
        ),
        // A repository's class and layout (SQLite's 015).
        ("004-repository-layout", ["ALTER TABLE repository ADD COLUMN layout TEXT NOT NULL DEFAULT ''"]),
        ("005-pending-run-trace", ["ALTER TABLE pending_run ADD COLUMN trace_id TEXT NOT NULL DEFAULT ''"]),
    ]

    /// An advisory lock's key that only Warden's migrations take.
    static let migrationLock: Int64 = 0x5761_7264_656E_0001

    func migrate() async throws {
        try await within(.seconds(120), what: "bringing the schema up to date") {
            try await self.client.withConnection { connection in
                let logger = self.logger
                try await connection.query("BEGIN", logger: logger)
                do {
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                    try await connection.query(
                        "CREATE TABLE IF NOT EXISTS warden_migration (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", logger: logger)
                    var applied: Set<String> = []
                    for try await name in try await connection.query("SELECT name FROM warden_migration", logger: logger).decode(String.self) {
                        applied.insert(name)
                    }
                    try ForwardMigrations.refuseNewer(applied: applied, known: Self.migrations.map(\.name))
                    for migration in Self.migrations where !applied.contains(migration.name) {
                        for statement in migration.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        try await connection.query(
                            "INSERT INTO warden_migration (name, applied_at) VALUES (\(migration.name), \(now))", logger: logger)
                    }
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }
}
