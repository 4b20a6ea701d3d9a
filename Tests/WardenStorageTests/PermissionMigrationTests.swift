import Foundation
import GRDB
import Testing
import WardenCore

@testable import WardenStorage

/// Migration 009 over a database made by the schema before it: what every token could do then, it can still do
/// (through an explicit permission target); what a fresh server gets is nothing but its admin (issue 11).
@Suite("SQLite storage: permissions")
struct PermissionMigrationTests {
    func path() throws -> String { try temporaryDatabasePath("warden-permission-storage") }

    func principal(_ name: String) -> Principal { Principal(name: name, scope: .user) }

    @Test func whatTokensCouldDoBeforeTheyStillDoThroughAnExplicitTarget() async throws {
        let path = try path()
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteStorage.migrator.migrate(pool, upTo: "008-worker-created-at")
            try await pool.write { db in
                for (id, name, scope, project) in [
                    ("1", "root", "admin", nil), ("2", "ci", "user", nil), ("3", "pa", "project-admin", "p1"), ("4", "ci", "user", nil),
                ] as [(String, String, String, String?)] {
                    try db.execute(
                        sql: "INSERT INTO token (id, name, hash, scope, project_key, created_at) VALUES (?, ?, ?, ?, ?, 1)",
                        arguments: [id, name, "hash-\(id)", scope, project])
                }
                try db.execute(sql: "INSERT INTO repository (key, description, anonymous_read, created_at) VALUES ('libs', '', 0, 1)")
                try db.execute(
                    sql: """
                        INSERT INTO worker (key, description, enabled, debug, source_code, action, filter_criteria, properties, shared,
                            project_key, modified_at, modified_by, created_at)
                        VALUES ('old-worker', '', 1, 0, 'export default async () => 1;', 'GENERIC_EVENT', '{}', '[]', 0, '', 1, 'root', 1)
                        """)
                try db.execute(
                    sql:
                        "INSERT INTO ci_user (username, password_salt, password_hash, created_at) VALUES ('ada', x'00', x'00', 1), ('bob', x'00', x'00', 1)"
                )
                try db.execute(sql: "INSERT INTO ci_project (namespace, path, name, created_at) VALUES ('root', 'app', 'app', 1)")
                for (name, assignees) in [("everyone", "[]"), ("ada-only", "[\"ada\"]")] {
                    try db.execute(
                        sql: """
                            INSERT INTO ci_pipeline (project_id, name, plan, trigger_token_hash, parameters, header_constraints, body_constraints,
                                tags, archive_repository, assignees, public, created_at)
                            VALUES (1, ?, '{"stages":[]}', ?, '[]', '{}', '{}', '[]', 'ci-archives', ?, 0, 1)
                            """, arguments: [name, "hash-\(name)", assignees])
                }
            }
        }
        let storage = try SQLiteStorage(path: path)
        // Migration 013: tokens made before it have an empty description.
        #expect(try await (storage as any TokenStore).all().map(\.description) == ["", "", "", ""])
        let groups = try await storage.userGroups()
        #expect(groups.map(\.name) == ["pre-permissions-dashboard-users", "pre-permissions-users"])
        #expect(groups.first { $0.name == "pre-permissions-users" }?.members == ["ci", "pa"])
        #expect(groups.first { $0.name == "pre-permissions-dashboard-users" }?.members == ["ada", "bob"])
        let targets = try await storage.permissionTargets()
        #expect(
            targets == [
                PermissionTarget(
                    name: "pre-permissions", repositories: ["ANY"], groups: ["pre-permissions-users": [.read, .annotate, .write, .delete]])
            ])

        let permissions = PermissionService(store: storage, tokens: storage, dashboardUsers: storage)
        let libs = try #require(try await storage.repository(key: "libs"))
        for name in ["ci", "pa"] {
            for action in [RepositoryAction.read, .annotate, .write, .delete] {
                #expect(try await permissions.allows(action, libs, path: "any/file", principal: principal(name)), "\(name) \(action)")
            }
            #expect(try await !permissions.allows(.manage, libs, path: "", principal: principal(name)))
        }
        // A token made after the upgrade gets only what it is granted.
        #expect(try await !permissions.allows(.read, libs, path: "any/file", principal: principal("newcomer")))
        // A worker stored before has no owner; its run token keeps what it had: everything but manage, everywhere.
        let worker = try #require(try await storage.worker(key: "old-worker"))
        #expect(worker.owner == nil)
        let run = Principal(name: "worker:old-worker", scope: .user, eventDepth: 1, repositoryRights: worker.runRights)
        #expect(try await permissions.allows(.delete, libs, path: "x", principal: run))
        #expect(try await !permissions.allows(.manage, libs, path: "", principal: run))
        // Every token read every pipeline; the dashboard users read those without assignees.
        let pipelines = try await storage.pipelines()
        #expect(pipelines.map(\.readers) == [["pre-permissions-users", "pre-permissions-dashboard-users"], ["pre-permissions-users"]])
        let bob = PipelineViewer.user("bob", groups: try await permissions.groups(of: "bob"))
        #expect(pipelines.map { $0.isReadable(by: bob) } == [true, false])
        let ci = PipelineViewer.user("ci", groups: try await permissions.groups(of: "ci"))
        #expect(pipelines.allSatisfy { $0.isReadable(by: ci) })
    }

    @Test func aFreshDatabaseHasNoTargetsAndNoGroups() async throws {
        let storage = try SQLiteStorage(path: try path())
        #expect(try await storage.permissionTargets().isEmpty)
        #expect(try await storage.userGroups().isEmpty)
    }

    @Test func targetsAndGroupsRoundTripAndAGroupTakesItsGrantsWithIt() async throws {
        let storage = try SQLiteStorage(path: try path())
        let target = PermissionTarget(
            name: "t", repositories: ["libs", "docs"], includePatterns: ["a/**"], excludePatterns: ["**/*.key"], users: ["ada": [.read, .write]],
            groups: ["team": [.manage]])
        #expect(try await storage.savePermissionTarget(target))
        #expect(try await !storage.savePermissionTarget(target))
        #expect(try await storage.permissionTargets() == [target])
        #expect(try await storage.saveUserGroup(UserGroup(name: "team", description: "d", autoJoin: true, members: ["ada"])))
        try await storage.joinAutoJoinGroups(user: "bob")
        #expect(try await storage.userGroups().first?.members == ["ada", "bob"])
        #expect(try await storage.deleteUserGroup(name: "team"))
        #expect(try await storage.permissionTargets().first?.groups.isEmpty == true)
        #expect(try await !storage.deleteUserGroup(name: "team"))
        #expect(try await storage.deletePermissionTarget(name: "t"))
        #expect(try await !storage.deletePermissionTarget(name: "t"))
    }
}
