import Foundation
import Testing
import WardenCore

@testable import WardenStorage

/// The CI stores' contract (registry, pipelines and runs, tenants, dashboard users, permissions), on SQLite and on
/// PostgreSQL.
@Suite("Store contract: CI, tenants, users, permissions")
struct CIStoreContractTests {
    @Test(arguments: StoreKind.allCases) func tenantsGroupsProjectsAndRegistrationTokens(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let tenant = try #require(try await storage.createTenant(CITenant(name: "zeta", createdAt: 1)))
            _ = try await storage.createTenant(CITenant(name: "Alpha", createdAt: 2))
            #expect(try await storage.createTenant(CITenant(name: "zeta", createdAt: 3)) == nil)
            #expect(try await storage.tenants().map(\.name) == ["Alpha", "zeta"])
            let group = try await storage.createGroup(CIGroup(path: "team", name: "Team", createdAt: 1))
            let project = try await storage.createProject(CIProject(groupID: group.id, namespace: "team", path: "app", name: "App", createdAt: 2))
            #expect(try await storage.groups() == [group])
            try await storage.setTenant(tenant.id, ofProject: project.id)
            #expect(try await storage.projects().map(\.tenantID) == [tenant.id])
            try await storage.setTenant(nil, ofProject: project.id)
            #expect(try await storage.projects().first?.tenantID == nil)

            try await storage.setRegistrationToken("hash-1", sealed: Data([1]), for: .group(group.id))
            #expect(try await storage.registrationScope(tokenHash: "hash-1") == .group(group.id))
            // A new token replaces the scope's old one.
            try await storage.setRegistrationToken("hash-2", sealed: Data([2]), for: .group(group.id))
            #expect(try await storage.registrationScope(tokenHash: "hash-1") == nil)
            #expect(try await storage.sealedRegistrationToken(for: .group(group.id)) == Data([2]))
            try await storage.setRegistrationToken("hash-3", sealed: Data([3]), for: .instance)
            #expect(try await storage.registrationScope(tokenHash: "hash-3") == .instance)
            #expect(try await storage.sealedRegistrationToken(for: .project(project.id)) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func runnersAreCreatedReadUpdatedAndDeleted(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let runner = try await storage.createRunner(
                Runner(
                    tokenHash: "t1", scope: .project(4), description: "builder", name: "r", version: "17", ipAddress: "127.0.0.1",
                    tags: ["linux", "x86"],
                    maximumTimeout: 600, projectIDs: [4, 5], createdAt: 9, sealedControlToken: Data([7, 7])))
            #expect(runner.id > 0)
            #expect(try await storage.runner(id: runner.id) == runner)
            #expect(try await storage.runner(tokenHash: "t1") == runner)
            let second = try await storage.createRunner(Runner(tokenHash: "t2", scope: .instance))
            #expect(try await storage.runners().map(\.id) == [runner.id, second.id])
            let paused = try await storage.updateRunner(id: runner.id) { changed in
                changed.active = false
                changed.tags = []
                changed.contactedAt = 50
                changed.id = 999
            }
            #expect(paused?.active == false && paused?.id == runner.id)
            #expect(try await storage.runner(id: runner.id) == paused)
            #expect(try await storage.updateRunner(id: 12_345) { $0.active = false } == nil)
            #expect(try await storage.deleteRunner(id: runner.id))
            #expect(try await !storage.deleteRunner(id: runner.id))
            #expect(try await storage.runner(tokenHash: "t1") == nil)
        }
    }

    func pipeline(project: Int64, name: String = "build") -> CIPipeline {
        CIPipeline(
            projectID: project, name: name, plan: PipelinePlan(stages: [PlanStage(name: "compile", image: "debian")], archive: ["out/*"]),
            triggerTokenHash: "trigger-\(name)", parameters: ["p"], headerConstraints: ["X-A": "1"], bodyConstraints: ["ref": "main"],
            tags: ["linux"], assignees: ["ann"], readers: ["team"], isPublic: true, createdAt: 3)
    }

    @Test(arguments: StoreKind.allCases) func oneRunOfAPipelineAtATimeWithJobsPerStage(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let project = try await storage.createProject(CIProject(namespace: "root", path: "app", name: "app", createdAt: 1))
            let created = try await storage.createPipeline(pipeline(project: project.id))
            #expect(try await storage.pipeline(id: created.id) == created)
            #expect(try await storage.pipeline(triggerTokenHash: "trigger-build") == created)
            #expect(try await storage.pipelines() == [created])
            // Concurrent starts: one run.
            let started = try await withThrowingTaskGroup(of: CIRun?.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await storage.startRun(
                            CIRun(pipelineID: created.id, event: RunEvent(change: 7, patchset: "\(index)"), startedAt: 10), stages: ["a", "b"],
                            projectID: project.id)
                    }
                }
                return try await group.reduce(into: [CIRun]()) { if let run = $1 { $0.append(run) } }
            }
            #expect(started.count == 1)
            let run = try #require(started.first)
            let jobs = try await storage.jobs(runID: run.id)
            #expect(jobs.map(\.stage) == ["a", "b"] && jobs.allSatisfy { $0.status == "pending" && $0.projectID == project.id })
            #expect(try await storage.run(ofJob: jobs[1].uuid)?.id == run.id)
            #expect(try await storage.run(uuid: run.uuid)?.id == run.id)
            var finished = run
            finished.status = "Passed"
            finished.log = "all good\n"
            finished.archived = ["out/a.txt"]
            try await storage.finishRun(finished, jobs: [("a", "success"), ("b", "skipped")], at: 20)
            let read = try #require(try await storage.run(pipelineID: created.id, id: nil))
            #expect(read.status == "Passed" && read.log == "all good\n" && read.archived == ["out/a.txt"] && read.finishedAt == 20)
            #expect(read.event == run.event && run.event?.change == 7)
            let ended = try await storage.jobs(runIDs: [run.id])
            #expect(ended.map(\.status) == ["success", "skipped"] && ended[0].startedAt == 10 && ended[1].startedAt == nil)
            #expect(ended.allSatisfy { $0.finishedAt == 20 })

            // Lists: newest first, without logs, filtered by change.
            let second = try #require(
                try await storage.startRun(
                    CIRun(pipelineID: created.id, event: RunEvent(change: 8), startedAt: 30), stages: ["a"], projectID: project.id))
            let listed = try await storage.runs(pipelineIDs: [created.id], before: nil, limit: 10, change: nil)
            #expect(listed.map(\.id) == [second.id, run.id] && listed.allSatisfy { $0.log.isEmpty })
            #expect(try await storage.runs(pipelineIDs: [created.id], before: nil, limit: 10, change: 7).map(\.id) == [run.id])
            #expect(try await storage.runs(pipelineIDs: [created.id], before: second.id, limit: 10, change: nil).map(\.id) == [run.id])
            #expect(try await storage.runs(pipelineIDs: [], before: nil, limit: 10, change: nil).isEmpty)
            #expect(try await storage.runs(pipelineID: created.id).map(\.id) == [run.id, second.id])

            // After a restart, what was running is ended as an error.
            #expect(try await storage.abandonRunningRuns(note: "the server stopped\n", at: 40) == 1)
            let abandoned = try #require(try await storage.run(pipelineID: created.id, id: second.id))
            #expect(abandoned.status == "Error" && abandoned.log.hasSuffix("the server stopped\n") && abandoned.finishedAt == 40)
            #expect(try await storage.jobs(runID: second.id).map(\.status) == ["failed"])
        }
    }

    @Test(arguments: StoreKind.allCases) func aServerEndsOnlyTheRunsItFollowedWhenOthersShareTheDatabase(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let project = try await storage.createProject(CIProject(namespace: "root", path: "app", name: "app", createdAt: 1))
            var started: [String: CIRun] = [:]
            for (name, driver) in [("one", "replica-a"), ("two", "replica-b"), ("three", nil)] as [(String, String?)] {
                let pipeline = try await storage.createPipeline(pipeline(project: project.id, name: name))
                started[name] = try #require(
                    try await storage.startRun(CIRun(pipelineID: pipeline.id, startedAt: 1), stages: ["s"], projectID: project.id, driver: driver))
            }
            #expect(try await storage.abandonRunningRuns(note: "gone\n", at: 2, drivenBy: "replica-a") == 1)
            func status(_ name: String) async throws -> String? {
                let run = try #require(started[name])
                return try await storage.run(pipelineID: run.pipelineID, id: run.id)?.status
            }
            #expect(try await status("one") == "Error")
            #expect(try await status("two") == "Running")
            #expect(try await status("three") == "Running")
            // Alone on its database, a server ends every running run.
            #expect(try await storage.abandonRunningRuns(note: "gone\n", at: 3) == 2)
            #expect(try await status("two") == "Error")
        }
    }

    @Test(arguments: StoreKind.allCases) func autoholdsCountUpToTheirMaximumAndKeysAreMadeOnce(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let tenant = try #require(try await storage.createTenant(CITenant(name: "example", createdAt: 1)))
            let project = try await storage.createProject(CIProject(tenantID: tenant.id, namespace: "root", path: "app", name: "app", createdAt: 1))
            let request = try await storage.createAutohold(
                Autohold(
                    tenantID: tenant.id, projectID: project.id, job: "unit", refFilter: ".*", maxCount: 2, reason: "r", nodeExpiration: 0,
                    createdAt: 1))
            #expect(try await storage.recordHold(id: request.id, .init(build: "b1", nodes: ["runner-1"], heldAt: 5))?.currentCount == 1)
            #expect(try await storage.recordHold(id: request.id, .init(build: "b2", nodes: ["runner-2"]))?.isDone == true)
            #expect(try await storage.recordHold(id: request.id, .init(build: "b3", nodes: ["runner-3"])) == nil)
            let kept = try await storage.autoholds(tenantID: tenant.id)
            #expect(kept.first?.nodes == [.init(build: "b1", nodes: ["runner-1"], heldAt: 5), .init(build: "b2", nodes: ["runner-2"])])
            #expect(try await storage.deleteAutohold(id: request.id))
            #expect(try await !storage.deleteAutohold(id: request.id))

            let first = try await storage.sealedKey(owner: "project:1:rsa") { Data("one".utf8) }
            let second = try await storage.sealedKey(owner: "project:1:rsa") { Data("two".utf8) }
            #expect(first == Data("one".utf8) && second == first)
            var state = try await storage.tenantState(id: tenant.id)
            #expect(state == TenantState())
            state.triggerQueuePaused = true
            state.reason = "maintenance"
            try await storage.setTenantState(state, id: tenant.id)
            #expect(try await storage.tenantState(id: tenant.id) == state)
            let updated = try await storage.updateTenantState(id: tenant.id) { $0.resultQueuePaused = true }
            #expect(updated.resultQueuePaused && updated.triggerQueuePaused)
            #expect(try await storage.tenantState(id: tenant.id) == updated)
        }
    }

    @Test(arguments: StoreKind.allCases) func dashboardUsersAndTheirSessions(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let user = try await storage.createUser(
                DashboardUser(username: "ann", passwordSalt: Data([1]), passwordHash: Data([2, 3]), createdAt: 4))
            #expect(try await storage.user(username: "ann") == user)
            #expect(try await storage.user(username: "bob") == nil)
            await #expect(throws: (any Error).self) {
                try await storage.createUser(DashboardUser(username: "ann", passwordSalt: Data(), passwordHash: Data(), createdAt: 5))
            }
            let future = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
            try await storage.createSession(tokenHash: "s1", userID: user.id, expiresAt: future)
            #expect(try await storage.session(tokenHash: "s1") == DashboardSession(user: user, expiresAt: future))
            try await storage.deleteSession(tokenHash: "s1")
            #expect(try await storage.session(tokenHash: "s1") == nil)
            // Expired sessions go when the next one is made.
            try await storage.createSession(tokenHash: "old", userID: user.id, expiresAt: 1)
            try await storage.createSession(tokenHash: "new", userID: user.id, expiresAt: future)
            #expect(try await storage.session(tokenHash: "old") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func permissionTargetsAndGroups(_ kind: StoreKind) async throws {
        try await kind.withFreshStore { storage in
            let target = PermissionTarget(
                name: "builds", repositories: ["libs"], includePatterns: ["**/*.jar"], excludePatterns: ["tmp/**"],
                users: ["ann": [.read, .write]], groups: ["devs": [.read]])
            #expect(try await storage.savePermissionTarget(target))
            var changed = target
            changed.users["bob"] = [.delete]
            #expect(try await !storage.savePermissionTarget(changed))
            #expect(try await storage.permissionTargets() == [changed])
            #expect(try await storage.saveUserGroup(UserGroup(name: "devs", description: "d", members: ["ann", "bob"])))
            #expect(try await storage.saveUserGroup(UserGroup(name: "Everyone", autoJoin: true)))
            #expect(try await !storage.saveUserGroup(UserGroup(name: "devs", description: "e", members: ["cid"])))
            try await storage.joinAutoJoinGroups(user: "dan")
            try await storage.joinAutoJoinGroups(user: "dan")
            #expect(
                try await storage.userGroups() == [
                    UserGroup(name: "Everyone", autoJoin: true, members: ["dan"]), UserGroup(name: "devs", description: "e", members: ["cid"]),
                ])
            // A deleted group's grants go with it.
            #expect(try await storage.deleteUserGroup(name: "devs"))
            #expect(try await !storage.deleteUserGroup(name: "devs"))
            #expect(try await storage.permissionTargets().first?.groups == [:])
            #expect(try await storage.deletePermissionTarget(name: "builds"))
            #expect(try await !storage.deletePermissionTarget(name: "builds"))
        }
    }
}
