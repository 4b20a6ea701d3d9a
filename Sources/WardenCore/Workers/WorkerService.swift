import Foundation
import Logging
import Synchronization
import RunModel

/// Compiles and runs worker code. The executor pool answers it (WardenServer adapts it); core tests give their own.
public protocol ScriptRunner: Sendable {
    func compile(_ source: String) async throws(CompileError) -> CompiledModule
    /// The module when `source` is compiled already (no waiting).
    func compiledModule(for source: String) -> CompiledModule?
    func run(_ job: RunJob) async -> RunResult
}

/// Server settings the worker service applies (spec §8, §10).
public struct WorkerSettings: Sendable {
    public var limits: RunLimits
    /// Record successful runs too (failures are always recorded).
    public var recordSuccessfulRuns: Bool
    /// History entries kept per worker.
    public var historyPerWorker: Int
    /// Size at which an entry's logs are cut, with a marker.
    public var historyEntryMaxBytes: Int
    public var baseURL: String
    /// Executor processes: a worker may hold all but one of them at once (see `RunGuard`).
    public var executors: Int
    /// How long a run may wait for its turn, in `RunGuard` as in the executor pool's queue.
    public var maxQueueWait: Duration

    public init(
        limits: RunLimits = .default, recordSuccessfulRuns: Bool = true, historyPerWorker: Int = 1_000, historyEntryMaxBytes: Int = 130_000,
        baseURL: String = "http://127.0.0.1:8080", executors: Int = 2, maxQueueWait: Duration = .seconds(30)
    ) {
        self.executors = executors
        self.maxQueueWait = maxQueueWait
        self.limits = limits
        self.recordSuccessfulRuns = recordSuccessfulRuns
        self.historyPerWorker = historyPerWorker
        self.historyEntryMaxBytes = historyEntryMaxBytes
        self.baseURL = baseURL
    }
}

/// The worker service: every decision about workers (spec §2–§8) is made here; the HTTP dialect only translates.
public final class WorkerService: Sendable {
    let workers: any WorkerStore
    let history: any HistoryStore
    let states: any StateStore
    let vault: SecretVault
    let runner: any ScriptRunner
    let workerTokens: WorkerTokens?
    public let settings: WorkerSettings
    /// Enabled workers by action name, read once and dropped on every change (events read it on the hot path).
    let runGuard: RunGuard
    /// Writes the runs' history entries.
    let recorder: RunRecorder
    /// The history's writer: a service of the server's group, so that a clean stop writes what is queued.
    public var historyWriter: WriteBehind<HistoryEntry> { recorder.writer }
    /// Worker state as last read or saved by this server.
    let stateCache = Mutex<[String: [String: String]]>([:])
    let bound = Mutex<(generation: Int, byAction: [String: [StoredWorker]]?)>((0, nil))
    /// Each worker's module by its source as last run: a run of unchanged code compares the source (the same
    /// text as the enabled workers' cache holds, so mostly at once) instead of hashing it for the compile cache.
    let modules = Mutex<[String: (source: String, module: CompiledModule)]>([:])
    /// `context.baseUrl`: the settings' until the server knows the port it is bound to.
    let address: ServerAddress
    /// Turns at the compiler, by caller.
    let compileTurns = FairTurns(maxWaitingPerCaller: 32)
    /// Where the writes a run cannot fail for (state, history) say they failed.
    let logger: Logger

    public init(
        workers: any WorkerStore, history: any HistoryStore, states: any StateStore, vault: SecretVault, runner: any ScriptRunner,
        settings: WorkerSettings = WorkerSettings(), workerTokens: WorkerTokens? = nil, address: ServerAddress? = nil,
        logger: Logger = Logger(label: "warden.workers")
    ) {
        self.logger = logger
        self.workerTokens = workerTokens
        self.workers = workers
        self.history = history
        self.runGuard = RunGuard(executors: settings.executors, maxWait: settings.maxQueueWait)
        self.recorder = RunRecorder(history: history, settings: settings, logger: logger)
        self.states = states
        self.vault = vault
        self.runner = runner
        self.settings = settings
        self.address = address ?? ServerAddress(settings.baseURL)
    }

    // MARK: Managing workers

    /// A worker as read back: never a secret value, only the names.
    public struct View: Sendable, Equatable {
        public var worker: Worker
        public var secretKeys: [String]
    }

    public func create(_ draft: WorkerDraft, by principal: Principal) async throws -> View {
        guard let key = draft.key else { throw WardenError.invalid("key", "is required") }
        try WorkerRules.validateKey(key)
        let projectKey = draft.projectKey ?? ""
        guard principal.canManage(projectKey: projectKey) else { throw forbidden(principal, projectKey: projectKey) }
        guard let source = draft.sourceCode else { throw WardenError.invalid("sourceCode", "is required") }
        guard let actionName = draft.action else { throw WardenError.invalid("action", "is required") }
        let worker = Worker(
            key: key, description: draft.description ?? "", enabled: draft.enabled ?? true, debug: draft.debug ?? false,
            sourceCode: try WorkerRules.decodeSource(source), action: try WorkerRules.action(named: actionName),
            filterCriteria: draft.filterCriteria ?? FilterCriteria(), properties: draft.properties ?? [], shared: draft.shared ?? false,
            projectKey: projectKey, version: draft.version, modifiedAt: Self.nowMillis(), modifiedBy: principal.name,
            platformAccess: draft.platformAccess ?? nil)
        try await validate(worker, compile: true, by: principal)
        let secrets = try WorkerRules.validated(draft.secrets).map { SecretItem.apply($0, to: [:]) } ?? [:]
        var sealed: [String: Data] = [:]
        for (name, value) in secrets { sealed[name] = try vault.seal(value, worker: key, name: name) }
        try await workers.create(
            StoredWorker(worker: worker, sealedSecrets: sealed, createdAt: worker.modifiedAt, owner: WorkerOwner(principal)))
        bound.withLock { $0 = ($0.generation + 1, nil) }
        return View(worker: worker, secretKeys: sealed.keys.sorted())
    }

    public func update(_ draft: WorkerDraft, by principal: Principal) async throws {
        guard let key = draft.key else { throw WardenError.invalid("key", "is required") }
        guard let current = try await workers.worker(key: key)?.worker else { throw notFound(key) }
        guard principal.canManage(projectKey: current.projectKey) else { throw forbidden(principal, projectKey: current.projectKey) }
        if let projectKey = draft.projectKey, projectKey != current.projectKey {
            throw WardenError.invalid("projectKey", "is set once and cannot change (the worker belongs to '\(current.projectKey)')")
        }
        var worker = current
        if let value = draft.description { worker.description = value }
        if let value = draft.enabled { worker.enabled = value }
        if let value = draft.debug { worker.debug = value }
        if let value = draft.sourceCode { worker.sourceCode = try WorkerRules.decodeSource(value) }
        if let value = draft.action { worker.action = try WorkerRules.action(named: value) }
        if let value = draft.filterCriteria { worker.filterCriteria = value }
        if let value = draft.properties { worker.properties = value }
        if let value = draft.shared { worker.shared = value }
        if let value = draft.version { worker.version = value }
        if let value = draft.platformAccess { worker.platformAccess = value }
        worker.modifiedAt = max(Self.nowMillis(), current.modifiedAt + 1)
        worker.modifiedBy = principal.name
        try await validate(worker, compile: worker.sourceCode != current.sourceCode, by: principal)
        let items = try WorkerRules.validated(draft.secrets)
        let vault = self.vault
        let updated = worker
        // Whoever saves a worker owns it: its run token has the rights of its last editor, so a project admin who
        // changes an admin's worker cannot borrow the admin's rights.
        let owner = WorkerOwner(principal)
        try await workers.update(key: key) { stored in
            stored.worker = updated
            stored.owner = owner
            for item in items ?? [] {
                if item.markedForRemoval {
                    stored.sealedSecrets[item.key] = nil
                } else if let value = item.value {
                    stored.sealedSecrets[item.key] = try vault.seal(value, worker: key, name: item.key)
                }
            }
        }
        bound.withLock { $0 = ($0.generation + 1, nil) }
    }

    public func delete(key: String, by principal: Principal) async throws {
        guard let current = try await workers.worker(key: key)?.worker else { throw notFound(key) }
        guard principal.canManage(projectKey: current.projectKey) else { throw forbidden(principal, projectKey: current.projectKey) }
        guard try await workers.delete(key: key) else { throw notFound(key) }
        stateCache.withLock { $0[key] = nil }
        modules.withLock { $0[key] = nil }
        bound.withLock { $0 = ($0.generation + 1, nil) }
    }

    /// Forgets what another server changed: the enabled workers, a worker's state.
    public func forget(_ change: StoreChange) {
        switch change {
        case .workers:
            bound.withLock { $0 = ($0.generation + 1, nil) }
        case .workerState(let key):
            stateCache.withLock { $0[key] = nil }
        case .everything:
            bound.withLock { $0 = ($0.generation + 1, nil) }
            stateCache.withLock { $0 = [:] }
        default:
            break
        }
    }

    /// The enabled workers bound to `action`, in key order (spec §9).
    public func enabledWorkers(for action: WorkerAction) async throws -> [StoredWorker] {
        let (generation, cached) = bound.withLock { $0 }
        if let cached { return cached[action.name] ?? [] }
        let all = try await workers.all().filter { $0.worker.enabled }.sorted { $0.worker.key < $1.worker.key }
        let byAction = Dictionary(grouping: all, by: { $0.worker.action.name })
        bound.withLock { if $0.generation == generation { $0.byAction = byAction } }
        return byAction[action.name] ?? []
    }

    public func get(key: String, by principal: Principal) async throws -> View {
        guard let stored = try await workers.worker(key: key) else { throw notFound(key) }
        guard principal.canManage(projectKey: stored.worker.projectKey) else { throw forbidden(principal, projectKey: stored.worker.projectKey) }
        return View(worker: stored.worker, secretKeys: stored.sealedSecrets.keys.sorted())
    }

    /// Compiles for a caller. The compiler takes one source at a time, so callers take turns (`FairTurns`): one
    /// project admin's flood of distinct sources delays only its own compiles, each other caller's next compile
    /// waits for at most one of them. A source compiled already needs no turn.
    func compile(_ source: String, field: String, for principal: Principal) async throws -> CompiledModule {
        if let module = runner.compiledModule(for: source) { return module }
        try await compileTurns.enter(principal.name)
        defer { compileTurns.leave() }
        do {
            return try await runner.compile(source)
        } catch {
            throw WardenError.invalid(field, error.description)
        }
    }

    /// The workers the principal may manage, optionally of one action and one project.
    public func list(action: String?, projectKey: String?, by principal: Principal) async throws -> [View] {
        if principal.scope == .user { throw forbidden(principal, projectKey: projectKey ?? "") }
        let wanted = try action.map { try WorkerRules.action(named: $0, field: "action") }
        return try await workers.all().filter { stored in
            principal.canManage(projectKey: stored.worker.projectKey) && (wanted == nil || stored.worker.action == wanted)
                && (projectKey == nil || projectKey == "" || stored.worker.projectKey == projectKey)
        }.map { View(worker: $0.worker, secretKeys: $0.sealedSecrets.keys.sorted()) }
    }

    // MARK: Running

    /// A dry run (spec §6): the code given, with the stored worker's secrets and properties when `key` names one,
    /// changed for this run only by `stagedSecrets`. Recorded as a test run; its state is never kept.
    public func test(
        key: String?, code: String, actionName: String, dataJSON: String, stagedSecrets: [SecretItem]?, debug: Bool, by principal: Principal
    ) async throws -> (WorkerAction, RunResult) {
        let action = try WorkerRules.action(named: actionName)
        var secrets: [String: String] = [:]
        var properties: [String: String] = [:]
        var projectKey = ""
        var workerKey = "test-run"
        // A dry run never reaches further than its caller could, nor further than the stored worker's manifest.
        var within = [PlatformAccess.everywhere]
        if let key {
            guard let stored = try await workers.worker(key: key) else { throw notFound(key) }
            guard principal.canManage(projectKey: stored.worker.projectKey) else {
                throw forbidden(principal, projectKey: stored.worker.projectKey)
            }
            secrets = try openSecrets(stored)
            properties = Dictionary(stored.worker.properties.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            projectKey = stored.worker.projectKey
            workerKey = key
            within = stored.worker.reach
        } else if principal.scope == .user {
            throw forbidden(principal, projectKey: "")
        }
        secrets = SecretItem.apply(try WorkerRules.validated(stagedSecrets, field: "stagedSecrets"), to: secrets)
        let module = try await compile(try WorkerRules.decodeSource(code, field: "code"), field: "code", for: principal)
        let result = await run(
            workerKey: workerKey, action: action, projectKey: projectKey, module: module, secrets: secrets, properties: properties,
            dataJSON: dataJSON, debug: debug, testRun: true, triggeredBy: principal.name, version: "test",
            rights: .owner(principal.name, ownerIsAdmin: principal.isAdmin, within: within), admission: Self.callerAdmission(principal))
        return (action, result)
    }

    /// The GENERIC_EVENT worker `principal` may execute (spec §7); the run itself is the dispatcher's.
    func executable(key: String, by principal: Principal) async throws -> StoredWorker {
        if principal.isConfinedToItsReach { throw WardenError(.forbidden, "\(principal.name) may only write its run's archives") }
        guard let stored = try await workers.worker(key: key) else { throw notFound(key) }
        let worker = stored.worker
        guard principal.canManage(projectKey: worker.projectKey) || worker.shared else { throw forbidden(principal, projectKey: worker.projectKey) }
        guard worker.action == .genericEvent else {
            throw WardenError(.badRequest, "worker '\(key)' is a \(worker.action.name) worker; only GENERIC_EVENT workers can be executed")
        }
        guard worker.enabled else { throw WardenError(.conflict, "worker '\(key)' is disabled") }
        return stored
    }

    /// The worker and the recorded run of it that `principal` may run again (spec §2, rerun); the run itself is
    /// the dispatcher's.
    func rerunnable(key: String, historyEntryID: String, by principal: Principal) async throws -> (StoredWorker, HistoryEntry) {
        guard let stored = try await workers.worker(key: key) else { throw notFound(key) }
        guard principal.canManage(projectKey: stored.worker.projectKey) else { throw forbidden(principal, projectKey: stored.worker.projectKey) }
        await recorder.writer.flush()
        guard let entry = try await history.entry(id: historyEntryID), entry.workerKey == key, entry.startMillis >= stored.createdAt else {
            // An entry of an earlier, deleted worker with the same key is not this worker's to run again.
            throw WardenError(.notFound, "worker '\(key)' has no history entry '\(historyEntryID)'")
        }
        return (stored, entry)
    }

    /// Runs a stored worker as an event would: with its state, saved when the run succeeds. Called by the
    /// dispatcher, through which every event's runs go.
    func runStored(
        _ stored: StoredWorker, dataJSON: String, triggeredBy: String, forceRecord: Bool = false, admission: Admission = Admission()
    ) async throws -> RunResult {
        let worker = stored.worker
        let module: CompiledModule
        if let last = modules.withLock({ $0[worker.key] }), last.source == worker.sourceCode {
            module = last.module
        } else {
            do {
                module = try await runner.compile(worker.sourceCode)
            } catch {
                return RunResult(outcome: .threw(WorkerError(type: "CompileError", message: error.description)))
            }
            modules.withLock { [module] in $0[worker.key] = (worker.sourceCode, module) }
        }
        let properties = Dictionary(worker.properties.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        return await run(
            workerKey: worker.key, action: worker.action, projectKey: worker.projectKey, module: module, secrets: try openSecrets(stored),
            properties: properties, dataJSON: dataJSON, debug: worker.debug, testRun: false, triggeredBy: triggeredBy,
            version: worker.executedVersion, rights: stored.runRights, forceRecord: forceRecord, admission: admission)
    }

    func run(
        workerKey: String, action: WorkerAction, projectKey: String, module: CompiledModule, secrets: [String: String],
        properties: [String: String], dataJSON: String, debug: Bool, testRun: Bool, triggeredBy: String, version: String,
        rights: RepositoryRights, forceRecord: Bool = false, admission: Admission
    ) async -> RunResult {
        let start = Self.nowMillis()
        if admission.depth > EventDepth.limit {
            // Not run: the event was fired by worker writes more levels deep than any legitimate chain needs.
            let error = WorkerError(
                type: "EventDepthError",
                message: "not run: this event was fired by a chain of \(admission.depth) worker writes; at most \(EventDepth.limit) run")
            let result = RunResult(outcome: .threw(error))
            await recorder.record(
                result, workerKey: workerKey, action: action, projectKey: projectKey, dataJSON: dataJSON, secrets: secrets, start: start,
                triggeredBy: triggeredBy, testRun: testRun, version: version, always: true)
            return result
        }
        let state = testRun ? [:] : await currentState(of: workerKey)
        // Minted only if the run uses it, revoked with the run.
        let token = PlatformToken { [workerTokens, settings] in
            workerTokens?.mint(
                name: "worker:\(workerKey)", rights: rights, lifetime: Double(settings.limits.wallMillis) / 1000 + 60,
                eventDepth: Checked.sum(admission.depth, 1), readsTokens: action.application == "access") ?? ""
        }
        defer { if let minted = token.close() { workerTokens?.revoke(minted) } }
        let job = RunJob(
            workerKey: workerKey, module: module, dataJSON: dataJSON, secrets: secrets, properties: properties, state: state,
            baseURL: address.url, platformToken: token, debug: debug, limits: settings.limits, runClass: admission.runClass,
            share: Self.share(of: admission, projectKey: projectKey), disposable: testRun,
            // The verdict of a synchronous event is read in the executor, from the value it has just written.
            readsAnswer: action.isSynchronous && !testRun)
        var result: RunResult
        if testRun {
            result = await runner.run(job)
        } else {
            switch await runGuard.admit(workerKey) {
            case .suspended(let seconds):
                // Not run, so not recorded: a suspended worker hit by many events would flood its history.
                return RunResult(
                    outcome: .threw(
                        WorkerError(
                            type: "LimitError",
                            message: "worker '\(workerKey)' is suspended for \(seconds) s more: \(runGuard.tripAfter) runs in a row broke a limit")))
            case .timedOut:
                result = RunResult(outcome: .queueWait)
            case .run(let ticket):
                result = await runner.run(job)
                runGuard.finish(workerKey, ticket: ticket, outcome: result.outcome)
            }
        }
        if !testRun, result.executionStatus == .success, let newState = result.state, let problem = StateLimits.problem(newState) {
            // The prelude enforces these too, but a worker's module code runs before anything is frozen: the server
            // checks again and never keeps a state over the limits.
            result.outcome = .threw(WorkerError(type: "StateError", message: problem))
            result.state = nil
        }
        if !testRun, result.executionStatus == .success, let newState = result.state, newState != state {
            do {
                try await states.save(newState, of: workerKey)
                stateCache.withLock { $0[workerKey] = newState }
            } catch {
                // The run succeeded; its state is lost. The next run reads the stored one again.
                stateCache.withLock { $0[workerKey] = nil }
                logger.error("the state of worker '\(workerKey)' could not be saved: \(error)")
            }
        }
        if admission.attempt > 1 {
            result.logs =
                "warden: attempt \(admission.attempt) of this asynchronous run: the server that held it before stopped before it finished\n"
                + result.logs
        }
        await recorder.record(
            result, workerKey: workerKey, action: action, projectKey: projectKey, dataJSON: dataJSON, secrets: secrets, start: start,
            triggeredBy: triggeredBy, testRun: testRun, version: version, always: debug || forceRecord || admission.attempt > 1)
        return result
    }

    /// The worker's state: from the cache, else read once (this server is the only writer of it).
    func currentState(of workerKey: String) async -> [String: String] {
        if let cached = stateCache.withLock({ $0[workerKey] }) { return cached }
        do {
            let state = try await states.state(of: workerKey)
            stateCache.withLock { $0[workerKey] = state }
            return state
        } catch {
            // Not cached: the next run reads it again.
            logger.error("the state of worker '\(workerKey)' could not be read; this run starts with none: \(error)")
            return [:]
        }
    }

    /// History entries the principal may see (spec §8).
    public func history(_ query: HistoryQuery, by principal: Principal) async throws -> [HistoryEntry] {
        guard (0...1_000).contains(query.limit) else { throw WardenError.invalid("limit", "must be 0 to 1000, got \(query.limit)") }
        guard query.offset >= 0 else { throw WardenError.invalid("offset", "must not be negative, got \(query.offset)") }
        var query = query
        switch principal.scope {
        case .admin: break
        case .projectAdmin(let project):
            if let asked = query.projectKey, !asked.isEmpty, asked != project { throw forbidden(principal, projectKey: asked) }
            query.projectKey = project
        case .user: throw forbidden(principal, projectKey: query.projectKey ?? "")
        }
        // This server's own runs are in what it shows, even those whose entries were still being written.
        await recorder.writer.flush()
        return try await history.entries(query)
    }

    func validate(_ worker: Worker, compile: Bool, by principal: Principal) async throws {
        try WorkerRules.validate(worker)
        if compile { _ = try await self.compile(worker.sourceCode, field: "sourceCode", for: principal) }
    }

    func openSecrets(_ stored: StoredWorker) throws -> [String: String] {
        var secrets: [String: String] = [:]
        for (name, sealed) in stored.sealedSecrets {
            do {
                secrets[name] = try vault.open(sealed, worker: stored.worker.key, name: name)
            } catch {
                throw WardenError(.unavailable, "secret '\(name)' of worker '\(stored.worker.key)' cannot be opened with this server's master key")
            }
        }
        return secrets
    }

    func notFound(_ key: String) -> WardenError { WardenError(.notFound, "worker '\(key)' does not exist") }

    func forbidden(_ principal: Principal, projectKey: String) -> WardenError {
        let target = projectKey.isEmpty ? "workers outside a project" : "workers of project '\(projectKey)'"
        return WardenError(.forbidden, "'\(principal.name)' may not manage \(target)")
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
