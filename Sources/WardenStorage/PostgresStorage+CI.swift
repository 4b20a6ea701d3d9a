import Foundation
import Logging
import PostgresNIO
import WardenCore

// MARK: CI: tenants, groups, projects, registration tokens, runners, jobs

extension PostgresStorage: CIStore {
    public func createTenant(_ tenant: CITenant) async throws -> CITenant? {
        try await read { connection in
            let id = try await connection.query(
                "INSERT INTO ci_tenant (name, created_at) VALUES (\(tenant.name), \(tenant.createdAt)) ON CONFLICT (name) DO NOTHING RETURNING id",
                logger: self.logger
            ).collect().first?.decode(Int64.self)
            guard let id else { return nil }
            var created = tenant
            created.id = id
            return created
        }
    }

    public func tenants() async throws -> [CITenant] {
        try await read { connection in
            try await Self.rows("SELECT id, name, created_at FROM ci_tenant ORDER BY name", on: connection, logger: self.logger).map {
                CITenant(id: try $0["id"], name: try $0["name"], createdAt: try $0["created_at"])
            }
        }
    }

    public func setTenant(_ tenantID: Int64?, ofProject projectID: Int64) async throws {
        try await read { connection in
            try await connection.query("UPDATE ci_project SET tenant_id = \(tenantID) WHERE id = \(projectID)", logger: self.logger).collect().count
        }
    }

    public func createGroup(_ group: CIGroup) async throws -> CIGroup {
        var created = group
        created.id = try await insertReturningID(
            "INSERT INTO ci_group (path, name, created_at) VALUES (\(group.path), \(group.name), \(group.createdAt)) RETURNING id")
        return created
    }

    public func groups() async throws -> [CIGroup] {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_group ORDER BY id", on: connection, logger: self.logger).map {
                CIGroup(id: try $0["id"], path: try $0["path"], name: try $0["name"], createdAt: try $0["created_at"])
            }
        }
    }

    public func createProject(_ project: CIProject) async throws -> CIProject {
        var created = project
        created.id = try await insertReturningID(
            """
            INSERT INTO ci_project (group_id, tenant_id, namespace, path, name, created_at)
            VALUES (\(project.groupID), \(project.tenantID), \(project.namespace), \(project.path), \(project.name), \(project.createdAt))
            RETURNING id
            """)
        return created
    }

    public func projects() async throws -> [CIProject] {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_project ORDER BY id", on: connection, logger: self.logger).map {
                CIProject(
                    id: try $0["id"], groupID: try $0["group_id"], tenantID: try $0["tenant_id"], namespace: try $0["namespace"],
                    path: try $0["path"], name: try $0["name"], createdAt: try $0["created_at"])
            }
        }
    }

    /// One `INSERT … RETURNING id`: the id the database gave the row.
    func insertReturningID(_ query: PostgresQuery) async throws -> Int64 {
        try await read { connection in
            guard let id = try await connection.query(query, logger: self.logger).collect().first?.decode(Int64.self) else {
                throw WardenError(.unavailable, "the database did not return the new row's id")
            }
            return id
        }
    }

    public func registrationScope(tokenHash: String) async throws -> RunnerScope? {
        try await read { connection in
            try await connection.query("SELECT scope FROM ci_registration_token WHERE token_hash = \(tokenHash)", logger: self.logger).collect()
                .first.map { StoredForm.runnerScope(try $0.decode(String.self)) }
        }
    }

    public func setRegistrationToken(_ tokenHash: String, sealed: Data, for scope: RunnerScope) async throws {
        let scope = StoredForm.encode(scope)
        try await write { connection in
            // A scope has one token and a token one scope: both the scope's old row and another row with this hash go.
            try await connection.query(
                "DELETE FROM ci_registration_token WHERE scope = \(scope) OR token_hash = \(tokenHash)", logger: self.logger)
            try await connection.query(
                "INSERT INTO ci_registration_token (scope, token_hash, sealed_value) VALUES (\(scope), \(tokenHash), \(sealed))",
                logger: self.logger)
        }
    }

    public func sealedRegistrationToken(for scope: RunnerScope) async throws -> Data? {
        let scope = StoredForm.encode(scope)
        return try await read { connection in
            try await connection.query("SELECT sealed_value FROM ci_registration_token WHERE scope = \(scope)", logger: self.logger).collect()
                .first?.decode(Data.self)
        }
    }

    static func runner(from row: Columns) throws -> Runner {
        Runner(
            id: try row["id"], uuid: try row["uuid"], tokenHash: try row["token_hash"], scope: StoredForm.runnerScope(try row["scope"]),
            description: try row["description"], name: try row["name"], version: try row["version"], revision: try row["revision"],
            platform: try row["platform"], architecture: try row["architecture"], ipAddress: try row["ip_address"], active: try row["active"],
            locked: try row["locked"], runUntagged: try row["run_untagged"], tags: try StoredForm.decode([String].self, try row["tags"]) ?? [],
            accessLevel: try row["access_level"], maximumTimeout: try row["maximum_timeout"], maintenanceNote: try row["maintenance_note"],
            projectIDs: try StoredForm.decode([Int64].self, try row["project_ids"]) ?? [], createdAt: try row["created_at"],
            contactedAt: try row["contacted_at"], url: try row["url"], sealedControlToken: try row["sealed_control_token"])
    }

    public func createRunner(_ runner: Runner) async throws -> Runner {
        let tags = try StoredForm.json(runner.tags)
        let projects = try StoredForm.json(runner.projectIDs)
        var created = runner
        created.id = try await insertReturningID(
            """
            INSERT INTO ci_runner (uuid, token_hash, scope, description, name, version, revision, platform, architecture, ip_address,
                active, locked, run_untagged, tags, access_level, maximum_timeout, maintenance_note, project_ids, created_at, contacted_at,
                url, sealed_control_token)
            VALUES (\(runner.uuid), \(runner.tokenHash), \(StoredForm.encode(runner.scope)), \(runner.description), \(runner.name),
                \(runner.version), \(runner.revision), \(runner.platform), \(runner.architecture), \(runner.ipAddress), \(runner.active),
                \(runner.locked), \(runner.runUntagged), \(tags), \(runner.accessLevel), \(runner.maximumTimeout), \(runner.maintenanceNote),
                \(projects), \(runner.createdAt), \(runner.contactedAt), \(runner.url), \(runner.sealedControlToken))
            RETURNING id
            """)
        return created
    }

    public func runner(id: Int64) async throws -> Runner? {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_runner WHERE id = \(id)", on: connection, logger: self.logger).first.map(Self.runner(from:))
        }
    }

    public func runner(tokenHash: String) async throws -> Runner? {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_runner WHERE token_hash = \(tokenHash)", on: connection, logger: self.logger).first.map(
                Self.runner(from:))
        }
    }

    public func runners() async throws -> [Runner] {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_runner ORDER BY id", on: connection, logger: self.logger).map(Self.runner(from:))
        }
    }

    public func updateRunner(id: Int64, _ change: @escaping @Sendable (inout Runner) throws -> Void) async throws -> Runner? {
        try await write { connection in
            guard
                var runner = try await Self.rows("SELECT * FROM ci_runner WHERE id = \(id) FOR UPDATE", on: connection, logger: self.logger).first
                    .map(Self.runner(from:))
            else { return nil }
            try change(&runner)
            runner.id = id
            let tags = try StoredForm.json(runner.tags)
            let projects = try StoredForm.json(runner.projectIDs)
            try await connection.query(
                """
                UPDATE ci_runner SET uuid = \(runner.uuid), token_hash = \(runner.tokenHash), scope = \(StoredForm.encode(runner.scope)),
                    description = \(runner.description), name = \(runner.name), version = \(runner.version), revision = \(runner.revision),
                    platform = \(runner.platform), architecture = \(runner.architecture), ip_address = \(runner.ipAddress),
                    active = \(runner.active), locked = \(runner.locked), run_untagged = \(runner.runUntagged), tags = \(tags),
                    access_level = \(runner.accessLevel), maximum_timeout = \(runner.maximumTimeout),
                    maintenance_note = \(runner.maintenanceNote), project_ids = \(projects), created_at = \(runner.createdAt),
                    contacted_at = \(runner.contactedAt), url = \(runner.url), sealed_control_token = \(runner.sealedControlToken)
                WHERE id = \(id)
                """, logger: self.logger)
            return runner
        }
    }

    public func deleteRunner(id: Int64) async throws -> Bool {
        try await read { connection in
            try await !connection.query("DELETE FROM ci_runner WHERE id = \(id) RETURNING 1", logger: self.logger).collect().isEmpty
        }
    }

    static let jobColumns = "id, uuid, run_id, project_id, runner_id, name, stage, status, ref, created_at, started_at, finished_at"

    static func job(from row: PostgresRow) throws -> CIJob {
        let (id, uuid, runID, projectID, runnerID, name, stage, status, ref, createdAt, startedAt, finishedAt) = try row.decode(
            (Int64, String, Int64, Int64, Int64?, String, String, String, String, Int64, Int64?, Int64?).self)
        return CIJob(
            id: id, uuid: uuid, runID: runID, projectID: projectID, runnerID: runnerID, name: name, stage: stage, status: status, ref: ref,
            createdAt: createdAt, startedAt: startedAt, finishedAt: finishedAt)
    }

    public func jobs(runnerID: Int64) async throws -> [CIJob] {
        try await jobs(where: "runner_id = $1", Self.binds(runnerID))
    }

    /// The jobs `condition` selects (its values bound as `$1`…), by id.
    func jobs(where condition: String, _ binds: PostgresBindings) async throws -> [CIJob] {
        try await read { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.jobColumns) FROM ci_job WHERE \(condition) ORDER BY id", binds: binds), logger: self.logger
            ).collect().map(Self.job(from:))
        }
    }

    /// Bindings of one value, for a query whose text is built (a list of columns) rather than interpolated.
    static func binds<V: PostgresDynamicTypeEncodable>(_ values: V...) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { binds.append(value) }
        return binds
    }
}

// MARK: Dashboard users and sessions

extension PostgresStorage: DashboardUserStore {
    public func createUser(_ user: DashboardUser) async throws -> DashboardUser {
        var created = user
        created.id = try await insertReturningID(
            """
            INSERT INTO ci_user (username, password_salt, password_hash, created_at)
            VALUES (\(user.username), \(user.passwordSalt), \(user.passwordHash), \(user.createdAt)) RETURNING id
            """)
        return created
    }

    static func user(from row: Columns) throws -> DashboardUser {
        DashboardUser(
            id: try row["id"], username: try row["username"], passwordSalt: try row["password_salt"], passwordHash: try row["password_hash"],
            createdAt: try row["created_at"])
    }

    public func user(username: String) async throws -> DashboardUser? {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_user WHERE username = \(username)", on: connection, logger: self.logger).first.map(
                Self.user(from:))
        }
    }

    public func createSession(tokenHash: String, userID: Int64, expiresAt: Int64) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await write { connection in
            try await connection.query("DELETE FROM ci_session WHERE expires_at < \(now)", logger: self.logger)
            try await connection.query(
                "INSERT INTO ci_session (token_hash, user_id, expires_at) VALUES (\(tokenHash), \(userID), \(expiresAt))", logger: self.logger)
        }
    }

    public func session(tokenHash: String) async throws -> DashboardSession? {
        try await read { connection in
            try await Self.rows(
                """
                SELECT u.*, s.expires_at AS session_expires_at FROM ci_session s JOIN ci_user u ON u.id = s.user_id
                WHERE s.token_hash = \(tokenHash)
                """, on: connection, logger: self.logger
            ).first.map { DashboardSession(user: try Self.user(from: $0), expiresAt: try $0["session_expires_at"]) }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { connection in
            try await connection.query("DELETE FROM ci_session WHERE token_hash = \(tokenHash)", logger: self.logger)
            try await self.notify(.session(tokenHash: tokenHash), on: connection)
        }
    }
}
