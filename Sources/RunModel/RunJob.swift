/// One run of a worker: its code, its input and everything its context is built from.
public struct RunJob: Sendable {
    /// The worker's identity; with the code's hash it names the warm context that serves it.
    public var workerKey: String
    public var module: CompiledModule
    /// The request `data` as JSON text; empty for `undefined`.
    public var dataJSON: String
    public var secrets: [String: String]
    public var properties: [String: String]
    public var state: [String: String]
    public var baseURL: String
    /// Minted when the worker first uses it (most runs never do).
    public var platformToken: PlatformToken
    public var debug: Bool
    public var limits: RunLimits
    /// Which runs go first when executors are scarce, and which may be held back.
    public var runClass: RunClass
    /// Runs with the same share (a project, a caller) hold at most `shareSlots` executors at once while any of
    /// them is slow; `nil` for runs no one outside the admins can cause.
    public var share: String?
    /// A test run: its context is made for this run alone and dropped after it, never shared with another run.
    public var disposable: Bool
    /// The runner reads the worker's answer into its parts (a synchronous event's verdict), see `RunResult.answer`.
    public var readsAnswer: Bool

    public init(
        workerKey: String, module: CompiledModule, dataJSON: String, secrets: [String: String] = [:], properties: [String: String] = [:],
        state: [String: String] = [:], baseURL: String = "", platformToken: PlatformToken = PlatformToken(fixed: ""), debug: Bool = false,
        limits: RunLimits = .default,
        runClass: RunClass = .event, share: String? = nil, disposable: Bool = false, readsAnswer: Bool = false
    ) {
        self.readsAnswer = readsAnswer
        self.runClass = runClass
        self.share = share
        self.disposable = disposable
        self.workerKey = workerKey
        self.module = module
        self.dataJSON = dataJSON
        self.secrets = secrets
        self.properties = properties
        self.state = state
        self.baseURL = baseURL
        self.platformToken = platformToken
        self.debug = debug
        self.limits = limits
    }
}

/// How urgent a run is, and how much of the pool it may take (issue: a flood of test runs took every executor and a
/// global download policy timed out in the queue).
public enum RunClass: Int, Sendable, Comparable {
    /// A synchronous policy worker (BEFORE_*): an operation waits for its verdict. Served first.
    case policy = 0
    /// An event's asynchronous worker, a scheduled run, a run that another worker's call started.
    case event = 1
    /// A run a caller asked for directly (a test run, an execute, a rerun): at most `callerSlots` at once, so
    /// that however many arrive, an executor is left for the others.
    case caller = 2

    public static func < (lhs: RunClass, rhs: RunClass) -> Bool { lhs.rawValue < rhs.rawValue }
}
