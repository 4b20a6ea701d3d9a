import CWardenSystem
import Crypto
import Foundation
import RunModel
import JavaScriptSandbox
import Synchronization

/// The main loop of `warden executor`: a child process of the server that runs worker code.
///
/// One engine (JSC VM) per process, one context per warm worker, one run at a time. The main thread runs
/// JavaScript; a monitor thread stops what JSC's watchdog cannot (an endless microtask chain, a long native call,
/// fast allocation) by answering the run itself and exiting, so the parent replaces the process.
public enum ExecutorMain {
    /// Serves the parent on descriptor `fd` until it closes the socket or asks to stop. Never returns.
    public static func run(fd: Int32, typeScriptPath: String?) -> Never {
        ScriptEngine.configureProcess()
        do {
            let executor = try Executor(socket: FrameSocket(fd: fd), typeScriptPath: typeScriptPath ?? CompilerScript.defaultTypeScriptPath)
            // The compiler executor loads TypeScript before it says it is ready: the pool's clock for a compile then
            // measures that compile only, not a one-time load that several servers starting together make slow.
            if typeScriptPath != nil { _ = try? executor.loadCompiler() }  // a failed load is told by the first compile
            executor.serve()
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("warden executor: \(error)\n".utf8))
            exit(70)
        }
    }
}

/// State of the current run that the monitor thread reads too.
struct RunWatch {
    var active = false
    var runID: UInt64 = 0
    var cpuStart: Int64 = 0
    var cpuBudget: Int64 = 0
    var rssStart: Int64 = 0
    var memoryBudget: Int64 = 0
    var peakGrowth: Int64 = 0
    var wallStart: Int64 = 0
    var logs = ""
    var logBytes = 0
    var maxLogBytes = 0
    var logsTruncated = false

    mutating func append(level: String, message: String) {
        guard !logsTruncated else { return }
        let line = "[\(level)] - \(message)"
        if logBytes + line.utf8.count + 1 > maxLogBytes {
            logsTruncated = true
            if !logs.isEmpty { logs += "\n" }
            logs += "[warn ] - log limit of \(maxLogBytes) bytes reached; further lines dropped"
            return
        }
        if !logs.isEmpty { logs += "\n" }
        logs += line
        logBytes += line.utf8.count + 1
    }
}

/// A worker whose module is loaded in its own context, ready to run.
final class WarmWorker {
    let context: ScriptContext
    let run: ScriptValue
    let function: ScriptValue
    let module: CompiledModule
    /// Resident memory this context is charged with: what its runs left behind (growth from start to end of each
    /// run, never below zero). Module-level variables that grow from run to run show here.
    var retainedBytes: Int64 = 0

    init(context: ScriptContext, run: ScriptValue, function: ScriptValue, module: CompiledModule) {
        self.context = context
        self.run = run
        self.function = function
        self.module = module
    }
}

/// What the run in progress is waiting for, and how it ended once it has.
final class ActiveRun {
    let runID: UInt64
    let deadline: Int64
    let debug: Bool
    var pendingCalls: [UInt64: (resolve: ScriptValue, reject: ScriptValue)] = [:]
    var waits: [(due: Int64, resolve: ScriptValue)] = []
    /// Replies to asynchronous calls that came while the run waited for a synchronous one, settled next.
    var stashedReplies: [HostReplyMessage] = []
    /// The platform token, once asked for (`context.platformToken`).
    var platformToken: String?
    /// (succeeded, result JSON or error JSON, state JSON) once the worker's promise settled.
    var settled: (ok: Bool, payload: String, state: String)?
    /// The answer in parts, when the run asked for it (`info.answer`) and the worker's promise resolved.
    var answer: WorkerAnswer.Reading?

    init(runID: UInt64, deadline: Int64, debug: Bool) {
        self.runID = runID
        self.deadline = deadline
        self.debug = debug
    }
}

/// What the JavaScript thread and the monitor thread share: the socket's write side and the run watch.
final class ExecutorShared: Sendable {
    let fd: Int32
    let writeLock = Mutex(())
    let watch = Mutex(RunWatch())
    /// The monitor thread's latest reading of this process's resident memory: the baseline of the next run.
    let lastRSS = Atomic<Int64>(0)

    init(fd: Int32) {
        self.fd = fd
        lastRSS.store(ProcessProbe.residentBytes() ?? 0, ordering: .relaxed)
    }

    func send(_ frame: [UInt8]) {
        writeLock.withLock { _ in
            do { try FrameSocket.send(frame, to: fd) } catch { exit(0) }  // the parent is gone: nothing left to serve
        }
    }
}

final class Executor {
    let engine: ScriptEngine
    let socket: FrameSocket
    let shared: ExecutorShared
    let typeScriptPath: String
    var workers: [String: WarmWorker] = [:]
    var current: ActiveRun?
    var nextCallID: UInt64 = 0
    var compiler: (context: ScriptContext, compile: ScriptValue)?
    var mainCPUClock = clockid_t()
    /// Set when a context is loaded (which leaves garbage: the prelude's and the freeze's) with the socket's receive
    /// timeout armed, so that the executor's next idle wait ends in a collection; cleared by it.
    var collectWhenIdle = false

    init(socket: FrameSocket, typeScriptPath: String) throws {
        self.engine = try ScriptEngine(meter: ProcessMeter())
        self.socket = socket
        self.shared = ExecutorShared(fd: socket.fd)
        self.typeScriptPath = typeScriptPath
        pthread_getcpuclockid(pthread_self(), &mainCPUClock)
    }

    func send(_ frame: [UInt8]) { shared.send(frame) }

    func serve() {
        startMonitor()
        var ready = WireWriter(tag: MessageTag.ready.rawValue)
        ready.u64(UInt64(getpid()))
        send(ready.frame())
        while true {
            let body: [UInt8]
            do {
                body = try socket.receive()
            } catch .timedOut {
                collectWhileIdle()
                continue
            } catch {
                return
            }
            var reader = WireReader(body)
            guard let tag = try? reader.u8() else { return }
            switch MessageTag(rawValue: tag) {
            case .run:
                guard let request = try? RunRequest.decode(&reader) else { return }
                handleRun(request)
            case .compile:
                guard let request = try? CompileRequest.decode(&reader) else { return }
                send(CompileReply(id: request.id, result: compile(request.source)).encode())
            case .shutdown, nil:
                return
            case .hostReply:
                continue  // a late answer for a run that already ended
            case .ready, .hostCall, .runResult, .compileResult:
                return
            }
        }
    }

    /// How long the socket stays quiet before the executor counts as idle.
    static let idleMillis: Int32 = 200

    /// Collects the garbage that loading contexts left, then hands the allocator's free pages back to the system:
    /// what stays is what the warm contexts really keep. Only while no run waits (the socket was quiet for
    /// `idleMillis`: a receive timeout, so a busy executor pays no extra call per run), so no run pays for it.
    func collectWhileIdle() {
        collectWhenIdle = !socket.setReceiveTimeout(millis: 0)
        guard let context = workers.values.first?.context else { return }
        context.collectGarbageNow()
        _ = warden_trim_heap()
    }

    // MARK: Runs

    func handleRun(_ request: RunRequest) {
        for key in request.evict { workers[key] = nil }
        let wallStart = ProcessProbe.monotonicNanos()
        let cpuStart = ProcessProbe.threadCPUNanos()
        // The monitor's last reading (at most 10 ms old); before its first, a reading of our own: a baseline of 0
        // would charge the run with the whole process.
        let lastRSS = shared.lastRSS.load(ordering: .relaxed)
        let rssStart = lastRSS > 0 ? lastRSS : (ProcessProbe.residentBytes() ?? 0)
        shared.watch.withLock {
            $0 = RunWatch(
                active: true, runID: request.runID, cpuStart: cpuStart, cpuBudget: Int64(request.limits.cpuMillis) * 1_000_000,
                rssStart: rssStart, memoryBudget: request.limits.memoryBytes, wallStart: wallStart, maxLogBytes: request.limits.maxLogBytes)
        }
        let run = ActiveRun(
            runID: request.runID, deadline: wallStart + Int64(request.limits.wallMillis) * 1_000_000, debug: request.debug)
        current = run
        var discard = false
        var outcome: RunOutcome
        var stateJSON = ""
        let budget = ScriptEngine.Budget(cpuNanos: Int64(request.limits.cpuMillis) * 1_000_000, memoryBytes: request.limits.memoryBytes)
        let worker = workers[request.contextKey]
        (outcome, stateJSON, discard) = engine.withBudget(budget, baselineRSS: rssStart) { () -> (RunOutcome, String, Bool) in
            do {
                let warm: WarmWorker
                if let worker {
                    warm = worker
                } else {
                    guard let module = request.module else {
                        return (.threw(WorkerError(type: "Error", message: "the executor does not hold this worker's code")), "", true)
                    }
                    switch try load(key: request.contextKey, module: module) {
                    case .success(let loaded): warm = loaded
                    case .failure(let error): return (.threw(error), "", true)
                    }
                }
                return try execute(warm, run: run, request: request)
            } catch {
                return (self.outcome(for: error), "", true)
            }
        }
        if case .success = outcome, !discard, !request.discardAfter, let warm = workers[request.contextKey],
            keepsTooMuch(warm, grewBy: (ProcessProbe.residentBytes() ?? rssStart) - rssStart, budget: request.limits.memoryBytes)
        {
            // What its module keeps between runs counts against the worker, not against whoever runs next in
            // this executor: the context is dropped and the process replaced, so the memory really goes.
            outcome = .memoryLimit
            stateJSON = ""
            discard = true
        }
        if discard || request.discardAfter { workers[request.contextKey] = nil }
        current = nil
        let claimed = shared.watch.withLock { watch -> Bool in
            let wasActive = watch.active
            watch.active = false
            return wasActive
        }
        guard claimed else {
            while true { pause() }  // the monitor answered this run and is ending the process
        }
        let (logs, peak) = shared.watch.withLock { ($0.logs, max($0.peakGrowth, engine.peakMemoryGrowth)) }
        let stats = RunStats(
            cpuNanos: ProcessProbe.threadCPUNanos() - cpuStart, wallNanos: ProcessProbe.monotonicNanos() - wallStart, peakMemoryBytes: peak)
        // After a termination the VM may still hold the stopped context's microtasks; a fresh process is the only
        // state that is known to be clean, so the executor exits after answering and the parent replaces it.
        let recycle = outcome == .memoryLimit || outcome == .cpuLimit
        // The answer only of a run that succeeded (a result nested too deep, or too large, fails after `done`).
        let answer: WorkerAnswer.Reading?
        if case .success = outcome { answer = run.answer } else { answer = nil }
        send(
            RunReply(
                runID: request.runID, outcome: outcome, logs: logs, stateJSON: stateJSON, stats: stats, contextDiscarded: discard,
                recycle: recycle, answer: answer
            ).encode())
        if recycle { exit(0) }
    }

    /// Charges a run's growth of resident memory to its context (cheap, every run). Growth is not proof: garbage
    /// not yet collected, and pages the allocator keeps after collecting it, look the same. So once a charge passes
    /// the budget, a full collection measures what the VM really keeps alive: when that is within the budget, no
    /// context can keep more, and every charge starts again from zero; when it is over, the context whose charge
    /// passed is the one that keeps too much. True in that last case.
    func keepsTooMuch(_ warm: WarmWorker, grewBy growth: Int64, budget: Int64) -> Bool {
        warm.retainedBytes = max(0, warm.retainedBytes + growth)
        guard warm.retainedBytes > budget else { return false }
        guard let live = warm.context.liveHeapBytes() else { return true }  // no figures: trust the resident memory
        if live <= budget {
            for other in workers.values { other.retainedBytes = 0 }
            return false
        }
        return true
    }

    func outcome(for error: Error) -> RunOutcome {
        if let error = error as? ScriptError, error.code == .terminated {
            return error.termination == .memory ? .memoryLimit : .cpuLimit
        }
        return .threw(WorkerError(type: "Error", message: "\(error)"))
    }

    /// Loads a module into a fresh context: prelude, module code, then the built-ins frozen.
    func load(key: String, module: CompiledModule) throws -> Result<WarmWorker, WorkerError> {
        let context = try engine.makeContext(name: key)
        let installer = try context.evaluate(Prelude.source, sourceURL: Prelude.sourceURL)
        let api = try context.call(installer, [makeHost(context)])
        let wrapper: ScriptValue
        do {
            wrapper = try context.evaluate("(function (exports) {" + module.javaScript + "\n})", sourceURL: Prelude.workerURL)
        } catch  where error.code == .exception {
            return .failure(WorkerError(type: "SyntaxError", message: error.message))
        }
        let loaded = try context.call(try api.property("load"), [wrapper])
        if let errorJSON = try loaded.property("error").stringValue {
            return .failure(workerError(fromJSON: errorJSON, module: module))
        }
        let function = try loaded.property("fn")
        try context.call(try api.property("freeze"))
        let warm = WarmWorker(context: context, run: try api.property("run"), function: function, module: module)
        workers[key] = warm
        if !collectWhenIdle { collectWhenIdle = socket.setReceiveTimeout(millis: Self.idleMillis) }
        return .success(warm)
    }

    /// Runs the worker function and serves its host calls and waits until its promise settles or time is up.
    func execute(_ worker: WarmWorker, run: ActiveRun, request: RunRequest) throws -> (RunOutcome, String, Bool) {
        let context = worker.context
        try context.call(worker.run, [worker.function, context.string(request.infoJSON), context.string(request.dataJSON)])
        while run.settled == nil {
            if run.pendingCalls.isEmpty && run.waits.isEmpty {
                let error = WorkerError(type: "Error", message: "the worker's promise never settled: it waits for something that cannot happen")
                return (.threw(error), "", true)
            }
            let now = ProcessProbe.monotonicNanos()
            if now >= run.deadline { return (.wallLimit, "", true) }
            if !run.stashedReplies.isEmpty {
                let stashed = run.stashedReplies
                run.stashedReplies = []
                for reply in stashed { try settle(reply, in: run, context: context) }
            } else {
                let nextDue = run.waits.map(\.due).min().map { min($0, run.deadline) } ?? run.deadline
                if let reply = try nextReply(timeoutMillis: Self.millis(from: now, to: nextDue)) { try settle(reply, in: run, context: context) }
            }
            let time = ProcessProbe.monotonicNanos()
            let due = run.waits.filter { $0.due <= time }
            run.waits.removeAll { $0.due <= time }
            for wait in due { try context.call(wait.resolve) }
        }
        guard let settled = run.settled else { return (.wallLimit, "", true) }
        if !run.pendingCalls.isEmpty || !run.waits.isEmpty { return (.floatingPromise, "", false) }
        if !settled.ok { return (.threw(workerError(fromJSON: settled.payload, module: worker.module)), "", false) }
        let bytes = settled.payload.utf8.count
        if bytes > request.limits.maxOutputBytes { return (.outputTooLarge(bytes: bytes), "", false) }
        // State is a flat object of strings (the prelude builds it), so only its surrogates can need mending.
        let state = (try? ResultJSON.normalise(settled.state).get()) ?? settled.state
        if settled.payload.isEmpty { return (.success(resultJSON: nil), state, false) }
        switch ResultJSON.normalise(settled.payload) {
        case .success(let json): return (.success(resultJSON: json), state, false)
        case .failure:
            let message = "the worker returned a value nested deeper than \(ResultJSON.maxDepth) levels"
            return (.threw(WorkerError(type: "TypeError", message: message)), "", false)
        }
    }

    /// The answer's parts as the prelude's `readAnswer` gives them to `done` after its first three arguments.
    static func answer(_ args: HostArguments) -> WorkerAnswer.Reading {
        switch args.number(3) {
        case 1: return .nothing
        case 2: break
        default: return .unreadable(args.string(4) ?? WorkerAnswer.notJSON)
        }
        var answer = WorkerAnswer(message: args.string(8))
        switch args.number(5) {
        case 1: answer.status = .number(args.number(6) ?? 0)
        case 2: answer.status = .name(args.string(7) ?? "")
        default: break
        }
        if let path = args.string(10) { answer.modifiedRepoPath = WorkerAnswer.RepoPath(key: args.string(9), path: path) }
        // Headers are rare: they come as JSON text of [[name, [value, …]], …], strings only (lone surrogates
        // mended first, as in a result).
        if let json = args.string(11), !json.isEmpty, let mended = try? ResultJSON.normalise(json).get(),
            let list = try? JSONSerialization.jsonObject(with: Data(mended.utf8)) as? [[Any]]
        {
            answer.headers = list.compactMap { pair in
                guard pair.count == 2, let name = pair[0] as? String, let values = pair[1] as? [String] else { return nil }
                return WorkerAnswer.Header(name: name, values: values)
            }
            .sorted { $0.name < $1.name }
        }
        return .answer(answer)
    }

    /// The next host reply, or `nil` when none came within `timeoutMillis` (or another message did).
    func nextReply(timeoutMillis: Int32) throws -> HostReplyMessage? {
        guard socket.waitReadable(timeoutMillis: timeoutMillis) else { return nil }
        let body: [UInt8]
        do { body = try socket.receive() } catch .timedOut { return nil }  // the idle timeout, and nothing came after all
        var reader = WireReader(body)
        switch MessageTag(rawValue: try reader.u8()) {
        case .hostReply: return try HostReplyMessage.decode(&reader)
        case .shutdown: exit(0)
        default: return nil
        }
    }

    /// Resolves or rejects the promise of the asynchronous call `reply` answers.
    func settle(_ reply: HostReplyMessage, in run: ActiveRun, context: ScriptContext) throws {
        guard let pending = run.pendingCalls.removeValue(forKey: reply.callID) else { return }
        if reply.ok {
            try context.call(pending.resolve, [context.string(reply.payload)])
        } else {
            try context.call(pending.reject, [context.error(reply.payload)])
        }
    }

    static func millis(from now: Int64, to due: Int64) -> Int32 { Int32(clamping: max(0, (due - now + 999_999) / 1_000_000)) }

    /// Asks the pool for the run's platform token and waits for it (the worker's read of `context.platformToken` is
    /// synchronous); replies to the run's other calls that come meanwhile are kept for the run's loop.
    func platformToken(for run: ActiveRun) throws -> String {
        if let token = run.platformToken { return token }
        nextCallID += 1
        let callID = nextCallID
        send(HostCallMessage(runID: run.runID, callID: callID, kind: HostCallMessage.platformToken, payloadJSON: "{}").encode())
        while true {
            let now = ProcessProbe.monotonicNanos()
            guard now < run.deadline else { throw HostError("the run's time was up before its platform token came") }
            guard let reply = try nextReply(timeoutMillis: Self.millis(from: now, to: run.deadline)) else { continue }
            if reply.callID == callID {
                run.platformToken = reply.payload
                return reply.payload
            }
            run.stashedReplies.append(reply)
        }
    }

    func workerError(fromJSON json: String, module: CompiledModule) -> WorkerError {
        struct Described: Decodable {
            var type: String
            var message: String
            var line: Int
        }
        let cleaned = (try? ResultJSON.normalise(json).get()) ?? json
        guard let described = try? JSONDecoder().decode(Described.self, from: Data(cleaned.utf8)) else {
            return WorkerError(type: "Error", message: "the worker failed in a way that could not be described")
        }
        let line = described.line > 0 ? module.sourceLine(forGenerated: described.line) : nil
        return WorkerError(type: described.type, message: described.message, line: line)
    }

    // MARK: The host object

    func makeHost(_ context: ScriptContext) -> ScriptValue {
        let host = context.object()
        func add(_ name: String, _ body: @escaping (HostArguments) throws -> ScriptValue?) {
            try? context.setProperty(host, name, context.function(named: name, body))
        }
        add("log") { [unowned self] args in
            let level = args.string(0) ?? "info"
            if level == "debug" && self.current?.debug != true { return nil }
            let padded = level.count >= 5 ? level : level + String(repeating: " ", count: 5 - level.count)
            let message = args.string(1) ?? ""
            shared.watch.withLock { $0.append(level: padded, message: message) }
            return nil
        }
        add("done") { [unowned self] args in
            guard let run = self.current, run.settled == nil else { return nil }
            run.settled = (args[0].boolValue, args.string(1) ?? "", args.string(2) ?? "")
            if args.count > 3 { run.answer = Self.answer(args) }
            return nil
        }
        add("call") { [unowned self] args in
            guard let run = self.current else { throw HostError("no run in progress") }
            let (promise, resolve, reject) = try args.context.deferredPromise()
            nextCallID += 1
            run.pendingCalls[nextCallID] = (resolve, reject)
            send(HostCallMessage(runID: run.runID, callID: nextCallID, kind: args.string(0) ?? "", payloadJSON: args.string(1) ?? "{}").encode())
            return promise
        }
        add("platformToken") { [unowned self] args in
            guard let run = self.current else { throw HostError("no run in progress") }
            return args.context.string(try platformToken(for: run))
        }
        add("wait") { [unowned self] args in
            guard let run = self.current else { throw HostError("no run in progress") }
            let (promise, resolve, _) = try args.context.deferredPromise()
            // NaN and negative waits are no wait; the run's deadline ends any long one.
            let requested = args.number(0) ?? 0
            let millis = requested.isFinite ? max(0, min(requested, 86_400_000)) : (requested == .infinity ? 86_400_000 : 0)
            run.waits.append((ProcessProbe.monotonicNanos() + Int64(millis * 1_000_000), resolve))
            return promise
        }
        add("remaining") { [unowned self] args in
            guard let run = self.current else { return args.context.number(0) }
            return args.context.number(Double(max(0, run.deadline - ProcessProbe.monotonicNanos()) / 1_000_000))
        }
        add("hash") { args in
            let encoded = try WorkerCrypto.hash(
                algorithm: args.string(0) ?? "", data: Array((args.string(1) ?? "").utf8), encoding: args.string(2) ?? "hex")
            return args.context.string(encoded)
        }
        add("hmac") { args in
            let encoded = try WorkerCrypto.hmac(
                algorithm: args.string(0) ?? "", key: Array((args.string(1) ?? "").utf8), data: Array((args.string(2) ?? "").utf8),
                encoding: args.string(3) ?? "hex")
            return args.context.string(encoded)
        }
        add("randomBytes") { args in
            // `Int(Double)` traps on NaN, infinities and huge numbers: every one of those is a JavaScript error instead.
            let requested = args.number(0) ?? .nan
            guard requested.isFinite, requested == requested.rounded(), let count = Int(exactly: requested) else {
                throw HostError("randomBytes takes a whole number of bytes from 0 to 65536, got \(requested)")
            }
            return args.context.string(try WorkerCrypto.randomBytes(count: count, encoding: args.string(1) ?? "hex"))
        }
        return host
    }

    // MARK: Compiling

    func compile(_ source: String) -> Result<(javaScript: String, lineMap: [Int32]), CompileError> {
        do {
            let compiler = try loadCompiler()
            let budget = ScriptEngine.Budget(cpuNanos: 20_000_000_000, memoryBytes: 2 << 30)
            let result = try engine.withBudget(budget) { () throws -> ScriptValue in
                try compiler.context.call(compiler.compile, [compiler.context.string(source)])
            }
            guard let json = try compiler.context.jsonString(result) else {
                return .failure(CompileError(message: "the compiler gave no answer"))
            }
            struct Answer: Decodable {
                var ok: Bool
                var code: String?
                var lineMap: [Int32]?
                var message: String?
                var line: Int?
                var column: Int?
            }
            let answer = try JSONDecoder().decode(Answer.self, from: Data(json.utf8))
            if answer.ok, let code = answer.code {
                return .success((code, answer.lineMap ?? []))
            }
            return .failure(CompileError(message: answer.message ?? "does not compile", line: answer.line ?? 0, column: answer.column ?? 0))
        } catch let error as ScriptError where error.code == .terminated {
            compiler = nil
            return .failure(CompileError(message: "the compiler ran out of time or memory on this source"))
        } catch let error as CompileError {
            return .failure(error)
        } catch {
            compiler = nil
            return .failure(CompileError(message: "the compiler failed: \(error)"))
        }
    }

    func loadCompiler() throws -> (context: ScriptContext, compile: ScriptValue) {
        if let compiler { return compiler }
        guard let typeScript = try? String(contentsOfFile: typeScriptPath, encoding: .utf8) else {
            throw CompileError(message: "the TypeScript compiler was not found at \(typeScriptPath) (Debian package node-typescript)")
        }
        let context = try engine.makeContext(name: "compiler")
        let budget = ScriptEngine.Budget(cpuNanos: 60_000_000_000, memoryBytes: 4 << 30)
        let compile = try engine.withBudget(budget) { () throws -> ScriptValue in
            try context.evaluate(typeScript, sourceURL: "typescript.js")
            return try context.evaluate(CompilerScript.source, sourceURL: CompilerScript.sourceURL)
        }
        compiler = (context, compile)
        return (context, compile)
    }

    // MARK: The monitor thread

    /// Every 10 ms: a run over its CPU budget by more than the watchdog's slack, or over its memory budget, is
    /// answered from here and the process exits (the JavaScript thread may be stuck where JSC cannot stop it).
    func startMonitor() {
        let clock = mainCPUClock
        let shared = self.shared
        let thread = Thread {
            while true {
                usleep(10_000)
                var ts = timespec()
                clock_gettime(clock, &ts)
                let cpuNow = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
                let rss = ProcessProbe.residentBytes() ?? 0
                shared.lastRSS.store(rss, ordering: .relaxed)
                let verdict = shared.watch.withLock { watch -> (RunWatch, RunOutcome)? in
                    guard watch.active else { return nil }
                    watch.peakGrowth = max(watch.peakGrowth, rss - watch.rssStart)
                    let outcome: RunOutcome
                    if rss - watch.rssStart > watch.memoryBudget {
                        outcome = .memoryLimit
                    } else if cpuNow - watch.cpuStart > watch.cpuBudget + 250_000_000 {
                        outcome = .cpuLimit
                    } else {
                        return nil
                    }
                    watch.active = false
                    return (watch, outcome)
                }
                guard let (snapshot, outcome) = verdict else { continue }
                let stats = RunStats(
                    cpuNanos: cpuNow - snapshot.cpuStart, wallNanos: ProcessProbe.monotonicNanos() - snapshot.wallStart,
                    peakMemoryBytes: snapshot.peakGrowth)
                let reply = RunReply(
                    runID: snapshot.runID, outcome: outcome, logs: snapshot.logs, stateJSON: "", stats: stats, contextDiscarded: true,
                    recycle: true)
                shared.send(reply.encode())
                _exit(0)
            }
        }
        thread.start()
    }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
