import Foundation
import Logging
import Synchronization
import Testing
import RunModel

@testable import WardenCore

/// What the core cannot keep it says in the log (issue 12, structured errors): a state or history write that
/// fails, and a scheduler that cannot read its workers. In-memory stores that fail on purpose, and a runtime that
/// answers at once, stand in for SQLite and the executors.
@Suite("Lost writes are logged")
struct LostWritesTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "the disk is full" }
    }

    /// Keeps every message logged through it.
    final class Capture: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "test") { _ in Handler(capture: self) }
        }

        struct Handler: LogHandler {
            let capture: Capture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) { capture.lines.withLock { $0.append("\(event.level): \(event.message)") } }
        }
    }

    final class Workers: WorkerStore {
        let stored = Mutex<[String: StoredWorker]>([:])
        let failing: Bool
        init(failing: Bool = false) { self.failing = failing }
        func create(_ worker: StoredWorker) async throws { stored.withLock { $0[worker.worker.key] = worker } }
        func update(key: String, _ change: @escaping @Sendable (inout StoredWorker) throws -> Void) async throws -> StoredWorker {
            try stored.withLock { all in
                guard var worker = all[key] else { throw WardenError(.notFound, key) }
                try change(&worker)
                all[key] = worker
                return worker
            }
        }
        func delete(key: String) async throws -> Bool { stored.withLock { $0.removeValue(forKey: key) != nil } }
        func worker(key: String) async throws -> StoredWorker? { stored.withLock { $0[key] } }
        func all() async throws -> [StoredWorker] {
            if failing { throw Failure() }
            return stored.withLock { $0.values.sorted { $0.worker.key < $1.worker.key } }
        }
    }

    struct FailingHistory: HistoryStore {
        func append(_ entries: [HistoryEntry]) async throws { throw Failure() }
        func entries(_ query: HistoryQuery) async throws -> [HistoryEntry] { [] }
        func entry(id: String) async throws -> HistoryEntry? { nil }
        func prune(workerKey: String, keep: Int) async throws { throw Failure() }
    }

    struct FailingStates: StateStore {
        func state(of workerKey: String) async throws -> [String: String] { [:] }
        func save(_ state: [String: String], of workerKey: String) async throws { throw Failure() }
    }

    struct Claims: ScheduleClaimStore {
        func claim(workerKey: String, slot: Int64) async throws -> Bool { true }
        func forgetClaims(before slot: Int64) async throws {}
    }

    /// Every run succeeds at once and leaves a state.
    struct InstantRuntime: ScriptRunner {
        func compile(_ source: String) async throws(CompileError) -> CompiledModule {
            CompiledModule(javaScript: source, lineMap: [], sourceHash: "hash")
        }
        func compiledModule(for source: String) -> CompiledModule? { nil }
        func run(_ job: RunJob) async -> RunResult { RunResult(outcome: .success(resultJSON: "1"), state: ["seen": "yes"]) }
    }

    func service(_ capture: Capture, workers: Workers = Workers()) throws -> WorkerService {
        WorkerService(
            workers: workers, history: FailingHistory(), states: FailingStates(), vault: try SecretVault(masterKey: SecretVault.generateMasterKey()),
            runner: InstantRuntime(), settings: WorkerSettings(), logger: capture.logger)
    }

    @Test func aStateAndAHistoryEntryThatCannotBeWrittenAreLoggedAndTheRunStillAnswers() async throws {
        let capture = Capture()
        let service = try service(capture)
        let stored = StoredWorker(
            worker: Worker(key: "keeper", sourceCode: "export default async () => 1;", action: WorkerAction.named("GENERIC_EVENT")!))
        let result = try await service.runStored(stored, dataJSON: "{}", triggeredBy: "test")
        #expect(result.executionStatus == .success)
        let lines = capture.lines.withLock { $0 }
        #expect(lines.contains("error: the state of worker 'keeper' could not be saved: the disk is full"), "\(lines)")
        #expect(lines.contains("error: a run of worker 'keeper' could not be recorded in the history: the disk is full"), "\(lines)")
        #expect(lines.contains("warning: the history of worker 'keeper' could not be pruned: the disk is full"), "\(lines)")
    }

    @Test func aSchedulerThatCannotReadItsWorkersSaysSo() async throws {
        let capture = Capture()
        let workers = Workers(failing: true)
        let scheduler = WorkerScheduler(workers: workers, claims: Claims(), service: try service(capture, workers: workers), logger: capture.logger)
        let date = Date(timeIntervalSince1970: 60 * 1_000_000)
        #expect(await scheduler.tick(at: date).isEmpty)
        #expect(capture.lines.withLock { $0 } == ["error: the scheduler could not read the workers; minute 1000000 fires nothing: the disk is full"])
    }
}
