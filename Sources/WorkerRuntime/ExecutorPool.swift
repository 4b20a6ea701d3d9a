import Foundation
import RunModel
import JavaScriptSandbox
import Synchronization

/// The server side of the executor processes: it spawns N of them, routes each run to an executor that already holds
/// the worker warm when one is free, queues runs when none is, enforces the wall-clock deadline and the memory cap
/// by killing, and replaces executors that die. Killing one fails only the run inside it.
public final class ExecutorPool: Sendable {
    public struct Configuration: Sendable {
        /// The executable and arguments that start an executor, e.g. `["/usr/local/bin/warden", "executor"]`.
        public var executorCommand: [String]
        public var executors: Int
        /// How long a run may wait for a free executor before it fails with `queueWait`.
        public var maxQueueWait: Duration
        /// Warm worker contexts one executor keeps; the least recently used goes first.
        public var warmWorkersPerExecutor: Int
        /// Resident memory at which an executor is killed, whatever it is doing.
        public var executorMemoryCap: Int64
        /// How long past a run's wall limit the executor has to answer before it is killed.
        public var killGrace: Duration
        /// Debian's `typescript.js`, loaded by the compiler executor.
        public var typeScriptPath: String
        /// How long one compilation may take before the compiler is killed.
        public var compileTimeout: Duration
        /// Told of each executor killed, lost, replaced or not started (the server logs and counts them). Called
        /// with the pool's lock held: it must not call the pool.
        public var observer: @Sendable (PoolEvent) -> Void = { _ in }

        public init(
            executorCommand: [String], executors: Int = ProcessInfo.processInfo.activeProcessorCount, maxQueueWait: Duration = .seconds(30),
            warmWorkersPerExecutor: Int = 512, executorMemoryCap: Int64 = 1 << 30, killGrace: Duration = .milliseconds(500),
            typeScriptPath: String = "/usr/share/nodejs/typescript/lib/typescript.js", compileTimeout: Duration = .seconds(20)
        ) {
            self.executorCommand = executorCommand
            self.executors = max(1, executors)
            self.maxQueueWait = maxQueueWait
            self.warmWorkersPerExecutor = max(1, warmWorkersPerExecutor)
            self.executorMemoryCap = executorMemoryCap
            self.killGrace = killGrace
            self.typeScriptPath = typeScriptPath
            self.compileTimeout = compileTimeout
        }
    }

    struct State {
        /// Which executor each run gets and when (the decisions; the processes are below, by slot).
        var schedule: PoolSchedule<CheckedContinuation<Int?, Never>>
        var processes: [ExecutorProcess] = []
        var origins: [UInt64: HostCallOrigin] = [:]
        var closed = false
        var compiler: ExecutorProcess?
        var compileStarted: [UInt64: Int64] = [:]
        var respawns = 0
    }

    public let configuration: Configuration
    let handler: any HostCallHandler
    let state: Mutex<State>
    let compileCache = Mutex<[String: CompiledModule]>([:])
    /// One compile at a time goes to the compiler process, so that its time limit counts its own compiling, not the
    /// time it waited behind others (many concurrent compiles used to trip the limit while queued).
    let compileTurn = SerialGate()
    let ids = Atomic<UInt64>(0)

    public init(configuration: Configuration, handler: any HostCallHandler) throws {
        self.configuration = configuration
        self.handler = handler
        state = Mutex(
            State(schedule: PoolSchedule(executors: configuration.executors, warmPerExecutor: configuration.warmWorkersPerExecutor)))
        var processes: [ExecutorProcess] = []
        for _ in 0..<configuration.executors { processes.append(try spawnExecutor()) }
        state.withLock { $0.processes = processes }
        let thread = Thread { [weak self] in
            while let pool = self, pool.monitorTick() { usleep(10_000) }
        }
        thread.name = "executor-pool-monitor"
        thread.start()
    }

    deinit {
        let processes = state.withLock { state -> [ExecutorProcess] in
            state.closed = true
            return state.processes + (state.compiler.map { [$0] } ?? [])
        }
        for process in processes { process.kill(because: .executorCrashed("pool shut down")) }
    }

    /// Stops every executor; runs in progress fail, later runs fail at once.
    public func shutdown() {
        let (processes, waiters) = state.withLock { state -> ([ExecutorProcess], [CheckedContinuation<Int?, Never>]) in
            state.closed = true
            return (state.processes + (state.compiler.map { [$0] } ?? []), state.schedule.removeAllWaiters())
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for process in processes {
            _ = process.send(Frames.simple(.shutdown))
            process.kill(because: .executorCrashed("the server is shutting down"))
        }
    }

    func nextID() -> UInt64 { ids.add(1, ordering: .relaxed).newValue }

    // MARK: Running

    /// Runs `job` and returns its result with every secret value masked. Never throws: every failure is an outcome.
    public func run(_ job: RunJob) async -> RunResult {
        let runID = nextID()
        // A test run's context is its own: no other run, of any caller, sees its module's variables.
        let contextKey = job.disposable ? "disposable#\(runID)" : job.contextKey
        let masker = SecretMasker(secrets: job.secrets.values)
        guard let index = await acquire(contextKey: contextKey, id: runID, runClass: job.runClass, share: job.share) else {
            let closed = state.withLock { $0.closed }
            return RunResult(outcome: closed ? .executorCrashed("the executor pool is shut down") : .queueWait)
        }
        let grace = configuration.killGrace
        let prepared = state.withLock { state -> (ExecutorProcess, Bool, [String]) in
            let deadline = ProcessProbe.monotonicNanos() + Int64(job.limits.wallMillis) * 1_000_000 + grace.nanoseconds
            let (needsModule, evict) = state.schedule.load(contextKey, in: index, deadline: deadline)
            state.origins[runID] = HostCallOrigin(workerKey: job.workerKey, token: job.platformToken, runID: runID)
            return (state.processes[index], needsModule, evict)
        }
        let (process, needsModule, evict) = prepared
        let request = RunRequest(
            runID: runID, contextKey: contextKey, module: needsModule ? job.module : nil, evict: evict, infoJSON: job.infoJSON,
            dataJSON: job.dataJSON, debug: job.debug, limits: job.limits, discardAfter: job.disposable)
        let reply = await process.run(request)
        var result: RunResult
        if let reply {
            result = RunResult(
                outcome: reply.outcome, logs: reply.logs, state: Self.decodeState(reply.stateJSON), stats: reply.stats, answer: reply.answer)
        } else {
            let (reason, exit) = process.state.withLock { ($0.killReason, $0.exitDescription) }
            result = RunResult(outcome: reason ?? .executorCrashed(exit))
            if reason == nil { configuration.observer(.crashed(pid: process.pid, workerKey: job.workerKey, detail: exit)) }
        }
        if !masker.isEmpty {
            result.outcome = masker.mask(result.outcome)
            result.logs = masker.mask(result.logs)
            if let values = result.state { result.state = values.mapValues(masker.mask) }
            if case .answer(let answer) = result.answer { result.answer = .answer(answer.masked(by: masker)) }
        }
        release(
            index: index, process: process, contextKey: contextKey, runID: runID,
            keepContext: !job.disposable && (reply.map { !$0.contextDiscarded } ?? false), retiring: reply?.recycle ?? false)
        return result
    }

    static func decodeState(_ json: String) -> [String: String]? {
        if json == "{}" { return [:] }
        guard !json.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String] else { return nil }
        return object
    }

    /// A free executor's index, preferring one that holds `contextKey`; waits in line when none is free or when
    /// admission holds this run back (see `mayStart`).
    func acquire(contextKey: String, id: UInt64, runClass: RunClass, share: String?) async -> Int? {
        // A free executor is taken without suspending: a continuation resumed at once still sends the task back
        // through the global executor, a thread wake-up per run.
        let now = ProcessProbe.monotonicNanos()
        let immediate = state.withLock { state -> Int?? in
            guard !state.closed else { return .some(nil) }
            return state.schedule.start(contextKey: contextKey, runClass: runClass, share: share, now: now).map { .some($0) }
        }
        if let immediate { return immediate }
        return await withCheckedContinuation { continuation in
            let now = ProcessProbe.monotonicNanos()
            let granted = state.withLock { state -> Int?? in
                guard !state.closed else { return .some(nil) }
                let index = state.schedule.admit(
                    id: id, contextKey: contextKey, runClass: runClass, share: share, now: now, token: continuation)
                return index.map { .some($0) } ?? .none
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    /// Frees the slot after a run. An executor that announced it is exiting (`retiring`) is replaced here, before
    /// anything else can be sent to it.
    func release(index: Int, process: ExecutorProcess, contextKey: String, runID: UInt64, keepContext: Bool, retiring: Bool) {
        let now = ProcessProbe.monotonicNanos()
        let granted = state.withLock { state -> [(CheckedContinuation<Int?, Never>, Int)] in
            state.origins[runID] = nil
            let sameExecutor = state.processes[index] === process
            // Replaced before the slot goes to anyone else, so that nothing more is sent to the retiring process.
            if sameExecutor && retiring { replaceExecutor(at: index, in: &state) }
            return state.schedule.release(index, contextKey: contextKey, keepContext: keepContext, sameExecutor: sameExecutor, now: now)
        }
        for (continuation, slot) in granted { continuation.resume(returning: slot) }
    }

    // MARK: Executors

    func spawnExecutor(compiler: Bool = false) throws -> ExecutorProcess {
        var command = configuration.executorCommand
        if compiler { command += ["--typescript", configuration.typeScriptPath] }
        return try ExecutorProcess.spawn(
            command: command,
            onHostCall: { [weak self] process, call in self?.serveHostCall(call, process: process) },
            onExit: { [weak self] process in self?.executorExited(process) })
    }

    func serveHostCall(_ message: HostCallMessage, process: ExecutorProcess) {
        guard let origin = state.withLock({ $0.origins[message.runID] }) else { return }
        if message.kind == HostCallMessage.platformToken {
            // Answered here on the reader thread: the run is blocked in the worker's read of `context.platformToken`.
            _ = process.send(HostReplyMessage(callID: message.callID, ok: true, payload: origin.platformToken).encode())
            return
        }
        let handler = self.handler
        Task {
            let reply: HostReplyMessage
            if let kind = HostCall.Kind(rawValue: message.kind), let call = HostCall(kind: kind, payloadJSON: message.payloadJSON) {
                do {
                    let response = try await handler.handle(call, from: origin)
                    reply = HostReplyMessage(callID: message.callID, ok: true, payload: response.json)
                } catch {
                    reply = HostReplyMessage(callID: message.callID, ok: false, payload: "\(error)")
                }
            } else {
                reply = HostReplyMessage(callID: message.callID, ok: false, payload: "malformed host call '\(message.kind)'")
            }
            _ = process.send(reply.encode())
        }
    }

    func executorExited(_ process: ExecutorProcess) {
        state.withLock { state in
            if state.compiler === process { state.compiler = nil }
            guard let index = state.processes.firstIndex(where: { $0 === process }) else { return }
            replaceExecutor(at: index, in: &state)
        }
    }

    /// Starts a fresh executor in slot `index`; when that fails, the monitor retries on its next tick.
    func replaceExecutor(at index: Int, in state: inout State) {
        guard !state.closed else { return }
        do {
            let replacement = try spawnExecutor()
            state.processes[index] = replacement
            // The deadline was the old process's run's: left in place, the monitor would kill the new process for
            // it, and every replacement after it (a process that died before its run was released did this).
            state.schedule.reset(index)
            state.respawns += 1
            configuration.observer(.respawned(pid: replacement.pid))
        } catch {
            configuration.observer(.spawnFailed("\(error)"))
        }
    }

    /// Starts one more executor outside the pool, waits until it is ready to run work, and stops it: the time it
    /// took is what replacing a killed executor costs.
    public func measureExecutorStart() async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let process = try ExecutorProcess.spawn(command: configuration.executorCommand, onHostCall: { _, _ in }, onExit: { _ in })
        let ready = await process.waitUntilReady()
        let elapsed = clock.now - start
        process.kill(because: .executorCrashed("measured"))
        guard ready else { throw ExecutorPoolError("the executor exited before it was ready") }
        return elapsed
    }

    /// True while the pool is open and at least one executor process is alive to run work.
    public var isReady: Bool {
        state.withLock { state in !state.closed && state.processes.contains { !$0.isExited } }
    }

    /// How many executors have been replaced since the pool started.
    public var respawnCount: Int { state.withLock { $0.respawns } }

    /// How many executors are running a run now (for tests).
    public var busyExecutors: Int { state.withLock { state in state.schedule.slots.count(where: \.busy) } }

    /// Process ids of the run executors, in slot order (for tests and the benchmark).
    public var executorPIDs: [Int32] { state.withLock { $0.processes.map(\.pid) } }

    /// Executors running a run, executors free, and runs waiting for one, at this moment.
    public var occupancy: (busy: Int, idle: Int, queued: Int) {
        state.withLock { state in
            let busy = state.schedule.slots.filter(\.busy).count
            return (busy, state.schedule.slots.count - busy, state.schedule.waiters.count)
        }
    }

    /// Every 10 ms: kill executors past their run's deadline or over the memory cap, fail runs that waited too long,
    /// and retry spawning executors that could not be replaced. Returns false once the pool is closed. Each kill is
    /// told to the observer with the name of the reason it was decided for.
    func monitorTick() -> Bool {
        let now = ProcessProbe.monotonicNanos()
        let maxWait = configuration.maxQueueWait.nanoseconds
        let compileTimeout = configuration.compileTimeout.nanoseconds
        var toKill: [(process: ExecutorProcess, reason: RunOutcome, name: String)] = []
        var overdue: [ExecutorProcess] = []
        var expired: [CheckedContinuation<Int?, Never>] = []
        var retry = false
        let open = state.withLock { state -> Bool in
            if state.closed { return false }
            retry = state.processes.contains(where: \.isExited)
            overdue = state.schedule.overdue(at: now).map { state.processes[$0] }
            if let compiler = state.compiler, let oldest = state.compileStarted.values.min(), now - oldest > compileTimeout {
                toKill.append((compiler, .wallLimit, "compile_timeout"))
            }
            expired = state.schedule.expire(at: now, maxWait: maxWait)
            return true
        }
        for waiter in expired { waiter.resume(returning: nil) }
        if (now / 10_000_000) % 5 == 0 {
            var heavyIdle: [ExecutorProcess] = []
            for process in state.withLock({ $0.processes }) {
                guard let rss = ProcessProbe.residentBytes(pid: process.pid) else { continue }
                if rss > configuration.executorMemoryCap {
                    toKill.append((process, .memoryLimit, "memory_limit"))
                } else if rss > configuration.executorMemoryCap / 4 * 3 {
                    heavyIdle.append(process)
                }
            }
            // An idle executor near its cap (many warm contexts, each within its budget) is replaced between runs,
            // so that the cap never has to kill it in the middle of some innocent worker's run.
            for process in heavyIdle {
                let replaced = state.withLock { state -> Bool in
                    guard let index = state.processes.firstIndex(where: { $0 === process }), !state.schedule.slots[index].busy else {
                        return false
                    }
                    replaceExecutor(at: index, in: &state)
                    return state.processes[index] !== process
                }
                if replaced {
                    toKill.append((process, .executorCrashed("replaced while idle: near its memory cap"), "idle_near_memory_cap"))
                }
            }
        }
        for kill in toKill where kill.process.kill(because: kill.reason) {
            configuration.observer(.killed(reason: kill.name, pid: kill.process.pid))
        }
        for process in overdue where process.killUnansweredRun(because: .wallLimit) {
            configuration.observer(.killed(reason: "wall_limit", pid: process.pid))
        }
        if retry {
            state.withLock { state in
                for index in state.processes.indices where state.processes[index].isExited { replaceExecutor(at: index, in: &state) }
            }
        }
        return open
    }

    // MARK: Compiling

    /// The module of a source compiled already, without waiting for anything.
    public func compiledModule(for source: String) -> CompiledModule? {
        let hash = WorkerCrypto.sourceHash(source)
        return compileCache.withLock { $0[hash] }
    }

    /// Compiles worker source (TypeScript or JavaScript) once per distinct source; compile errors carry line and
    /// column of the source.
    public func compile(_ source: String) async throws(CompileError) -> CompiledModule {
        let characters = source.count
        guard characters <= RunLimits.maxCodeCharacters else {
            throw CompileError(message: "the code is \(characters) characters long; at most \(RunLimits.maxCodeCharacters) are allowed")
        }
        let hash = WorkerCrypto.sourceHash(source)
        if let cached = compileCache.withLock({ $0[hash] }) { return cached }
        await compileTurn.enter()
        defer { compileTurn.leave() }
        // The same source may have been compiled while this one waited for its turn.
        if let cached = compileCache.withLock({ $0[hash] }) { return cached }
        let id = nextID()
        let compiler: ExecutorProcess
        do {
            compiler = try state.withLock { state throws -> ExecutorProcess in
                if state.closed { throw ExecutorPoolError("the executor pool is shut down") }
                if let existing = state.compiler, !existing.isExited { return existing }
                let process = try spawnExecutor(compiler: true)
                state.compiler = process
                return process
            }
        } catch {
            throw CompileError(message: "the compiler could not start: \(error)")
        }
        // A new compiler is ready once it has loaded TypeScript (bounded by the engine's budget for the load); the
        // compile's own time starts then.
        guard await compiler.waitUntilReady() else { throw CompileError(message: "the compiler stopped unexpectedly") }
        let started = ProcessProbe.monotonicNanos()
        state.withLock { $0.compileStarted[id] = started }
        let reply = await compiler.compile(CompileRequest(id: id, source: source))
        state.withLock { _ = $0.compileStarted.removeValue(forKey: id) }
        configuration.observer(
            .compiled(
                nanoseconds: ProcessProbe.monotonicNanos() - started,
                succeeded: reply.map { reply in
                    if case .success = reply.result { return true }
                    return false
                } ?? false))
        guard let reply else {
            let reason = compiler.state.withLock { $0.killReason }
            throw CompileError(message: reason == .wallLimit ? "compiling took too long" : "the compiler stopped unexpectedly")
        }
        switch reply.result {
        case .success(let output):
            let module = CompiledModule(javaScript: output.javaScript, lineMap: output.lineMap, sourceHash: hash)
            compileCache.withLock { cache in
                if cache.count >= 4096 { cache.removeAll() }
                cache[hash] = module
            }
            return module
        case .failure(let error):
            throw error
        }
    }
}

/// A first-come, first-served turn for async callers: `enter` waits until every earlier caller has called `leave`.
final class SerialGate: Sendable {
    let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// What happened to an executor, as the pool's observer is told it.
public enum PoolEvent: Sendable, Equatable {
    /// Killed by the pool: `reason` is memory_limit (over the executor cap), wall_limit (a run past its deadline),
    /// compile_timeout, idle_near_memory_cap (replaced between runs).
    case killed(reason: String, pid: Int32)
    /// Died with a run in it for a reason no limit explains.
    case crashed(pid: Int32, workerKey: String, detail: String)
    /// A new executor took a dead one's slot.
    case respawned(pid: Int32)
    /// A new executor could not be started; the pool tries again on its next tick.
    case spawnFailed(String)
    /// A source was compiled (not found in the cache), successfully or not, in that time.
    case compiled(nanoseconds: Int64, succeeded: Bool)
}
