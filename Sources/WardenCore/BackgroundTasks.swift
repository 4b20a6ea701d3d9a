import Logging
import ServiceLifecycle
import Synchronization

/// Work that outlives the request that starts it: a CI run's execution on its runner, an autohold's release timer.
/// Each piece runs in a task of its own from the moment it is spawned (with or without the server's group running),
/// and this service of the group ends them on graceful shutdown: it cancels every piece still running and waits for
/// each to finish, so that what a cancelled piece writes (a CI run recorded as Error, "the server stopped") is stored
/// before the storage goes. A timer cancelled this way is started again by the next start (`resumeHoldExpiries`).
public final class BackgroundTasks: Service, Sendable {
    struct Running {
        var next = 0
        var tasks: [Int: Task<Void, Never>] = [:]
        var closed = false
    }

    let running = Mutex(Running())
    let logger: Logger

    public init(logger: Logger = Logger(label: "warden.background")) { self.logger = logger }

    /// Starts `body` now; once the server is stopping, `body` is not started and that is logged.
    public func spawn(_ name: String, _ body: @escaping @Sendable () async -> Void) {
        running.withLock { state in
            guard !state.closed else {
                logger.warning("\(name) was not started: the server is stopping")
                return
            }
            let id = state.next
            state.next += 1
            // Inserted under the lock before the task can remove itself: it takes the same lock to do so.
            state.tasks[id] = Task { [self] in
                await body()
                _ = running.withLock { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// How many pieces are running.
    public var count: Int { running.withLock { $0.tasks.count } }

    /// Waits for the group's graceful shutdown (or a cancellation), then ends every piece still running.
    public func run() async {
        // Woken by the shutdown or a cancellation alike: either way the pieces end below.
        try? await gracefulShutdown()
        let tasks = running.withLock { state in
            state.closed = true
            return Array(state.tasks.values)
        }
        if !tasks.isEmpty { logger.info("stopping \(tasks.count) background task(s)") }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
