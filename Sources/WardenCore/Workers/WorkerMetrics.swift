import CoreMetrics
import RunModel
import Synchronization

/// Worker runs at /metrics: a count by worker, action and outcome (success, threw, cpu_limit, …), and histograms of
/// run time and CPU time by action. Test runs (the test endpoint) are not counted. Handles are kept per label set.
enum WorkerMetrics {
    struct Key: Hashable {
        var worker: String
        var action: String
        var outcome: String
    }

    static let runs = Mutex<[Key: Counter]>([:])
    static let times = Mutex<[String: (wall: CoreMetrics.Timer, cpu: CoreMetrics.Timer)]>([:])

    static func record(worker: String, action: String, result: RunResult) {
        let key = Key(worker: worker, action: action, outcome: result.outcome.kind)
        let counter =
            runs.withLock { $0[key] }
            ?? {
                let made = Counter(label: "warden_worker_runs_total", dimensions: [("worker", worker), ("action", action), ("outcome", key.outcome)])
                runs.withLock { $0[key] = made }
                return made
            }()
        counter.increment()
        let timers =
            times.withLock { $0[action] }
            ?? {
                let made = (
                    wall: CoreMetrics.Timer(label: "warden_worker_run_duration_seconds", dimensions: [("action", action)]),
                    cpu: CoreMetrics.Timer(label: "warden_worker_run_cpu_seconds", dimensions: [("action", action)])
                )
                times.withLock { $0[action] = made }
                return made
            }()
        timers.wall.recordNanoseconds(result.stats.wallNanos)
        timers.cpu.recordNanoseconds(result.stats.cpuNanos)
    }
}
