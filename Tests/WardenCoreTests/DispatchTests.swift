import Foundation
import RunModel
import Testing

@testable import WardenCore

/// How an event becomes runs (spec §7, §9), through the one dispatcher, with stores and runtime in memory.
@Suite("Events become runs")
struct DispatchTests {
    static func guarded(_ keys: String..., answers: [String: RunResult] = [:], failPolicy: FailPolicy = .open) throws -> Core {
        try Core(keys.map { Core.worker($0, .beforeDownload) }, runner: ScriptedRunner(answers), failPolicy: failPolicy)
    }

    func verdict(_ core: Core, repo: String = "libs", path: String = "a/b.bin", depth: Int = 0) async throws -> SyncVerdict {
        try await core.events.runSynchronous(
            action: .beforeDownload, repo: repo, path: path, dataJSON: { "{}" }, triggeredBy: "alice", depth: depth)
    }

    // MARK: The run's platform token

    @Test func aRunThatNeverReadsItsPlatformTokenMintsNone() async throws {
        let tokens = WorkerTokens()
        let core = try Core([Core.worker("quiet", .beforeDownload)], workerTokens: tokens)
        _ = try await verdict(core)
        #expect(core.runner.ran == ["quiet"])
        #expect(tokens.grants.withLock { $0.byValue.isEmpty })
    }

    @Test func aRunThatReadsItsPlatformTokenGetsOneRevokedWithTheRun() async throws {
        let tokens = WorkerTokens()
        let runner = ScriptedRunner(tokenReaders: ["reader"])
        let core = try Core([Core.worker("reader", .beforeDownload)], runner: runner, workerTokens: tokens)
        _ = try await verdict(core)
        let value = try #require(runner.tokensRead.withLock { $0["reader"] })
        #expect(!value.isEmpty)
        // Revoked with the run, and the run's token object mints no other once closed.
        #expect(tokens.principal(for: value) == nil)
        #expect(tokens.grants.withLock { $0.byValue.isEmpty })
        #expect(runner.jobs.withLock { $0[0].platformToken.value }.isEmpty)
    }

    // MARK: Selection

    @Test func onlyWorkersWhoseFilterSelectsThePathRun() async throws {
        let core = try Core(
            [
                Core.worker("jars", .beforeDownload, filter: ArtifactFilter(repoKeys: ["libs"], includePatterns: ["**/*.jar"])),
                Core.worker("all-libs", .beforeDownload, filter: ArtifactFilter(repoKeys: ["libs"])),
                Core.worker("other-repo", .beforeDownload, filter: ArtifactFilter(repoKeys: ["docs"])),
                Core.worker("excluded", .beforeDownload, filter: ArtifactFilter(repoKeys: ["libs"], excludePatterns: ["a/**"])),
            ])
        _ = try await verdict(core, path: "a/b.bin")
        #expect(core.runner.ran == ["all-libs"])
    }

    @Test func aDisabledWorkerDoesNotRun() async throws {
        let core = try Core([Core.worker("off", .beforeDownload, enabled: false), Core.worker("on", .beforeDownload)])
        _ = try await verdict(core)
        #expect(core.runner.ran == ["on"])
    }

    @Test func anEventWithNoWorkerBuildsNoPayload() async throws {
        let core = try Core()
        let verdict = try await core.events.runSynchronous(
            action: .beforeDownload, repo: "libs", path: "x",
            dataJSON: {
                Issue.record("the payload was built"); return "{}"
            },
            triggeredBy: "alice")
        #expect(verdict == SyncVerdict())
    }

    // MARK: Verdicts

    @Test func policiesRunInKeyOrderAndTheFirstStopEndsTheChain() async throws {
        let core = try Self.guarded("c", "a", "b", answers: ["b": Core.answer(#"{"status":2,"message":"no"}"#)])
        let verdict = try await verdict(core)
        #expect(verdict.stopMessage == "no")
        #expect(core.runner.ran == ["a", "b"])
    }

    @Test func aStopWithoutAMessageNamesTheWorker() async throws {
        let core = try Self.guarded("guard", answers: ["guard": Core.answer(#"{"status":"DOWNLOAD_STOP"}"#)])
        #expect(try await verdict(core).stopMessage == "stopped by worker 'guard'")
    }

    @Test func aWarningProceeds() async throws {
        let core = try Self.guarded("a-warns", "b-next", answers: ["a-warns": Core.answer(#"{"status":3,"message":"careful"}"#)])
        #expect(try await verdict(core).stopMessage == nil)
        #expect(core.runner.ran == ["a-warns", "b-next"])
    }

    /// The runner reads a synchronous event's answer (the executor, from the value it wrote): the verdict is made
    /// from that reading, not from parsing the result JSON again; a runner that did not read it is read here.
    @Test func theRunnersReadingOfTheAnswerIsTheOneDecided() async throws {
        var read = Core.answer(#"{"status":1}"#)
        read.answer = .answer(WorkerAnswer(status: .name("DOWNLOAD_STOP"), message: "read by the runner"))
        let core = try Self.guarded("reader", answers: ["reader": read])
        #expect(try await verdict(core).stopMessage == "read by the runner")
        #expect(core.runner.jobs.withLock { $0.map(\.readsAnswer) } == [true])
        let unread = try Self.guarded("plain", answers: ["plain": Core.answer(#"{"status":2,"message":"parsed here"}"#)])
        #expect(try await verdict(unread).stopMessage == "parsed here")
    }

    @Test func headersAreKeptAndTheServersOwnAreDropped() async throws {
        let answer = #"{"status":1,"headers":{"X-Scan":{"value":["clean"]},"Set-Cookie":{"value":["a=b"]}}}"#
        let core = try Self.guarded("headers", answers: ["headers": Core.answer(answer)])
        let verdict = try await verdict(core)
        #expect(verdict.headers.map(\.name) == ["X-Scan"])
        #expect(verdict.headers.map(\.values) == [["clean"]])
    }

    @Test func aModifiedPathIsTheVerdicts() async throws {
        let answer = #"{"status":1,"modifiedRepoPath":{"key":"other","path":"new/place.bin"}}"#
        let core = try Self.guarded("moves", answers: ["moves": Core.answer(answer)])
        let verdict = try await verdict(core)
        #expect(verdict.modifiedRepoPath?.key == "other")
        #expect(verdict.modifiedRepoPath?.path == "new/place.bin")
    }

    // MARK: Fail policy

    @Test func aFailedPolicyIsPassedOverWhenTheServerFailsOpen() async throws {
        let failed = RunResult(outcome: .threw(WorkerError(type: "Error", message: "boom")))
        let core = try Self.guarded("broken", "next", answers: ["broken": failed])
        #expect(try await verdict(core).stopMessage == nil)
        #expect(core.runner.ran == ["broken", "next"])
    }

    @Test func aFailedPolicyRefusesWhenTheServerFailsClosed() async throws {
        let failed = RunResult(outcome: .threw(WorkerError(type: "Error", message: "boom")))
        let core = try Self.guarded("broken", "next", answers: ["broken": failed], failPolicy: .closed)
        let message = try #require(try await verdict(core).stopMessage)
        #expect(message == "worker 'broken' failed (Error: boom); this server refuses the operation when a worker fails")
        #expect(core.runner.ran == ["broken"])
    }

    @Test func anUnreadableAnswerIsAFailureNeverConsent() async throws {
        for answer in ["not json", "[1]", #"{"status":true}"#] {
            let core = try Self.guarded("odd", answers: ["odd": Core.answer(answer)], failPolicy: .closed)
            #expect(try await verdict(core).stopMessage != nil, "\(answer)")
        }
    }

    @Test func aPolicyThatCouldNotRunInTimeRefusesWhateverThePolicy() async throws {
        let core = try Self.guarded("starved", answers: ["starved": RunResult(outcome: .queueWait)], failPolicy: .open)
        let error = await #expect(throws: WardenError.self) { try await verdict(core) }
        #expect(error?.code == .unavailable)
    }

    @Test func aPolicyIsNeverSkippedForDepthTheOperationIsRefused() async throws {
        let core = try Self.guarded("deep")
        let error = await #expect(throws: WardenError.self) { try await verdict(core, depth: EventDepth.limit + 1) }
        #expect(error?.code == .forbidden)
        #expect(core.runner.ran.isEmpty)
    }

    @Test func policyRunsAreAdmittedAsPolicies() async throws {
        let core = try Self.guarded("guard")
        _ = try await verdict(core)
        #expect(core.runner.jobs.withLock { $0.map(\.runClass) } == [.policy])
    }

    // MARK: Asynchronous runs

    @Test func asynchronousRunsAreStoredFirstAndRunLater() async throws {
        let core = try Core([Core.worker("after", .afterDownload)])
        let queued = try await core.events.enqueue(
            action: .afterDownload, repo: "libs", path: "a.bin", dataJSON: { #"{"n":1}"# }, triggeredBy: "alice")
        #expect(queued == 1)
        #expect(core.runner.ran.isEmpty)
        let run = try #require(core.pending.pending.first)
        await core.events.perform(run)
        #expect(core.runner.jobs.withLock { $0.map(\.dataJSON) } == [#"{"n":1}"#])
        #expect(core.pending.pending.isEmpty)
        #expect(await core.recorded().map(\.triggeredBy) == ["alice"])
    }

    @Test func aRunTakenAgainAfterItsHolderStoppedIsRecordedAsARetry() async throws {
        let core = try Core([Core.worker("after", .afterDownload)])
        try await core.events.enqueue(action: .afterDownload, repo: "libs", path: "a.bin", dataJSON: { "{}" }, triggeredBy: "alice")
        // Another server claimed it and stopped; its lease ended.
        _ = try await core.pending.claim(limit: 1, owner: "stopped-server", now: 1, until: 2)
        let retaken = try #require(try await core.pending.claim(limit: 1, owner: "this-server", now: 3, until: .max).first)
        #expect(retaken.attempts == 2)
        await core.events.perform(retaken)
        let entries = await core.recorded()
        #expect(entries.count == 1)
        #expect(entries.first?.logs.hasPrefix("warden: attempt 2 of this asynchronous run") == true)
        #expect(core.pending.pending.isEmpty)
    }

    @Test func aQueuedRunOfAWorkerDisabledSinceIsDroppedUnrun() async throws {
        let core = try Core([Core.worker("after", .afterDownload)])
        try await core.events.enqueue(action: .afterDownload, repo: "libs", path: "a.bin", dataJSON: { "{}" }, triggeredBy: "alice")
        try await core.workers.update(key: "after") { $0.worker.enabled = false }
        let run = try #require(core.pending.pending.first)
        await core.events.perform(run)
        #expect(core.runner.ran.isEmpty)
        #expect(core.pending.pending.isEmpty)
    }

    // MARK: Execute, rerun, schedule: the same funnel

    @Test func anExecuteRunsAsTheCallersRun() async throws {
        let core = try Core([Worker(key: "gen", sourceCode: "x", action: .genericEvent, projectKey: "p1")])
        let bob = Principal(name: "bob", scope: .projectAdmin("p1"))
        _ = try await core.events.execute(key: "gen", dataJSON: #"{"a":1}"#, by: Core.admin)
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: bob)
        let jobs = core.runner.jobs.withLock { $0 }
        #expect(jobs.map(\.runClass) == [.caller, .caller])
        #expect(jobs.map(\.share) == ["caller:admin", "project:p1"])
        #expect(await core.recorded().map(\.triggeredBy) == ["admin", "bob"])
    }

    @Test func onlyAnEnabledGenericEventWorkerIsExecuted() async throws {
        let core = try Core([
            Worker(key: "off", enabled: false, sourceCode: "x", action: .genericEvent), Core.worker("policy", .beforeDownload),
        ])
        let disabled = await #expect(throws: WardenError.self) { try await core.events.execute(key: "off", dataJSON: "{}", by: Core.admin) }
        #expect(disabled?.code == .conflict)
        let wrongKind = await #expect(throws: WardenError.self) {
            try await core.events.execute(key: "policy", dataJSON: "{}", by: Core.admin)
        }
        #expect(wrongKind?.code == .badRequest)
        let missing = await #expect(throws: WardenError.self) { try await core.events.execute(key: "none", dataJSON: "{}", by: Core.admin) }
        #expect(missing?.code == .notFound)
        #expect(core.runner.ran.isEmpty)
    }

    @Test func aRerunRunsTheRecordedPayloadAgain() async throws {
        let core = try Core([Worker(key: "gen", sourceCode: "x", action: .genericEvent)])
        _ = try await core.events.execute(key: "gen", dataJSON: #"{"first":true}"#, by: Core.admin)
        let entry = try #require(await core.recorded().first)
        let (action, _) = try await core.events.rerun(key: "gen", historyEntryID: entry.id, forceRecord: false, by: Core.admin)
        #expect(action == .genericEvent)
        #expect(core.runner.jobs.withLock { $0.map(\.dataJSON) } == [#"{"first":true}"#, #"{"first":true}"#])
    }

    @Test func aRerunOfAnotherWorkersEntryIsNotFound() async throws {
        let core = try Core([
            Worker(key: "one", sourceCode: "x", action: .genericEvent), Worker(key: "two", sourceCode: "x", action: .genericEvent),
        ])
        _ = try await core.events.execute(key: "one", dataJSON: "{}", by: Core.admin)
        let entry = try #require(await core.recorded().first)
        let error = await #expect(throws: WardenError.self) {
            try await core.events.rerun(key: "two", historyEntryID: entry.id, forceRecord: false, by: Core.admin)
        }
        #expect(error?.code == .notFound)
    }

    @Test func aDueScheduleFiresOnceAMinuteWithItsTrigger() async throws {
        let every = Worker(
            key: "tick", sourceCode: "x", action: .scheduledEvent, filterCriteria: FilterCriteria(schedule: Schedule(cron: "* * * * *")))
        let core = try Core([every])
        let claims = MemoryClaims()
        let first = WorkerScheduler(workers: core.workers, claims: claims, events: core.events)
        let second = WorkerScheduler(workers: core.workers, claims: claims, events: core.events)
        let date = Date(timeIntervalSince1970: 60 * 1_000_000 + 5)
        #expect(await first.tick(at: date) == ["tick"])
        #expect(await second.tick(at: date) == [])
        #expect(core.runner.jobs.withLock { $0.map(\.dataJSON) } == [#"{"triggerID":"tick@1000000"}"#])
        #expect(await core.recorded().map(\.triggeredBy) == ["scheduler"])
    }

    // MARK: What a run leaves

    @Test func theStateIsSavedWhenARunSucceeds() async throws {
        let core = try Core(
            [Worker(key: "gen", sourceCode: "x", action: .genericEvent)],
            runner: ScriptedRunner(fallback: RunResult(outcome: .success(resultJSON: "1"), state: ["count": "1"])))
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: Core.admin)
        #expect(try await core.states.state(of: "gen") == ["count": "1"])
    }

    @Test func theStateIsNotSavedWhenARunFails() async throws {
        let failed = RunResult(outcome: .threw(WorkerError(type: "Error", message: "boom")), state: ["count": "1"])
        let core = try Core([Worker(key: "gen", sourceCode: "x", action: .genericEvent)], runner: ScriptedRunner(fallback: failed))
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: Core.admin)
        #expect(try await core.states.state(of: "gen") == [:])
    }

    @Test func aRunSeesTheStateItsLastSuccessLeft() async throws {
        let core = try Core(
            [Worker(key: "gen", sourceCode: "x", action: .genericEvent)],
            runner: ScriptedRunner(fallback: RunResult(outcome: .success(resultJSON: "1"), state: ["count": "1"])))
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: Core.admin)
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: Core.admin)
        #expect(core.runner.jobs.withLock { $0.map(\.state) } == [[:], ["count": "1"]])
    }

    @Test func successesAreNotRecordedWhenTheSettingsSaySoButFailuresAre() async throws {
        let settings = WorkerSettings(recordSuccessfulRuns: false)
        let failed = RunResult(outcome: .threw(WorkerError(type: "Error", message: "boom")))
        let core = try Core(
            [Worker(key: "ok", sourceCode: "x", action: .genericEvent), Worker(key: "bad", sourceCode: "x", action: .genericEvent)],
            runner: ScriptedRunner(["bad": failed]), settings: settings)
        _ = try await core.events.execute(key: "ok", dataJSON: "{}", by: Core.admin)
        _ = try await core.events.execute(key: "bad", dataJSON: "{}", by: Core.admin)
        #expect(await core.recorded().map(\.workerKey) == ["bad"])
    }

    @Test func aLongEntryIsCutWithAMarker() async throws {
        let settings = WorkerSettings(historyEntryMaxBytes: 5_000)
        let chatty = RunResult(outcome: .success(resultJSON: "1"), logs: String(repeating: "x", count: 20_000))
        let core = try Core(
            [Worker(key: "gen", sourceCode: "x", action: .genericEvent)], runner: ScriptedRunner(fallback: chatty), settings: settings)
        _ = try await core.events.execute(key: "gen", dataJSON: "{}", by: Core.admin)
        let entry = try #require(await core.recorded().first)
        #expect(entry.logs.hasSuffix("[cut: history entries are kept up to 5000 bytes]"))
        #expect(entry.logs.utf8.count < 5_000)
    }

    @Test func secretsAreMaskedInTheRecordedPayload() async throws {
        let core = try Core()
        let sealed = try core.vault.seal("hunter2", worker: "gen", name: "password")
        try await core.workers.create(
            StoredWorker(worker: Worker(key: "gen", sourceCode: "x", action: .genericEvent), sealedSecrets: ["password": sealed]))
        _ = try await core.events.execute(key: "gen", dataJSON: #"{"password":"hunter2"}"#, by: Core.admin)
        #expect(core.runner.jobs.withLock { $0.map(\.secrets) } == [["password": "hunter2"]])
        #expect(await core.recorded().first?.payloadJSON == #"{"password":"***"}"#)
    }
}
