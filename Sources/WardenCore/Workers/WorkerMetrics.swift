import CoreMetrics
import RunModel

/// Worker runs at /metrics: a count by worker, action and outcome (success, threw, cpu_limit, …), and histograms of
/// run time and CPU time by action. Test runs (the test endpoint) are not counted.
enum WorkerMetrics {
    struct Key: Hashable {
        var worker: String
        var action: String
        var outcome: String
    }

    struct Times: Sendable {
        let wall: CoreMetrics.Timer
        let cpu: CoreMetrics.Timer
    }

    static let runs = MetricHandles<Key, Counter>()
    static let times = MetricHandles<String, Times>()

    static func record(worker: String, action: String, result: RunResult) {
        let key = Key(worker: worker, action: action, outcome: result.outcome.kind)
        runs.handles(for: key) {
            Counter(label: "warden_worker_runs_total", dimensions: [("worker", worker), ("action", action), ("outcome", key.outcome)])
        }.increment()
        let timers = times.handles(for: action) {
            Times(
                wall: CoreMetrics.Timer(label: "warden_worker_run_duration_seconds", dimensions: [("action", action)]),
                cpu: CoreMetrics.Timer(label: "warden_worker_run_cpu_seconds", dimensions: [("action", action)]))
        }
        timers.wall.recordNanoseconds(result.stats.wallNanos)
        timers.cpu.recordNanoseconds(result.stats.cpuNanos)
    }
}
