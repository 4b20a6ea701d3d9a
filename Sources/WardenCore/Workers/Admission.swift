import RunModel

extension WorkerService {
    /// How a run is admitted to the executors: its class, the share it counts against (see `RunClass`), and the
    /// event depth it runs at.
    public struct Admission: Sendable {
        public var runClass: RunClass
        /// `nil`: the worker's project, when it has one.
        public var share: String?
        public var depth: Int
        /// Which attempt at an asynchronous run this is: above 1 when a server that held it stopped before it
        /// finished (the run is then always recorded, its logs saying so).
        public var attempt: Int

        public init(runClass: RunClass = .event, share: String? = nil, depth: Int = 0, attempt: Int = 1) {
            self.runClass = runClass
            self.share = share
            self.depth = depth
            self.attempt = attempt
        }

        /// A synchronous policy worker of an operation at `depth` (above 0 when a worker's own call is the operation).
        public static func policy(depth: Int = 0) -> Admission { Admission(runClass: .policy, depth: depth) }
    }

    /// The share a run counts against: the one its admission names, else its worker's project. A run caused by a
    /// worker's own call (depth > 0) counts against none: that worker holds an executor while it waits, and were
    /// both in one share, the slow caller would hold back the run it waits for until the queue wait ended it.
    static func share(of admission: Admission, projectKey: String) -> String? {
        if admission.depth > 0 { return nil }
        return admission.share ?? (projectKey.isEmpty ? nil : "project:\(projectKey)")
    }

    /// A run a caller asked for: counted against the caller's project (a project admin) or the caller; a worker's
    /// own call (it holds an executor already) is an event-class run one level deeper.
    static func callerAdmission(_ principal: Principal) -> Admission {
        if principal.isWorkerRun { return Admission(runClass: .event, depth: principal.eventDepth) }
        if case .projectAdmin(let project) = principal.scope { return Admission(runClass: .caller, share: "project:\(project)") }
        return Admission(runClass: .caller, share: "caller:\(principal.name)")
    }
}
