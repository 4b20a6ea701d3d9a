import Foundation
import RunModel
import Testing

@testable import WardenCore

/// What the core cannot keep it says in the log (issue 12, structured errors): a state or history write that
/// fails, and a scheduler that cannot read its workers. In-memory stores that fail on purpose, and a runtime that
/// answers at once, stand in for SQLite and the executors.
@Suite("Lost writes are logged")
struct LostWritesTests {
    @Test func aStateAndAHistoryEntryThatCannotBeWrittenAreLoggedAndTheRunStillAnswers() async throws {
        let log = LogCapture()
        let core = try Core(
            [Worker(key: "keeper", sourceCode: "export default async () => 1;", action: .genericEvent)],
            runner: ScriptedRunner(fallback: RunResult(outcome: .success(resultJSON: "1"), state: ["seen": "yes"])),
            history: MemoryHistory(failing: true), states: MemoryStates(failing: true), log: log)
        let result = try await core.events.execute(key: "keeper", dataJSON: "{}", by: Core.admin)
        #expect(result.executionStatus == .success)
        // A successful run's entry is written behind the answer: its loss is the writer's to log.
        await core.service.historyWriter.flush()
        let lines = log.lines.withLock { $0 }
        #expect(lines.contains("error: the state of worker 'keeper' could not be saved: the disk is full"), "\(lines)")
        #expect(lines.contains("error: history entries could not be written (1 lost): the disk is full"), "\(lines)")
        #expect(lines.contains("warning: the history of worker 'keeper' could not be pruned: the disk is full"), "\(lines)")
    }

    @Test func aFailedRunWhoseEntryCannotBeWrittenIsLoggedBeforeItsAnswer() async throws {
        let log = LogCapture()
        let core = try Core(
            [Worker(key: "breaker", sourceCode: "export default async () => 1;", action: .genericEvent)],
            runner: ScriptedRunner(fallback: RunResult(outcome: .threw(WorkerError(type: "Error", message: "no")))),
            history: MemoryHistory(failing: true), log: log)
        let result = try await core.events.execute(key: "breaker", dataJSON: "{}", by: Core.admin)
        #expect(result.executionStatus == .fail)
        let lines = log.lines.withLock { $0 }
        #expect(lines.contains("error: a run of worker 'breaker' could not be recorded in the history: the disk is full"), "\(lines)")
    }

    @Test func aSchedulerThatCannotReadItsWorkersSaysSo() async throws {
        let log = LogCapture()
        let core = try Core(workers: MemoryWorkers(failing: true), log: log)
        let scheduler = WorkerScheduler(workers: core.workers, claims: MemoryClaims(), events: core.events, logger: log.logger)
        let date = Date(timeIntervalSince1970: 60 * 1_000_000)
        #expect(await scheduler.tick(at: date).isEmpty)
        #expect(log.lines.withLock { $0 } == ["error: the scheduler could not read the workers; minute 1000000 fires nothing: the disk is full"])
    }
}
