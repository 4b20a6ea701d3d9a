import Foundation
import Logging
import PostgresNIO
import WardenCore

// MARK: Pipelines and runs

extension PostgresStorage: PipelineStore {
    public func createPipeline(_ pipeline: CIPipeline) async throws -> CIPipeline {
        let plan = try StoredForm.json(pipeline.plan)
        let parameters = try StoredForm.json(pipeline.parameters)
        let headers = try StoredForm.json(pipeline.headerConstraints)
        let bodies = try StoredForm.json(pipeline.bodyConstraints)
        let tags = try StoredForm.json(pipeline.tags)
        let assignees = try StoredForm.json(pipeline.assignees)
        let readers = try StoredForm.json(pipeline.readers)
        var created = pipeline
        created.id = try await insertReturningID(
            """
            INSERT INTO ci_pipeline (project_id, name, plan, trigger_token_hash, parameters, header_constraints, body_constraints, tags,
                archive_repository, assignees, public, created_at, readers)
            VALUES (\(pipeline.projectID), \(pipeline.name), \(plan), \(pipeline.triggerTokenHash), \(parameters), \(headers), \(bodies),
                \(tags), \(pipeline.archiveRepository), \(assignees), \(pipeline.isPublic), \(pipeline.createdAt), \(readers))
            RETURNING id
            """)
        return created
    }

    static func pipeline(from row: Columns) throws -> CIPipeline {
        CIPipeline(
            id: try row["id"], projectID: try row["project_id"], name: try row["name"],
            plan: try StoredForm.decode(PipelinePlan.self, try row["plan"]) ?? PipelinePlan(stages: []),
            triggerTokenHash: try row["trigger_token_hash"], parameters: try StoredForm.decode([String].self, try row["parameters"]) ?? [],
            headerConstraints: try StoredForm.decode([String: String].self, try row["header_constraints"]) ?? [:],
            bodyConstraints: try StoredForm.decode([String: String].self, try row["body_constraints"]) ?? [:],
            tags: try StoredForm.decode([String].self, try row["tags"]) ?? [], archiveRepository: try row["archive_repository"],
            assignees: try StoredForm.decode([String].self, try row["assignees"]) ?? [],
            readers: try StoredForm.decode([String].self, try row["readers"]) ?? [], isPublic: try row["public"], createdAt: try row["created_at"])
    }

    public func pipelines() async throws -> [CIPipeline] {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_pipeline ORDER BY id", on: connection, logger: self.logger).map(Self.pipeline(from:))
        }
    }

    public func pipeline(id: Int64) async throws -> CIPipeline? {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_pipeline WHERE id = \(id)", on: connection, logger: self.logger).first.map(Self.pipeline(from:))
        }
    }

    public func pipeline(triggerTokenHash: String) async throws -> CIPipeline? {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_pipeline WHERE trigger_token_hash = \(triggerTokenHash)", on: connection, logger: self.logger)
                .first.map(Self.pipeline(from:))
        }
    }

    /// The columns `run(from:)` reads, by position; `runColumns(log: false)` leaves the log out (lists).
    static func runColumns(log: Bool = true) -> String {
        "id, uuid, pipeline_id, event, status, runner_id, \(log ? "log" : "'' AS log"), archived, started_at, finished_at"
    }

    static func run(from row: PostgresRow) throws -> CIRun {
        let (id, uuid, pipelineID, event, status, runnerID, log, archived, startedAt, finishedAt) = try row.decode(
            (Int64, String, Int64, String?, String, Int64?, String, String, Int64, Int64?).self)
        return CIRun(
            id: id, uuid: uuid, pipelineID: pipelineID, event: event.flatMap(RunEvent.fromJSON), status: status, runnerID: runnerID, log: log,
            archived: archived == "[]" ? [] : try StoredForm.decode([String].self, archived) ?? [], startedAt: startedAt, finishedAt: finishedAt)
    }

    /// The runs a query of `ci_run` (its `SELECT` list from `runColumns`) finds.
    func runs(_ sql: String, _ binds: PostgresBindings) async throws -> [CIRun] {
        try await read { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger).collect().map(Self.run(from:))
        }
    }

    public func startRun(_ run: CIRun, stages: [String], projectID: Int64, driver: String?) async throws -> CIRun? {
        let event = try run.event.map(StoredForm.json)
        let archived = try StoredForm.json(run.archived)
        return try await write { connection in
            // One run of a pipeline at a time, on every server: the pipeline's row is the lock.
            try await connection.query("SELECT 1 FROM ci_pipeline WHERE id = \(run.pipelineID) FOR UPDATE", logger: self.logger)
            let running = try await connection.query(
                "SELECT 1 FROM ci_run WHERE pipeline_id = \(run.pipelineID) AND status = 'Running' LIMIT 1", logger: self.logger
            ).collect()
            guard running.isEmpty else { return nil }
            guard
                let id = try await connection.query(
                    """
                    INSERT INTO ci_run (uuid, pipeline_id, event, status, runner_id, log, archived, started_at, driver)
                    VALUES (\(run.uuid), \(run.pipelineID), \(event), \(run.status), \(run.runnerID), \(run.log), \(archived), \(run.startedAt),
                        \(driver))
                    RETURNING id
                    """, logger: self.logger
                ).collect().first?.decode(Int64.self)
            else { throw WardenError(.unavailable, "the database did not return the new run's id") }
            var created = run
            created.id = id
            let uuids = stages.map { _ in RandomID.uuid() }
            try await connection.query(
                """
                INSERT INTO ci_job (uuid, run_id, project_id, runner_id, name, stage, status, ref, created_at)
                SELECT u, \(id), \(projectID), \(run.runnerID), s, s, 'pending', 'main', \(run.startedAt)
                FROM unnest(\(uuids)::TEXT[], \(stages)::TEXT[]) WITH ORDINALITY AS j(u, s, n) ORDER BY n
                """, logger: self.logger)
            return created
        }
    }

    public func run(pipelineID: Int64, id: Int64?) async throws -> CIRun? {
        if let id {
            return try await runs(
                "SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = $1 AND id = $2", Self.binds(pipelineID, id)
            ).first
        }
        return try await runs("SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = $1 ORDER BY id DESC LIMIT 1", Self.binds(pipelineID))
            .first
    }

    public func runs(pipelineID: Int64) async throws -> [CIRun] {
        try await runs("SELECT \(Self.runColumns()) FROM ci_run WHERE pipeline_id = $1 ORDER BY id", Self.binds(pipelineID))
    }

    public func runs(pipelineIDs: [Int64], before: Int64?, limit: Int, change: Int?) async throws -> [CIRun] {
        guard !pipelineIDs.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(pipelineIDs)
        binds.append(before ?? Int64.max)
        var changeFilter = ""
        if let change {
            binds.append(String(change))
            changeFilter = "AND event::jsonb ->> 'change' = $3"
        }
        binds.append(Int64(max(0, limit)))
        return try await runs(
            """
            SELECT \(Self.runColumns(log: false)) FROM ci_run
            WHERE pipeline_id = ANY($1) AND id < $2 \(changeFilter) ORDER BY id DESC LIMIT $\(binds.count)
            """, binds)
    }

    public func run(uuid: String) async throws -> CIRun? {
        try await runs("SELECT \(Self.runColumns(log: false)) FROM ci_run WHERE uuid = $1", Self.binds(uuid)).first
    }

    public func run(ofJob uuid: String) async throws -> CIRun? {
        try await runs(
            "SELECT \(Self.runColumns(log: false)) FROM ci_run WHERE id = (SELECT run_id FROM ci_job WHERE uuid = $1)", Self.binds(uuid)
        ).first
    }

    public func jobs(runIDs: [Int64]) async throws -> [CIJob] {
        guard !runIDs.isEmpty else { return [] }
        return try await jobs(where: "run_id = ANY($1)", Self.binds(runIDs))
    }

    public func finishRun(_ run: CIRun, jobs: [(stage: String, status: String)], at millis: Int64) async throws {
        let archived = try StoredForm.json(run.archived)
        let stages = jobs.map(\.stage)
        let statuses = jobs.map(\.status)
        try await write { connection in
            try await connection.query(
                "UPDATE ci_run SET status = \(run.status), log = \(run.log), archived = \(archived), finished_at = \(millis) WHERE id = \(run.id)",
                logger: self.logger)
            try await connection.query(
                """
                UPDATE ci_job SET status = j.status,
                    started_at = CASE WHEN j.status != 'skipped' THEN \(run.startedAt)::BIGINT ELSE NULL END, finished_at = \(millis)
                FROM unnest(\(stages)::TEXT[], \(statuses)::TEXT[]) AS j(stage, status)
                WHERE ci_job.run_id = \(run.id) AND ci_job.stage = j.stage
                """, logger: self.logger)
        }
    }

    public func jobs(runID: Int64) async throws -> [CIJob] {
        try await jobs(where: "run_id = $1", Self.binds(runID))
    }

    public func abandonRunningRuns(note: String, at millis: Int64, drivenBy driver: String?) async throws -> Int {
        try await write { connection in
            // A NULL driver: every running run; otherwise those of that driver.
            try await connection.query(
                """
                UPDATE ci_job SET status = 'failed', finished_at = \(millis)
                WHERE status IN ('pending', 'running')
                    AND run_id IN (SELECT id FROM ci_run WHERE status = 'Running' AND (\(driver)::TEXT IS NULL OR driver = \(driver)))
                """, logger: self.logger)
            return try await connection.query(
                """
                UPDATE ci_run SET status = 'Error', log = log || \(note), finished_at = \(millis)
                WHERE status = 'Running' AND (\(driver)::TEXT IS NULL OR driver = \(driver)) RETURNING 1
                """, logger: self.logger
            ).collect().count
        }
    }
}

// MARK: Tenants: their state, autohold requests, project and tenant keys

extension PostgresStorage: TenantStore {
    public func tenantState(id: Int64) async throws -> TenantState {
        try await read { connection in
            let text = try await connection.query("SELECT state FROM ci_tenant WHERE id = \(id)", logger: self.logger).collect().first?.decode(
                String?.self)
            return try StoredForm.decode(TenantState.self, text ?? nil) ?? TenantState()
        }
    }

    public func setTenantState(_ state: TenantState, id: Int64) async throws {
        let text = try StoredForm.json(state)
        try await read { connection in
            try await connection.query("UPDATE ci_tenant SET state = \(text) WHERE id = \(id)", logger: self.logger).collect().count
        }
    }

    public func updateTenantState(id: Int64, _ change: @escaping @Sendable (inout TenantState) -> Void) async throws -> TenantState {
        try await write { connection in
            let text = try await connection.query("SELECT state FROM ci_tenant WHERE id = \(id) FOR UPDATE", logger: self.logger).collect().first?
                .decode(String?.self)
            var state = try StoredForm.decode(TenantState.self, text ?? nil) ?? TenantState()
            change(&state)
            try await connection.query("UPDATE ci_tenant SET state = \(try StoredForm.json(state)) WHERE id = \(id)", logger: self.logger)
            return state
        }
    }

    static func autohold(from row: Columns) throws -> Autohold {
        Autohold(
            id: try row["id"], tenantID: try row["tenant_id"], projectID: try row["project_id"], job: try row["job"],
            refFilter: try row["ref_filter"], maxCount: try row["max_count"], currentCount: try row["current_count"], reason: try row["reason"],
            nodeExpiration: try row["node_expiration"], nodes: try StoredForm.decode([Autohold.HeldNodes].self, try row["nodes"]) ?? [],
            createdAt: try row["created_at"])
    }

    public func createAutohold(_ request: Autohold) async throws -> Autohold {
        let nodes = try StoredForm.json(request.nodes)
        var created = request
        created.id = try await insertReturningID(
            """
            INSERT INTO ci_autohold (tenant_id, project_id, job, ref_filter, max_count, current_count, reason, node_expiration, nodes, created_at)
            VALUES (\(request.tenantID), \(request.projectID), \(request.job), \(request.refFilter), \(request.maxCount), \(request.currentCount),
                \(request.reason), \(request.nodeExpiration), \(nodes), \(request.createdAt))
            RETURNING id
            """)
        return created
    }

    public func autoholds(tenantID: Int64) async throws -> [Autohold] {
        try await read { connection in
            try await Self.rows("SELECT * FROM ci_autohold WHERE tenant_id = \(tenantID) ORDER BY id", on: connection, logger: self.logger).map(
                Self.autohold(from:))
        }
    }

    public func deleteAutohold(id: Int64) async throws -> Bool {
        try await read { connection in
            try await !connection.query("DELETE FROM ci_autohold WHERE id = \(id) RETURNING 1", logger: self.logger).collect().isEmpty
        }
    }

    public func recordHold(id: Int64, _ held: Autohold.HeldNodes) async throws -> Autohold? {
        try await write { connection in
            guard
                var request = try await Self.rows("SELECT * FROM ci_autohold WHERE id = \(id) FOR UPDATE", on: connection, logger: self.logger)
                    .first.map(Self.autohold(from:)),
                !request.isDone
            else { return nil }
            request.currentCount += 1
            request.nodes.append(held)
            try await connection.query(
                "UPDATE ci_autohold SET current_count = \(request.currentCount), nodes = \(try StoredForm.json(request.nodes)) WHERE id = \(id)",
                logger: self.logger)
            return request
        }
    }

    public func sealedKey(owner: String, make: @Sendable () throws -> Data) async throws -> Data {
        let lookup: PostgresQuery = "SELECT sealed_value FROM ci_key WHERE owner = \(owner)"
        if let existing = try await read({ connection in
            try await connection.query(lookup, logger: self.logger).collect().first?.decode(Data.self)
        }) {
            return existing
        }
        let made = try make()
        return try await read { connection in
            // Two first askers race (on any server): the first key written wins and both get it.
            try await connection.query(
                "INSERT INTO ci_key (owner, sealed_value) VALUES (\(owner), \(made)) ON CONFLICT (owner) DO NOTHING", logger: self.logger)
            return try await connection.query(lookup, logger: self.logger).collect().first?.decode(Data.self) ?? made
        }
    }
}

// MARK: Permission targets and groups

extension PostgresStorage: PermissionStore {
    static func target(from row: Columns) throws -> PermissionTarget {
        PermissionTarget(
            name: try row["name"], repositories: try StoredForm.decode([String].self, try row["repositories"]) ?? [],
            includePatterns: try StoredForm.decode([String].self, try row["include_patterns"]) ?? [],
            excludePatterns: try StoredForm.decode([String].self, try row["exclude_patterns"]) ?? [],
            users: try StoredForm.decode(StoredForm.Grants.self, try row["users"])?.map ?? [:],
            groups: try StoredForm.decode(StoredForm.Grants.self, try row["groups"])?.map ?? [:])
    }

    /// Creates or replaces a target; true when it was new.
    static func save(_ target: PermissionTarget, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let repositories = try StoredForm.json(target.repositories)
        let includes = try StoredForm.json(target.includePatterns)
        let excludes = try StoredForm.json(target.excludePatterns)
        let users = try StoredForm.json(StoredForm.Grants(target.users))
        let groups = try StoredForm.json(StoredForm.Grants(target.groups))
        // `xmax = 0` only for a row this statement inserted (an updated row carries the updating transaction's id).
        let inserted = try await connection.query(
            """
            INSERT INTO permission_target (name, repositories, include_patterns, exclude_patterns, users, groups)
            VALUES (\(target.name), \(repositories), \(includes), \(excludes), \(users), \(groups))
            ON CONFLICT (name) DO UPDATE SET repositories = EXCLUDED.repositories, include_patterns = EXCLUDED.include_patterns,
                exclude_patterns = EXCLUDED.exclude_patterns, users = EXCLUDED.users, groups = EXCLUDED.groups
            RETURNING (xmax = 0)
            """, logger: logger
        ).collect().first?.decode(Bool.self)
        return inserted ?? false
    }

    public func permissionTargets() async throws -> [PermissionTarget] {
        try await read { connection in
            try await Self.rows("SELECT * FROM permission_target ORDER BY name", on: connection, logger: self.logger).map(Self.target(from:))
        }
    }

    public func savePermissionTarget(_ target: PermissionTarget) async throws -> Bool {
        try await write { connection in
            let new = try await Self.save(target, on: connection, logger: self.logger)
            try await self.notify(.permissions, on: connection)
            return new
        }
    }

    public func deletePermissionTarget(name: String) async throws -> Bool {
        try await write { connection in
            let deleted = try await connection.query("DELETE FROM permission_target WHERE name = \(name) RETURNING 1", logger: self.logger).collect()
            guard !deleted.isEmpty else { return false }
            try await self.notify(.permissions, on: connection)
            return true
        }
    }

    public func userGroups() async throws -> [UserGroup] {
        try await read { connection in
            var members: [String: [String]] = [:]
            for row in try await connection.query("SELECT group_name, user_name FROM group_member ORDER BY user_name", logger: self.logger)
                .collect()
            {
                let (group, user) = try row.decode((String, String).self)
                members[group, default: []].append(user)
            }
            return try await Self.rows("SELECT * FROM user_group ORDER BY name", on: connection, logger: self.logger).map { row in
                let name: String = try row["name"]
                return UserGroup(name: name, description: try row["description"], autoJoin: try row["auto_join"], members: members[name] ?? [])
            }
        }
    }

    public func saveUserGroup(_ group: UserGroup) async throws -> Bool {
        try await write { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO user_group (name, description, auto_join) VALUES (\(group.name), \(group.description), \(group.autoJoin))
                ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, auto_join = EXCLUDED.auto_join
                RETURNING (xmax = 0)
                """, logger: self.logger
            ).collect().first?.decode(Bool.self)
            try await connection.query("DELETE FROM group_member WHERE group_name = \(group.name)", logger: self.logger)
            try await connection.query(
                """
                INSERT INTO group_member (group_name, user_name) SELECT \(group.name), m FROM unnest(\(group.members)::TEXT[]) AS m
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
            try await self.notify(.permissions, on: connection)
            return inserted ?? false
        }
    }

    public func deleteUserGroup(name: String) async throws -> Bool {
        try await write { connection in
            let deleted = try await connection.query("DELETE FROM user_group WHERE name = \(name) RETURNING 1", logger: self.logger).collect()
            guard !deleted.isEmpty else { return false }
            // The grants made to the group go with it, in the same transaction.
            let targets = try await Self.rows("SELECT * FROM permission_target FOR UPDATE", on: connection, logger: self.logger).map(
                Self.target(from:))
            for var target in targets where target.groups[name] != nil {
                target.groups[name] = nil
                _ = try await Self.save(target, on: connection, logger: self.logger)
            }
            try await self.notify(.permissions, on: connection)
            return true
        }
    }

    public func joinAutoJoinGroups(user: String) async throws {
        try await write { connection in
            try await connection.query(
                """
                INSERT INTO group_member (group_name, user_name) SELECT name, \(user) FROM user_group WHERE auto_join
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
            try await self.notify(.permissions, on: connection)
        }
    }
}
