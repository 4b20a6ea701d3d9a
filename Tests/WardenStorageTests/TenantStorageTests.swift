import Foundation
import GRDB
import Testing
import WardenCore

@testable import WardenStorage

/// The tenant dialect's storage: migration 006 over a database that already has runs, autohold counting, keys.
@Suite("SQLite storage: tenants")
struct TenantStorageTests {
    func path() throws -> String { try temporaryDatabasePath("warden-tenant-storage") }

    @Test func runsStoredBeforeMigration006KeepEverythingAndGetTheirOwnUUID() async throws {
        let path = try path()
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteStorage.migrator.migrate(pool, upTo: "004-ci-groups-projects-runners-jobs")
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO ci_project (namespace, path, name, created_at) VALUES ('root', 'app', 'app', 1)")
                try db.execute(
                    sql: """
                        INSERT INTO ci_pipeline (project_id, name, plan, trigger_token_hash, parameters, header_constraints, body_constraints,
                            tags, archive_repository, assignees, public, created_at)
                        VALUES (1, 'build', '{"stages":[]}', 'h', '[]', '{}', '{}', '[]', 'ci-archives', '[]', 0, 1)
                        """)
                for status in ["Passed", "Failed"] {
                    try db.execute(
                        sql: "INSERT INTO ci_run (pipeline_id, status, log, archived, started_at) VALUES (1, ?, 'the log', '[\"a.txt\"]', 5)",
                        arguments: [status])
                }
            }
        }
        let storage = try SQLiteStorage(path: path)
        let runs = try await storage.runs(pipelineID: 1)
        #expect(runs.map(\.status) == ["Passed", "Failed"] && runs.allSatisfy { $0.log == "the log" && $0.archived == ["a.txt"] && $0.event == nil })
        #expect(Set(runs.map(\.uuid)).count == 2 && runs.allSatisfy { $0.uuid.count == 32 && $0.uuid.allSatisfy(\.isHexDigit) })
        // A new run keeps its event.
        let event = RunEvent(change: 12, patchset: "3")
        let started = try #require(try await storage.startRun(CIRun(pipelineID: 1, event: event, startedAt: 9), stages: ["s"], projectID: 1))
        #expect(try await storage.run(pipelineID: 1, id: started.id)?.event == event)
        #expect(RunEvent.ref(of: event) == "refs/changes/12/12/3" && RunEvent.branch(of: RunEvent(ref: "refs/tags/v1")) == nil)
    }
}

/// A database file path in a fresh temporary folder.
func temporaryDatabasePath(_ prefix: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("db.sqlite").path
}
