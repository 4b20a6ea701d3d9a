import Foundation
import GRDB
import WardenCore

// Every migration of the SQLite schema, in order, in one place. Never edit one that has shipped: add the next (and a
// test over a database of the schema before it).

/// Migrations only go forward, on both databases: a database that holds a migration this server does not know was
/// migrated by a newer Warden, and is refused rather than half understood.
enum ForwardMigrations {
    static func refuseNewer(applied: some Sequence<String>, known: some Sequence<String>) throws {
        if let unknown = Set(applied).subtracting(known).sorted().last {
            throw WardenError(.unavailable, "the database has migration '\(unknown)', which this server does not know: a newer Warden made it")
        }
    }
}

extension SQLiteStorage {
    /// Numbered migrations; never edit one that has shipped, add the next.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("001-workers-secrets-state-history-tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE worker (
                        key TEXT PRIMARY KEY NOT NULL,
                        description TEXT NOT NULL,
                        enabled INTEGER NOT NULL,
                        debug INTEGER NOT NULL,
                        source_code TEXT NOT NULL,
                        action TEXT NOT NULL,
                        filter_criteria TEXT NOT NULL,
                        properties TEXT NOT NULL,
                        shared INTEGER NOT NULL,
                        project_key TEXT NOT NULL,
                        version TEXT,
                        modified_at INTEGER NOT NULL,
                        modified_by TEXT NOT NULL
                    );
                    CREATE TABLE worker_secret (
                        worker_key TEXT NOT NULL REFERENCES worker(key) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        sealed BLOB NOT NULL,
                        PRIMARY KEY (worker_key, name)
                    );
                    CREATE TABLE worker_state (
                        worker_key TEXT PRIMARY KEY NOT NULL,
                        state TEXT NOT NULL
                    );
                    CREATE TABLE history (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        trace_id TEXT NOT NULL,
                        worker_key TEXT NOT NULL,
                        action TEXT NOT NULL,
                        project_key TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        status TEXT NOT NULL,
                        result TEXT,
                        error TEXT,
                        logs TEXT NOT NULL,
                        cpu_nanos INTEGER NOT NULL,
                        wall_nanos INTEGER NOT NULL,
                        peak_memory INTEGER NOT NULL,
                        start_ms INTEGER NOT NULL,
                        end_ms INTEGER NOT NULL,
                        triggered_by TEXT NOT NULL,
                        test_run INTEGER NOT NULL,
                        executed_version TEXT NOT NULL
                    );
                    CREATE INDEX history_by_worker ON history(worker_key, seq);
                    CREATE TABLE token (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        scope TEXT NOT NULL,
                        project_key TEXT,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("002-schedule-claims") { db in
            try db.execute(
                sql:
                    "CREATE TABLE schedule_claim (worker_key TEXT NOT NULL, slot INTEGER NOT NULL, claimed_at INTEGER NOT NULL, PRIMARY KEY (worker_key, slot))"
            )
        }
        migrator.registerMigration("003-artifacts-and-pending-runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE repository (
                        key TEXT PRIMARY KEY NOT NULL,
                        description TEXT NOT NULL,
                        anonymous_read INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE item (
                        repo TEXT NOT NULL REFERENCES repository(key) ON DELETE CASCADE,
                        path TEXT NOT NULL,
                        parent TEXT,
                        is_folder INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        sha1 TEXT NOT NULL,
                        md5 TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        modified_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        created_by TEXT NOT NULL,
                        modified_by TEXT NOT NULL,
                        download_count INTEGER NOT NULL DEFAULT 0,
                        last_downloaded INTEGER,
                        last_downloaded_by TEXT,
                        PRIMARY KEY (repo, path)
                    );
                    CREATE INDEX item_by_parent ON item(repo, parent);
                    CREATE INDEX item_by_sha256 ON item(sha256);
                    CREATE TABLE item_property (
                        repo TEXT NOT NULL,
                        path TEXT NOT NULL,
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        PRIMARY KEY (repo, path, name, position),
                        FOREIGN KEY (repo, path) REFERENCES item(repo, path) ON DELETE CASCADE
                    );
                    CREATE TABLE pending_run (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        worker_key TEXT NOT NULL,
                        data TEXT NOT NULL,
                        triggered_by TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("004-ci-groups-projects-runners-jobs") { db in try ciMigration(db) }
        migrator.registerMigration("005-ci-tenants") { db in try tenantMigration(db) }
        migrator.registerMigration("006-tenant-dialect-state-autoholds-keys-run-events") { db in try tenantDialectMigration(db) }
        // How many worker runs deep the event behind a pending run is (a worker's own writes fire events too).
        migrator.registerMigration("007-pending-run-depth") { db in
            try db.execute(sql: "ALTER TABLE pending_run ADD COLUMN depth INTEGER NOT NULL DEFAULT 0")
        }
        // When a worker was created, to tell its history from that of an earlier, deleted worker of the same key
        // (0 for workers stored before: all of their history counts as theirs).
        migrator.registerMigration("008-worker-created-at") { db in
            try db.execute(sql: "ALTER TABLE worker ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("009-permission-targets-groups-quotas-worker-owners") { db in try permissionsMigration(db) }
        // Asynchronous runs are claimed with a lease (who holds one, until when) and count their attempts.
        migrator.registerMigration("010-pending-run-leases") { db in
            try db.execute(
                sql: """
                    ALTER TABLE pending_run ADD COLUMN leased_by TEXT;
                    ALTER TABLE pending_run ADD COLUMN leased_until INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE pending_run ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX pending_run_by_lease ON pending_run(leased_until, id);
                    """)
        }
        // What the server keeps about itself: the check of its master key.
        migrator.registerMigration("011-settings") { db in
            try db.execute(sql: "CREATE TABLE warden_setting (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)")
        }
        // Which server follows a CI run, among several on one database (NULL: the one server).
        migrator.registerMigration("012-ci-run-driver") { db in
            try db.execute(sql: "ALTER TABLE ci_run ADD COLUMN driver TEXT")
        }
        // The Access API's free text on a token.
        migrator.registerMigration("013-token-description") { db in
            try db.execute(sql: "ALTER TABLE token ADD COLUMN description TEXT NOT NULL DEFAULT ''")
        }
        // Build info published through the builds API (or by a finished CI run), by name and number.
        migrator.registerMigration("014-builds") { db in
            try db.execute(
                sql: """
                    CREATE TABLE build (
                        name TEXT NOT NULL, number TEXT NOT NULL, started TEXT NOT NULL, started_millis INTEGER NOT NULL, info TEXT NOT NULL,
                        saved_at INTEGER NOT NULL, saved_by TEXT NOT NULL, PRIMARY KEY (name, number));
                    CREATE INDEX build_by_start ON build(name, started_millis);
                    """)
        }
        // A repository's class (local, remote) and package layout (generic, maven), as JSON; '' is local generic.
        migrator.registerMigration("015-repository-layout") { db in
            try db.execute(sql: "ALTER TABLE repository ADD COLUMN layout TEXT NOT NULL DEFAULT ''")
        }
        // The request an asynchronous run was queued by (its history entry's traceId); none for runs queued before.
        migrator.registerMigration("016-pending-run-trace") { db in
            try db.execute(sql: "ALTER TABLE pending_run ADD COLUMN trace_id TEXT NOT NULL DEFAULT ''")
        }
        return migrator
    }
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
    static func tenantDialectMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE ci_tenant ADD COLUMN state TEXT;
                ALTER TABLE ci_run ADD COLUMN uuid TEXT;
                ALTER TABLE ci_run ADD COLUMN event TEXT;
                UPDATE ci_run SET uuid = lower(hex(randomblob(16)));
                CREATE UNIQUE INDEX ci_run_by_uuid ON ci_run(uuid);
                CREATE TABLE ci_autohold (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    tenant_id INTEGER NOT NULL REFERENCES ci_tenant(id),
                    project_id INTEGER NOT NULL REFERENCES ci_project(id),
                    job TEXT NOT NULL,
                    ref_filter TEXT NOT NULL,
                    max_count INTEGER NOT NULL,
                    current_count INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    node_expiration INTEGER NOT NULL,
                    nodes TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE ci_key (
                    owner TEXT PRIMARY KEY NOT NULL,
                    sealed_value BLOB NOT NULL
                );
                """)
    }
    /// Permission targets, groups and their members; a repository's quota; a worker's owner and declared access.
    ///
    /// Before this migration any token could read, annotate, write and delete in every repository. An existing
    /// server keeps that: its non-admin token names join a group `pre-permissions-users`, and a target
    /// `pre-permissions` grants that group those four actions on every repository. Workers stored before have no
    /// owner; their run tokens keep what they had (see `StoredWorker.runRights`). A fresh database gets neither.
    static func permissionsMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE permission_target (
                    name TEXT PRIMARY KEY NOT NULL,
                    repositories TEXT NOT NULL,
                    include_patterns TEXT NOT NULL,
                    exclude_patterns TEXT NOT NULL,
                    users TEXT NOT NULL,
                    groups TEXT NOT NULL
                );
                CREATE TABLE user_group (
                    name TEXT PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL,
                    auto_join INTEGER NOT NULL
                );
                CREATE TABLE group_member (
                    group_name TEXT NOT NULL REFERENCES user_group(name) ON DELETE CASCADE,
                    user_name TEXT NOT NULL,
                    PRIMARY KEY (group_name, user_name)
                );
                ALTER TABLE repository ADD COLUMN quota_bytes INTEGER;
                ALTER TABLE worker ADD COLUMN owner TEXT;
                ALTER TABLE worker ADD COLUMN owner_admin INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE worker ADD COLUMN platform_access TEXT;
                ALTER TABLE ci_pipeline ADD COLUMN readers TEXT NOT NULL DEFAULT '[]';
                """)
        let tokens = try String.fetchAll(db, sql: "SELECT DISTINCT name FROM token WHERE scope != 'admin' ORDER BY name")
        let people = try String.fetchAll(db, sql: "SELECT username FROM ci_user ORDER BY username")
        if !tokens.isEmpty {
            try addGroup(
                "pre-permissions-users", "the tokens that existed before permission targets: they keep what they could do then", tokens, in: db)
            let migrated = PermissionTarget(
                name: "pre-permissions", repositories: [PermissionTarget.anyRepository],
                groups: ["pre-permissions-users": [.read, .annotate, .write, .delete]])
            try write(migrated, in: db)
        }
        if !people.isEmpty {
            try addGroup(
                "pre-permissions-dashboard-users", "the dashboard users that existed before pipeline readers: they keep what they could read",
                people, in: db)
        }
        // Every token read every pipeline; every dashboard user read the pipelines without assignees.
        for row in try Row.fetchAll(db, sql: "SELECT id, assignees FROM ci_pipeline") {
            let assignees = try decode([String].self, row["assignees"]) ?? []
            var readers: [String] = []
            if !tokens.isEmpty { readers.append("pre-permissions-users") }
            if !people.isEmpty && assignees.isEmpty { readers.append("pre-permissions-dashboard-users") }
            let id: Int64 = row["id"]
            try db.execute(sql: "UPDATE ci_pipeline SET readers = ? WHERE id = ?", arguments: [try json(readers), id])
        }
    }
}
