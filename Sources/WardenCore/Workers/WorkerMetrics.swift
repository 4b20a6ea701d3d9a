import CoreMetrics
import RunModel

/// Worker runs at /metrics: a count by worker, action and outcome (success, threw, cpu_limit, …), and histograms of
/// run time and CPU time by action. Test runs (the test endpoint) are not counted.
enum WorkerMetrics {
    static func record(worker: String, action: String, result: RunResult) {
        Counter(label: "warden_worker_runs_total", dimensions: [("worker", worker), ("action", action), ("outcome", result.outcome.kind)])
            .increment()
        CoreMetrics.Timer(label: "warden_worker_run_duration_seconds", dimensions: [("action", action)]).recordNanoseconds(result.stats.wallNanos)
        CoreMetrics.Timer(label: "warden_worker_run_cpu_seconds", dimensions: [("action", action)]).recordNanoseconds(result.stats.cpuNanos)
    }
}
