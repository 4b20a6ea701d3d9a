import Logging
import RunModel
import Synchronization
import WardenCore
import WorkerRuntime

/// The core runs workers through `ScriptRunner`; the executor pool is the runtime that answers it. This is the one
/// place the two meet, so that neither the core nor the dialects import the runtime.
extension ExecutorPool: ScriptRunner {}

/// What the server does with the pool's events: one log line each (a failure to start an executor at most every
/// ten seconds: the pool retries it every tick).
public final class PoolEventLog: Sendable {
    let logger: Logger
    let lastSpawnFailure = Mutex<ContinuousClock.Instant?>(nil)

    public init(logger: Logger) { self.logger = logger }

    public func observe(_ event: PoolEvent) {
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
}
