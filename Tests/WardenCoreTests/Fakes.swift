import Foundation
import Logging
import RunModel
import Synchronization

@testable import WardenCore

// In-memory stand-ins for the store protocols and the runtime, so that the core's behaviour is tested without
// HTTP, SQLite or executor processes. The real stores are held to the same protocols by WardenStorageTests.

struct Failure: Error, CustomStringConvertible {
    var description: String { "the disk is full" }
}

/// Keeps every message logged through it, as `level: message`.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])
    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { capture.lines.withLock { $0.append("\(event.level): \(event.message)") } }
    }
}

final class MemoryWorkers: WorkerStore {
    let stored = Mutex<[String: StoredWorker]>([:])
    let failing: Bool

    init(_ workers: [Worker] = [], failing: Bool = false) {
        self.failing = failing
        stored.withLock { all in for worker in workers { all[worker.key] = StoredWorker(worker: worker) } }
    }

    func create(_ worker: StoredWorker) async throws { stored.withLock { $0[worker.worker.key] = worker } }
    @discardableResult
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

final class MemoryHistory: HistoryStore {
    let stored = Mutex<[HistoryEntry]>([])
    let failing: Bool
    init(failing: Bool = false) { self.failing = failing }

    func append(_ entries: [HistoryEntry]) async throws {
        if failing { throw Failure() }
        stored.withLock { $0.append(contentsOf: entries) }
    }
    func entries(_ query: HistoryQuery) async throws -> [HistoryEntry] {
        stored.withLock { all in all.reversed().filter { query.workerKey == nil || $0.workerKey == query.workerKey } }
    }
    func entry(id: String) async throws -> HistoryEntry? { stored.withLock { $0.first { $0.id == id } } }
    func prune(workerKey: String, keep: Int) async throws {
        if failing { throw Failure() }
    }
    var all: [HistoryEntry] { stored.withLock { $0 } }
}

final class MemoryStates: StateStore {
    let stored = Mutex<[String: [String: String]]>([:])
    let failing: Bool
    init(failing: Bool = false) { self.failing = failing }

    func state(of workerKey: String) async throws -> [String: String] { stored.withLock { $0[workerKey] ?? [:] } }
    func save(_ state: [String: String], of workerKey: String) async throws {
        if failing { throw Failure() }
        stored.withLock { $0[workerKey] = state }
    }
}

/// Claims as the database makes them: the first claim of a worker's minute wins.
final class MemoryClaims: ScheduleClaimStore {
    let claimed = Mutex<Set<String>>([])
    func claim(workerKey: String, slot: Int64) async throws -> Bool { claimed.withLock { $0.insert("\(workerKey)@\(slot)").inserted } }
    func forgetClaims(before slot: Int64) async throws {}
}

final class MemoryPending: PendingRunStore {
    let runs = Mutex<(next: Int64, pending: [PendingRun])>((1, []))

    func enqueue(_ new: [PendingRun]) async throws {
        runs.withLock { state in
            for var run in new {
                run.id = state.next
                state.next += 1
                state.pending.append(run)
            }
        }
    }
    /// Leases by run id: who holds it, until when.
    let leases = Mutex<[Int64: (owner: String, until: Int64)]>([:])

    func pending(limit: Int) async throws -> [PendingRun] {
        runs.withLock { Array($0.pending.prefix(limit)) }
    }
    func pendingCount() async throws -> Int { runs.withLock { $0.pending.count } }
    func claim(limit: Int, owner: String, now: Int64, until: Int64) async throws -> [PendingRun] {
        let candidates = runs.withLock { $0.pending }
        return leases.withLock { leases in
            var taken: [PendingRun] = []
            for var run in candidates where taken.count < limit && (leases[run.id]?.until ?? 0) < now {
                leases[run.id] = (owner, until)
                run.attempts += 1
                taken.append(run)
            }
            runs.withLock { state in
                for run in taken {
                    if let index = state.pending.firstIndex(where: { $0.id == run.id }) { state.pending[index].attempts = run.attempts }
                }
            }
            return taken
        }
    }
    func renew(ids: [Int64], owner: String, until: Int64) async throws {
        leases.withLock { leases in
            for id in ids where leases[id]?.owner == owner { leases[id]?.until = until }
        }
    }
    func releaseLeases() async throws { leases.withLock { $0 = [:] } }
    func finish(id: Int64) async throws { runs.withLock { $0.pending.removeAll { $0.id == id } } }
    var pending: [PendingRun] { runs.withLock { $0.pending } }
}

/// A runtime that answers each run from a script, by worker key, and keeps every job it was given.
final class ScriptedRunner: ScriptRunner {
    let answers: Mutex<[String: RunResult]>
    let jobs = Mutex<[RunJob]>([])
    /// What a worker without an answer of its own returns.
    let fallback: RunResult

    /// The workers whose runs read `context.platformToken`, and the values they read, by worker key.
    let tokenReaders: Set<String>
    let tokensRead = Mutex<[String: String]>([:])

    init(
        _ answers: [String: RunResult] = [:], fallback: RunResult = RunResult(outcome: .success(resultJSON: "{}")),
        tokenReaders: Set<String> = []
    ) {
        self.answers = Mutex(answers)
        self.fallback = fallback
        self.tokenReaders = tokenReaders
    }

    func compile(_ source: String) async throws(CompileError) -> CompiledModule {
        if source.contains("syntax error") { throw CompileError(message: "unexpected token", line: 1, column: 1) }
        return CompiledModule(javaScript: source, lineMap: [], sourceHash: "hash-\(source.utf8.count)")
    }
    func compiledModule(for source: String) -> CompiledModule? { nil }
    func run(_ job: RunJob) async -> RunResult {
        jobs.withLock { $0.append(job) }
        if tokenReaders.contains(job.workerKey) {
            let value = job.platformToken.value
            tokensRead.withLock { $0[job.workerKey] = value }
        }
        return answers.withLock { $0[job.workerKey] } ?? fallback
    }

    /// The keys of the workers run so far, in order.
    var ran: [String] { jobs.withLock { $0.map(\.workerKey) } }
}

/// A worker service and its dispatcher over the fakes above.
struct Core {
    let workers: MemoryWorkers
    let history: MemoryHistory
    let states: MemoryStates
    let pending = MemoryPending()
    let runner: ScriptedRunner
    let vault: SecretVault
    let service: WorkerService
    let events: EventDispatcher

    init(
        _ stored: [Worker] = [], runner: ScriptedRunner = ScriptedRunner(), history: MemoryHistory = MemoryHistory(),
        states: MemoryStates = MemoryStates(), failPolicy: FailPolicy = .open, settings: WorkerSettings = WorkerSettings(),
        workers: MemoryWorkers? = nil, log: LogCapture = LogCapture(), workerTokens: WorkerTokens? = nil
    ) throws {
        self.workers = workers ?? MemoryWorkers(stored)
        self.history = history
        self.states = states
        self.runner = runner
        vault = try SecretVault(masterKey: SecretVault.generateMasterKey())
        service = WorkerService(
            workers: self.workers, history: history, states: states, vault: vault,
            runner: runner, settings: settings, workerTokens: workerTokens, logger: log.logger)
        events = EventDispatcher(service: service, queue: pending, failPolicy: failPolicy, logger: log.logger)
    }

    /// A worker of `action` that every repository's every path selects, unless a filter is given.
    static func worker(
        _ key: String, _ action: WorkerAction, filter: ArtifactFilter = ArtifactFilter(includePatterns: ["**"], anyLocal: true),
        enabled: Bool = true, projectKey: String = ""
    ) -> Worker {
        Worker(
            key: key, enabled: enabled, sourceCode: "export default async () => ({ status: 1 });", action: action,
            filterCriteria: FilterCriteria(artifactFilterCriteria: filter), projectKey: projectKey)
    }

    static func answer(_ json: String) -> RunResult { RunResult(outcome: .success(resultJSON: json)) }

    /// The history entries written so far, once those queued behind the answers are written.
    func recorded() async -> [HistoryEntry] {
        await service.historyWriter.flush()
        return history.all
    }

    static let admin = Principal(name: "admin", scope: .admin)
}
