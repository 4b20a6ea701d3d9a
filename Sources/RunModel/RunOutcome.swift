/// The execution status of spec §4 (`Status`), as histories and envelopes spell it.
public enum ExecutionStatus: String, Sendable, Codable, Equatable {
    case success = "STATUS_SUCCESS"
    case fail = "STATUS_FAIL"
}

/// What a worker threw: its type, message and the line of the worker's own source it was thrown from.
public struct WorkerError: Error, Sendable, Equatable, Codable {
    public var type: String
    public var message: String
    public var line: Int?

    public init(type: String, message: String, line: Int? = nil) {
        self.type = type
        self.message = message
        self.line = line
    }
}

/// How one run ended. Closed on purpose: every caller can say exactly what each case means to its user.
public enum RunOutcome: Sendable, Equatable {
    /// The worker's promise resolved; `resultJSON` is what it returned, `nil` for `undefined`.
    case success(resultJSON: String?)
    /// The worker threw or its promise rejected (also a module that failed to load).
    case threw(WorkerError)
    case cpuLimit
    case wallLimit
    case memoryLimit
    /// No executor became free within the maximum queue wait.
    case queueWait
    /// The worker returned while host calls or waits it started were still pending.
    case floatingPromise
    /// The returned value's JSON text was `bytes` long, over the output limit.
    case outputTooLarge(bytes: Int)
    /// The executor process died for a reason none of the limits explains.
    case executorCrashed(String)

    public var executionStatus: ExecutionStatus {
        if case .success = self { return .success }
        return .fail
    }

    /// The outcome's name in logs and metrics: success, threw, cpu_limit, wall_limit, memory_limit, queue_wait,
    /// floating_promise, output_too_large, executor_crashed.
    public var kind: String {
        switch self {
        case .success: "success"
        case .threw: "threw"
        case .cpuLimit: "cpu_limit"
        case .wallLimit: "wall_limit"
        case .memoryLimit: "memory_limit"
        case .queueWait: "queue_wait"
        case .floatingPromise: "floating_promise"
        case .outputTooLarge: "output_too_large"
        case .executorCrashed: "executor_crashed"
        }
    }

    /// The message users see (spec §10 for the limits), `nil` on success.
    public var message: String? {
        switch self {
        case .success: return nil
        case .threw(let error): return "\(error.type): \(error.message)"
        case .cpuLimit: return "Worker used too much cpu time"
        case .wallLimit: return "Worker execution timeout"
        case .memoryLimit: return "Worker used too much memory"
        case .queueWait: return "Worker waited for too long in the queue"
        case .floatingPromise: return "Floating promises are not allowed. Make sure to await all promises"
        case .outputTooLarge(let bytes): return "Worker returned too much data (\(bytes) bytes of JSON)"
        case .executorCrashed(let reason): return "Worker executor crashed: \(reason)"
        }
    }

    /// The error object that histories and test runs show for a failed run.
    public var error: WorkerError? {
        switch self {
        case .success: return nil
        case .threw(let error): return error
        case .cpuLimit, .wallLimit, .memoryLimit, .queueWait: return WorkerError(type: "LimitError", message: message ?? "")
        case .floatingPromise, .outputTooLarge, .executorCrashed: return WorkerError(type: "Error", message: message ?? "")
        }
    }
}

/// Resource figures of one run.
public struct RunStats: Sendable, Equatable {
    public var cpuNanos: Int64
    public var wallNanos: Int64
    /// Growth of the executor's resident memory during the run, at its highest.
    public var peakMemoryBytes: Int64

    public init(cpuNanos: Int64 = 0, wallNanos: Int64 = 0, peakMemoryBytes: Int64 = 0) {
        self.cpuNanos = cpuNanos
        self.wallNanos = wallNanos
        self.peakMemoryBytes = peakMemoryBytes
    }

    public var cpuMillis: Int64 { cpuNanos / 1_000_000 }
    public var wallMillis: Int64 { wallNanos / 1_000_000 }
}

/// Everything a run produced, with secret values already replaced by `***`.
public struct RunResult: Sendable {
    public var outcome: RunOutcome
    /// Log lines, `[info ] - message` each, joined with newlines.
    public var logs: String
    /// The worker's `context.state` after a successful run, to be saved by the embedding (not for test runs).
    public var state: [String: String]?
    public var stats: RunStats
    /// The answer of a successful run, read by the runner when the job asked for it (`RunJob.readsAnswer`);
    /// `nil` when it was not read (the caller reads the result JSON itself).
    public var answer: WorkerAnswer.Reading?

    public init(
        outcome: RunOutcome, logs: String = "", state: [String: String]? = nil, stats: RunStats = RunStats(), answer: WorkerAnswer.Reading? = nil
    ) {
        self.outcome = outcome
        self.logs = logs
        self.state = state
        self.stats = stats
        self.answer = answer
    }

    public var executionStatus: ExecutionStatus { outcome.executionStatus }
}
