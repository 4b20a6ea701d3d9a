import CoreMetrics
import Logging
import RunModel
import Synchronization
import WardenCore
import WorkerRuntime

/// The core runs workers through `ScriptRunner`; the executor pool is the runtime that answers it. This is the one
/// place the two meet, so that neither the core nor the dialects import the runtime.
extension ExecutorPool: ScriptRunner {}

/// What the server does with the pool's events: one log line each (a failure to start an executor at most every
/// ten seconds: the pool retries it every tick), and a count at /metrics: kills by reason, crashes, respawns, failed
/// starts, compiles with their time.
public final class PoolEventLog: Sendable {
    let logger: Logger
    let lastSpawnFailure = Mutex<ContinuousClock.Instant?>(nil)

    public init(logger: Logger) { self.logger = logger }

    public func observe(_ event: PoolEvent) {
        Self.count(event)
        switch event {
        case .killed(let reason, let pid):
            logger.warning("an executor was killed", metadata: ["reason": .string(reason), "pid": .stringConvertible(pid)])
        case .crashed(let pid, let workerKey, let detail):
            logger.error(
                "an executor died during a run", metadata: ["worker": .string(workerKey), "pid": .stringConvertible(pid), "exit": .string(detail)])
        case .respawned(let pid):
            logger.info("an executor was started in a dead one's place", metadata: ["pid": .stringConvertible(pid)])
        case .spawnFailed(let error):
            let now = ContinuousClock.now
            let due = lastSpawnFailure.withLock { last in
                guard last.map({ now - $0 >= .seconds(10) }) ?? true else { return false }
                last = now
                return true
            }
            if due { logger.error("an executor could not be started; retrying", metadata: ["error": .string(error)]) }
        case .compiled:
            break
        }
    }

    static func count(_ event: PoolEvent) {
        switch event {
        case .killed(let reason, _): Counter(label: "warden_executor_kills_total", dimensions: [("reason", reason)]).increment()
        case .crashed: Counter(label: "warden_executor_crashes_total").increment()
        case .respawned: Counter(label: "warden_executor_respawns_total").increment()
        case .spawnFailed: Counter(label: "warden_executor_start_failures_total").increment()
        case .compiled(let nanoseconds, let succeeded):
            Counter(label: "warden_compiles_total", dimensions: [("result", succeeded ? "ok" : "error")]).increment()
            CoreMetrics.Timer(label: "warden_compile_duration_seconds").recordNanoseconds(nanoseconds)
        }
    }
}

/// The figures read when /metrics is scraped rather than counted as they change: the executors busy and idle, the
/// runs waiting for one, the history entries not yet written, the asynchronous runs stored and running here.
struct ServerGauges: Sendable {
    let workers: WorkerService
    let dispatcher: EventDispatcher
    let pool: ExecutorPool?
    let logger: Logger

    func refresh() async {
        if let pool {
            let (busy, idle, queued) = pool.occupancy
            Gauge(label: "warden_executors", dimensions: [("state", "busy")]).record(busy)
            Gauge(label: "warden_executors", dimensions: [("state", "idle")]).record(idle)
            Gauge(label: "warden_executor_queue").record(queued)
        }
        Gauge(label: "warden_history_write_queue").record(workers.historyWriter.backlog)
        do {
            let (stored, inFlight) = try await dispatcher.backlog()
            Gauge(label: "warden_async_backlog").record(stored)
            Gauge(label: "warden_async_in_flight").record(inFlight)
        } catch {
            logger.warning("the asynchronous backlog could not be read for /metrics", metadata: ["error": .string("\(error)")])
        }
    }
}
