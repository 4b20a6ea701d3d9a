import Foundation
import GRDB
import WardenCore

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

    public func startRun(_ run: CIRun, stages: [String], projectID: Int64, driver: String?) async throws -> CIRun? {
        try await pool.write { db in
            let running =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM ci_run WHERE pipeline_id = ? AND status = 'Running' LIMIT 1", arguments: [run.pipelineID]) ?? false
            if running { return nil }
            try db.execute(
                sql: """
                    INSERT INTO ci_run (uuid, pipeline_id, event, status, runner_id, log, archived, started_at, driver)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run.uuid, run.pipelineID, try run.event.map(Self.json), run.status, run.runnerID, run.log, try Self.json(run.archived),
                    run.startedAt, driver,
                ])
            var created = run
            created.id = db.lastInsertedRowID
            for stage in stages {
                try db.execute(
                    sql: """
                        INSERT INTO ci_job (uuid, run_id, project_id, runner_id, name, stage, status, ref, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, 'pending', 'main', ?)
                        """, arguments: [RandomID.uuid(), created.id, projectID, run.runnerID, stage, stage, run.startedAt])
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
