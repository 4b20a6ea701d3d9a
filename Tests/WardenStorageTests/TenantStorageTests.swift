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

    @Test func autoholdsCountUpToTheirMaximumAndKeysAreMadeOnce() async throws {
        let storage = try SQLiteStorage(path: try path())
        let tenant = try #require(try await storage.createTenant(CITenant(name: "example", createdAt: 1)))
        #expect(try await storage.createTenant(CITenant(name: "example", createdAt: 2)) == nil)
        let project = try await storage.createProject(CIProject(tenantID: tenant.id, namespace: "root", path: "app", name: "app", createdAt: 1))
        let request = try await storage.createAutohold(
            Autohold(
                tenantID: tenant.id, projectID: project.id, job: "unit", refFilter: ".*", maxCount: 2, reason: "r", nodeExpiration: 0, createdAt: 1))
        #expect(try await storage.recordHold(id: request.id, .init(build: "b1", nodes: ["runner-1"]))?.currentCount == 1)
        #expect(try await storage.recordHold(id: request.id, .init(build: "b2", nodes: ["runner-2"]))?.isDone == true)
        #expect(try await storage.recordHold(id: request.id, .init(build: "b3", nodes: ["runner-3"])) == nil)
        #expect(try await storage.autoholds(tenantID: tenant.id).first?.nodes.map(\.build) == ["b1", "b2"])
        let deleted = try await storage.deleteAutohold(id: request.id)
        let deletedAgain = try await storage.deleteAutohold(id: request.id)
        #expect(deleted && !deletedAgain)

        let first = try await storage.sealedKey(owner: "project:1:rsa") { Data("one".utf8) }
        let second = try await storage.sealedKey(owner: "project:1:rsa") { Data("two".utf8) }
        #expect(first == Data("one".utf8) && second == first)
        var state = try await storage.tenantState(id: tenant.id)
        #expect(state == TenantState())
        state.triggerQueuePaused = true
        state.reason = "maintenance"
        try await storage.setTenantState(state, id: tenant.id)
        #expect(try await storage.tenantState(id: tenant.id) == state)
    }
}

/// A database file path in a fresh temporary folder.
func temporaryDatabasePath(_ prefix: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("db.sqlite").path
}
