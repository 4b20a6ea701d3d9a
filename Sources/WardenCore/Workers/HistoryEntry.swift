import RunModel

/// One recorded run (spec §8). Secret values are masked before an entry is built.
public struct HistoryEntry: Sendable, Equatable {
    public var id: String
    public var traceID: String
    public var workerKey: String
    public var action: String
    public var projectKey: String
    /// The request data as JSON text.
    public var payloadJSON: String
    public var status: ExecutionStatus
    /// What the worker returned, as JSON text, on success.
    public var resultJSON: String?
    public var error: WorkerError?
    public var logs: String
    public var stats: RunStats
    public var startMillis: Int64
    public var endMillis: Int64
    /// `artifactory`, a user name, or `scheduler`.
    public var triggeredBy: String
    public var testRun: Bool
    public var executedVersion: String

    public init(
        id: String, traceID: String, workerKey: String, action: String, projectKey: String, payloadJSON: String, status: ExecutionStatus,
        resultJSON: String?, error: WorkerError?, logs: String, stats: RunStats, startMillis: Int64, endMillis: Int64, triggeredBy: String,
        testRun: Bool, executedVersion: String
    ) {
        self.id = id
        self.traceID = traceID
        self.workerKey = workerKey
        self.action = action
        self.projectKey = projectKey
        self.payloadJSON = payloadJSON
        self.status = status
        self.resultJSON = resultJSON
        self.error = error
        self.logs = logs
        self.stats = stats
        self.startMillis = startMillis
        self.endMillis = endMillis
        self.triggeredBy = triggeredBy
        self.testRun = testRun
        self.executedVersion = executedVersion
    }
}
