import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import RunModel

/// What a site wants when a synchronous worker fails (throws, times out, breaks a limit): go on ("fail open", the
/// reference service's behaviour) or refuse the operation ("fail closed").
public enum FailPolicy: String, Sendable {
    case open
    case closed
}

/// The answer of the synchronous workers of one event (spec §9).
public struct SyncVerdict: Sendable, Equatable {
    /// The message of the worker that stopped the operation, when one did.
    public var stopMessage: String?
    /// The last `modifiedRepoPath` given (BEFORE_UPLOAD).
    public var modifiedRepoPath: (key: String, path: String)?
    /// Headers the workers asked to add to the response (BEFORE_DOWNLOAD).
    public var headers: [(name: String, values: [String])] = []

    public init() {}

    public static func == (lhs: SyncVerdict, rhs: SyncVerdict) -> Bool {
        lhs.stopMessage == rhs.stopMessage && lhs.modifiedRepoPath?.key == rhs.modifiedRepoPath?.key
            && lhs.modifiedRepoPath?.path == rhs.modifiedRepoPath?.path && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.values) == rhs.headers.map(\.values)
    }
}

/// Where an event becomes runs, the one way a stored worker runs: an artifact event's workers (synchronous ones in
/// key order before the operation, asynchronous ones persisted before the client's answer and run afterwards by
/// `runPending`, spec §9), a scheduled minute, an execute (spec §7) and a rerun (spec §2) all go through `dispatch`.
/// A test run, whose code is not stored, is not an event and stays with `WorkerService.test`.
public final class EventDispatcher: Service {
    let service: WorkerService
    let queue: any PendingRunStore
    public let failPolicy: FailPolicy
    /// Fail-open verdicts and dropped headers are warnings; lost asynchronous runs are errors.
    let logger: Logger
    let wakeUp: AsyncStream<Void>.Continuation
    let wakeUps: AsyncStream<Void>
    let concurrency: Int
    /// The asynchronous runs this server holds now (their leases are renewed while they run).
    let inFlight = Mutex<Set<Int64>>([])
    /// Who holds a claimed run: this dispatcher, among every server sharing the database.
    let owner = RandomID.uuid()
    /// How long a claimed run is held; runs in flight renew it every third of it.
    let lease: Duration
    /// How often an idle dispatcher looks for runs queued by another server or left by one that stopped.
    let pollInterval: Duration

    public init(
        service: WorkerService, queue: any PendingRunStore, failPolicy: FailPolicy = .open, asyncConcurrency: Int = 2,
        lease: Duration = .seconds(30), pollInterval: Duration = .seconds(1), logger: Logger = Logger(label: "warden.events")
    ) {
        self.service = service
        self.queue = queue
        self.failPolicy = failPolicy
        self.logger = logger
        self.concurrency = max(1, asyncConcurrency)
        self.lease = lease
        self.pollInterval = pollInterval
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs queued by another server (or changes missed): the dispatcher looks at once instead of at its next poll.
    public func forget(_ change: StoreChange) {
        if change == .pendingRuns || change == .everything { wakeUp.yield() }
    }

    /// What one run of a stored worker is asked with.
    struct Trigger: Sendable {
        var dataJSON: String
        var triggeredBy: String
        var admission = WorkerService.Admission()
        /// Record the run even when successful runs are not recorded (a rerun may ask for it).
        var forceRecord = false
    }

    /// Every run of a stored worker starts here.
    func dispatch(_ stored: StoredWorker, _ trigger: Trigger) async throws -> RunResult {
        let result = try await service.runStored(
            stored, dataJSON: trigger.dataJSON, triggeredBy: trigger.triggeredBy, forceRecord: trigger.forceRecord, admission: trigger.admission)
        WorkerMetrics.record(worker: stored.worker.key, action: stored.worker.action.name, result: result)
        return result
    }

    /// The asynchronous runs stored and not yet finished (all servers'), and those this server runs now.
    public func backlog() async throws -> (stored: Int, inFlight: Int) {
        (try await queue.pendingCount(), inFlight.withLock { $0.count })
    }

    /// Runs a GENERIC_EVENT worker with `dataJSON` as its data (spec §7), as `principal`'s run.
    public func execute(key: String, dataJSON: String, by principal: Principal) async throws -> RunResult {
        let stored = try await service.executable(key: key, by: principal)
        return try await dispatch(
            stored, Trigger(dataJSON: dataJSON, triggeredBy: principal.name, admission: WorkerService.callerAdmission(principal)))
    }

    /// Runs a worker again on the payload of one of its recorded runs (spec §2, rerun). `forceRecord` records the
    /// new run even when successful runs are not recorded.
    public func rerun(key: String, historyEntryID: String, forceRecord: Bool, by principal: Principal) async throws -> (WorkerAction, RunResult) {
        let (stored, entry) = try await service.rerunnable(key: key, historyEntryID: historyEntryID, by: principal)
        let result = try await dispatch(
            stored,
            Trigger(
                dataJSON: entry.payloadJSON, triggeredBy: principal.name, admission: WorkerService.callerAdmission(principal),
                forceRecord: forceRecord))
        return (stored.worker.action, result)
    }

    /// Fires a SCHEDULED_EVENT worker for minute `slot` (claimed already): its data is `{"triggerID": "<key>@<slot>"}`,
    /// its trigger `scheduler`.
    func scheduled(_ stored: StoredWorker, slot: Int64) async throws -> RunResult {
        try await dispatch(stored, Trigger(dataJSON: "{\"triggerID\":\(JSONText.quote("\(stored.worker.key)@\(slot)"))}", triggeredBy: "scheduler"))
    }

    /// The enabled workers of `action` whose filter selects `path` in `repo`, or `also` (a copy's or a move's
    /// target: a policy on a repository guards what comes into it as well as what leaves it); each once.
    public func workers(for action: WorkerAction, repo: String, path: String, also: (repo: String, path: String)? = nil) async throws
        -> [StoredWorker]
    {
        try await service.enabledWorkers(for: action).filter {
            guard let filter = $0.worker.filterCriteria.artifactFilterCriteria else { return false }
            return filter.selects(repo: repo, path: path) || also.map { filter.selects(repo: $0.repo, path: $0.path) } == true
        }
    }

    /// Runs the synchronous workers of an event one after another; the first STOP ends the chain.
    /// `dataJSON` is built only when a worker is selected (most events select none).
    /// `depth` is the event depth of the operation's caller (a worker's own write runs one level deeper).
    public func runSynchronous(
        action: WorkerAction, repo: String, path: String, also: (repo: String, path: String)? = nil, dataJSON makeData: () -> String,
        triggeredBy: String, depth: Int = 0
    ) async throws -> SyncVerdict {
        let selected = try await workers(for: action, repo: repo, path: path, also: also)
        return try await runChain(
            selected, action: action, subject: "\(repo)/\(path)", repo: repo, dataJSON: makeData, triggeredBy: triggeredBy, depth: depth)
    }

    /// Runs the synchronous workers of a server-wide event (tokens): every enabled worker of `action`, in key
    /// order; the first STOP ends the chain. `subject` names what the event is about in messages.
    public func runSynchronous(
        action: WorkerAction, subject: String, dataJSON makeData: () -> String, triggeredBy: String, depth: Int = 0
    ) async throws -> SyncVerdict {
        let selected = try await service.enabledWorkers(for: action)
        return try await runChain(
            selected, action: action, subject: subject, repo: nil, dataJSON: makeData, triggeredBy: triggeredBy, depth: depth)
    }

    func runChain(
        _ selected: [StoredWorker], action: WorkerAction, subject: String, repo: String?, dataJSON makeData: () -> String,
        triggeredBy: String, depth: Int
    ) async throws -> SyncVerdict {
        var verdict = SyncVerdict()
        guard !selected.isEmpty else { return verdict }
        if depth > EventDepth.limit {
            // A policy is never skipped: an operation too deep in a chain of worker writes for its policy to run is refused.
            throw WardenError(
                .forbidden,
                "\(subject): this operation comes from a chain of \(depth) worker writes, deeper than the \(EventDepth.limit) its policies run for"
            )
        }
        let dataJSON = makeData()
        for stored in selected {
            let key = stored.worker.key
            let result = try await dispatch(stored, Trigger(dataJSON: dataJSON, triggeredBy: triggeredBy, admission: .policy(depth: depth)))
            if result.outcome == .queueWait {
                // Starvation is load, not a verdict: whatever the fail policy, an operation whose policy could not
                // run is refused (503, to be tried again), never let through.
                throw WardenError(
                    .unavailable, "worker '\(key)' that guards \(subject) could not run in time (the server is busy); try again shortly")
            }
            let answer: WorkerAnswer?
            switch Self.read(result) {
            case .failure(let reason):
                if failPolicy == .closed {
                    verdict.stopMessage = "worker '\(key)' failed (\(reason)); this server refuses the operation when a worker fails"
                    return verdict
                }
                logger.warning("worker '\(key)' (\(action.name)) failed on \(subject): \(reason); going on (fail open)")
                continue
            case .success(let read): answer = read
            }
            guard let answer else { continue }
            let message = answer.message ?? ""
            switch Self.decision(answer.status) {
            case .stop:
                verdict.stopMessage = message.isEmpty ? "stopped by worker '\(key)'" : message
                return verdict
            case .warn:
                logger.warning("worker '\(key)' (\(action.name)) warns on \(subject): \(message)")
            case .proceed:
                break
            }
            if let modified = answer.modifiedRepoPath { verdict.modifiedRepoPath = (modified.key ?? repo ?? "", modified.path) }
            for header in answer.headers {
                if let refusal = Self.refusal(ofHeader: header.name, values: header.values) {
                    logger.warning(
                        "worker '\(key)' (\(action.name)) asked for header '\(header.name.prefix(60))', which is dropped: \(refusal)")
                    continue
                }
                if !header.values.isEmpty { verdict.headers.append((header.name, header.values)) }
            }
        }
        return verdict
    }

    enum Decision { case proceed, stop, warn }

    /// Headers a worker may not add to an artifact's answer: those that would change how the browser treats it
    /// (a worker's `Content-Type: text/html` would serve a page from the dashboard's origin), set or read
    /// credentials (`Set-Cookie`), redirect, or frame the message; and every header the server sets itself.
    static let forbiddenHeaders: Set<String> = [
        "set-cookie", "set-cookie2", "content-type", "content-length", "content-encoding", "content-range", "content-disposition",
        "content-security-policy", "content-security-policy-report-only", "transfer-encoding", "connection", "keep-alive", "upgrade",
        "trailer", "te", "location", "refresh", "www-authenticate", "proxy-authenticate", "strict-transport-security",
        "access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-headers", "access-control-allow-methods",
        "access-control-expose-headers", "x-content-type-options", "x-frame-options", "etag", "last-modified", "accept-ranges",
        "x-checksum-sha1", "x-checksum-sha256", "x-checksum-md5", "x-artifactory-filename", "date", "server",
    ]

    /// Why a worker's header is dropped, or `nil` when it is kept.
    static func refusal(ofHeader name: String, values: [String]) -> String? {
        let lowered = name.lowercased()
        guard !name.isEmpty, name.utf8.count <= 100,
            name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D })
        else { return "a header name is letters, digits and dashes, at most 100" }
        if forbiddenHeaders.contains(lowered) || lowered.hasPrefix("proxy-") || lowered.hasPrefix("sec-") {
            return "the server sets this header itself, or it could change how clients treat the answer"
        }
        if values.count > 20
            || values.contains(where: { $0.utf8.count > 4_096 || $0.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) })
        {
            return "values are at most 20, each at most 4096 bytes without control characters"
        }
        return nil
    }

    struct Unreadable: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// A synchronous worker's answer: `nil` when it returned nothing (no objection), its parts when it returned an
    /// object, and a failure (which follows the fail policy, never consent) when it failed or its answer cannot be
    /// read: not JSON, not an object, or a status that is neither a number nor a name. The runner has read it
    /// when the job asked (`RunJob.readsAnswer`); otherwise it is read here from the result JSON.
    static func read(_ result: RunResult) -> Result<WorkerAnswer?, Unreadable> {
        guard case .success(let json) = result.outcome else { return .failure(Unreadable(reason: result.outcome.message ?? "failed")) }
        switch result.answer ?? WorkerAnswer.read(json: json) {
        case .nothing: return .success(nil)
        case .answer(let answer): return .success(answer)
        case .unreadable(let reason): return .failure(Unreadable(reason: reason))
        }
    }

    /// A status given as its number or its name (spec §4): `2`/`*_STOP` stops, `3`/`*_WARN` warns.
    static func decision(_ status: WorkerAnswer.Status) -> Decision {
        switch status {
        case .absent: return .proceed
        case .number(let number): return number == 2 ? .stop : number == 3 ? .warn : .proceed
        case .name(let name):
            let name = name.uppercased()
            if name == "STOP" || name.hasSuffix("_STOP") { return .stop }
            if name == "WARN" || name.hasSuffix("_WARN") { return .warn }
            return .proceed
        }
    }

    /// Persists one run per selected asynchronous worker; returns how many were queued.
    @discardableResult
    public func enqueue(
        action: WorkerAction, repo: String, path: String, also: (repo: String, path: String)? = nil, dataJSON makeData: () -> String,
        triggeredBy: String, depth: Int = 0
    ) async throws -> Int {
        try await enqueue(try await workers(for: action, repo: repo, path: path, also: also), makeData, triggeredBy: triggeredBy, depth: depth)
    }

    /// Persists one run per enabled asynchronous worker of a server-wide event (build info saved).
    @discardableResult
    public func enqueue(action: WorkerAction, dataJSON makeData: () -> String, triggeredBy: String, depth: Int = 0) async throws -> Int {
        try await enqueue(try await service.enabledWorkers(for: action), makeData, triggeredBy: triggeredBy, depth: depth)
    }

    /// One persisted run for each of `selected`; the data is built only when there is one.
    func enqueue(_ selected: [StoredWorker], _ makeData: () -> String, triggeredBy: String, depth: Int) async throws -> Int {
        guard !selected.isEmpty else { return 0 }
        let dataJSON = makeData()
        let trace = RequestTrace.id ?? ""
        try await queue.enqueue(
            selected.map { PendingRun(workerKey: $0.worker.key, dataJSON: dataJSON, triggeredBy: triggeredBy, depth: depth, traceID: trace) })
        wakeUp.yield()
        return selected.count
    }

    /// Runs the persisted asynchronous runs until cancelled or shut down gracefully, `concurrency` at a time; each
    /// is claimed with a lease (renewed while it runs) and removed once it ran. On graceful shutdown it takes no new
    /// run and returns once the runs in flight ended. A run cut short by a hard stop stays stored and runs again
    /// once its lease ends, on this server after a restart or on any other sharing the database (at least once).
    public func runPending() async {
        let stopping = Mutex(false)
        // Wakes the loop to look for runs queued elsewhere, and renews the leases of the runs in flight.
        let ticker = Task { [self] in
            var sinceRenewal = Duration.zero
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                sinceRenewal += pollInterval
                if sinceRenewal >= lease / 3 {
                    sinceRenewal = .zero
                    await renewLeases()
                }
                wakeUp.yield()
            }
        }
        defer { ticker.cancel() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                var iterator = wakeUps.makeAsyncIterator()
                while !Task.isCancelled && !stopping.withLock({ $0 }) {
                    let batch: [PendingRun]
                    do {
                        let now = Self.now()
                        batch = try await queue.claim(
                            limit: concurrency - running, owner: owner, now: now, until: Checked.millis(after: now, duration: lease))
                    } catch {
                        // The runs stay stored; the next wake-up (a new event, or a run that ends) reads them again.
                        logger.error("the pending asynchronous runs could not be read: \(error)")
                        batch = []
                    }
                    var unstarted: [Int64] = []
                    for run in batch {
                        guard !stopping.withLock({ $0 }) else {
                            unstarted.append(run.id)
                            continue
                        }
                        inFlight.withLock { _ = $0.insert(run.id) }
                        running += 1
                        group.addTask { [self] in
                            // The run's log lines and its history entry carry the id of the request that queued it.
                            await RequestTrace.$id.withValue(run.traceID.isEmpty ? nil : run.traceID) { await self.perform(run) }
                            inFlight.withLock { _ = $0.remove(run.id) }
                        }
                    }
                    if !unstarted.isEmpty {
                        // Claimed as the server began to stop: let them go at once, for another server or the next start
                        // (`try?`: should this fail, their lease ends all the same).
                        try? await queue.renew(ids: unstarted, owner: owner, until: 0)
                    }
                    if running >= concurrency || batch.isEmpty {
                        if running > 0 {
                            // Wait for a slot, or for new work when nothing runs.
                            await group.next()
                            running -= 1
                        } else if await iterator.next() == nil {
                            return
                        }
                    }
                }
                if Task.isCancelled { group.cancelAll() }
                // Shutting down gracefully: the runs in flight end before this returns.
                await group.waitForAll()
            }
        } onGracefulShutdown: { [wakeUp] in
            stopping.withLock { $0 = true }
            wakeUp.yield()
        }
    }

    /// The asynchronous runs as a service of the server's group.
    public func run() async throws { await runPending() }

    /// Extends the leases of the runs in flight; one that cannot be renewed may be taken by another server once it
    /// ends (and then runs twice: asynchronous runs are at least once).
    func renewLeases() async {
        let held = inFlight.withLock { Array($0) }
        guard !held.isEmpty else { return }
        do {
            try await queue.renew(ids: held, owner: owner, until: Checked.millis(after: Self.now(), duration: lease))
        } catch {
            logger.error("the leases of \(held.count) asynchronous run(s) in flight could not be renewed: \(error)")
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func perform(_ run: PendingRun) async {
        if run.attempts > 1 {
            logger.warning(
                "the asynchronous run \(run.id) of worker '\(run.workerKey)' runs again (attempt \(run.attempts)): the server that held it stopped before it finished"
            )
        }
        do {
            // A worker deleted or disabled since the event is not run.
            if let stored = try await service.workers.worker(key: run.workerKey), stored.worker.enabled {
                let result = try await dispatch(
                    stored,
                    Trigger(
                        dataJSON: run.dataJSON, triggeredBy: run.triggeredBy,
                        admission: WorkerService.Admission(depth: run.depth, attempt: max(1, run.attempts))))
                if result.executionStatus != .success {
                    // Nobody waits for an asynchronous run's answer: its failure is told here (and in its history).
                    logger.warning(
                        "an asynchronous run failed",
                        metadata: [
                            "worker": .string(run.workerKey), "action": .string(stored.worker.action.name), "run": .stringConvertible(run.id),
                            "status": .string(result.executionStatus.rawValue),
                            "error": .string(result.outcome.error.map { "\($0.type): \($0.message.prefix(500))" } ?? "none"),
                        ])
                }
            }
        } catch {
            logger.error("the asynchronous run \(run.id) of worker '\(run.workerKey)' could not be run: \(error)")
        }
        do {
            try await queue.finish(id: run.id)
        } catch {
            // It runs again after the next start: asynchronous runs are at least once.
            logger.error("the asynchronous run \(run.id) could not be marked done; it will run again: \(error)")
        }
    }
}
