import Foundation
import Synchronization
import Testing

import RunModel
@testable import WorkerRuntime

/// What a hostile worker must end as.
enum Expected: Sendable, CustomStringConvertible {
    case cpu, wall, memory, floating, tooLarge
    /// Stopped by the CPU limit or finished by the engine's own guard, whichever JSC picks (regex: the Yarr JIT runs
    /// until the watchdog stops it; the Yarr interpreter gives up at its backtrack limit and answers no match).
    case cpuOrEngineGuard
    case threw(type: String?, containing: String)
    case succeeded(String)

    func matches(_ outcome: RunOutcome) -> Bool {
        switch (self, outcome) {
        case (.cpuOrEngineGuard, .cpuLimit), (.cpuOrEngineGuard, .success(resultJSON: "false")):
            return true
        case (.cpu, .cpuLimit), (.wall, .wallLimit), (.memory, .memoryLimit), (.floating, .floatingPromise), (.tooLarge, .outputTooLarge):
            return true
        case (.threw(let type, let containing), .threw(let error)):
            return (type == nil || error.type == type) && (containing.isEmpty || error.message.contains(containing))
        case (.succeeded(let json), .success(let result)):
            return result == json
        default:
            return false
        }
    }

    var description: String {
        switch self {
        case .cpu: "cpu limit"
        case .cpuOrEngineGuard: "cpu limit or the engine's own guard"
        case .wall: "wall limit"
        case .memory: "memory limit"
        case .floating: "floating promise"
        case .tooLarge: "output too large"
        case .threw(let type, let text): "threw \(type ?? "any") containing '\(text)'"
        case .succeeded(let json): "success \(json)"
        }
    }
}

struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var code: String
    var expected: Expected
    /// A wall limit far above the CPU limit: the suites run in parallel on two cores, and a starved executor must not
    /// reach its wall deadline before the budget under test (CPU, memory) stops the worker.
    var limits: RunLimits = RunLimits(wallMillis: 30_000)
    var testDescription: String { name }
}

@Suite("Hostile workers")
struct HostileWorkerTests {
    static let cases: [HostileCase] = [
        HostileCase(name: "infinite loop", code: "export default async () => { for (;;) {} };", expected: .cpu),
        HostileCase(name: "endless await null", code: "export default async () => { for (;;) await null; };", expected: .cpu),
        HostileCase(
            name: "self-rescheduling then",
            code: "export default async () => { const spin = () => { Promise.resolve().then(spin); }; spin(); return new Promise(() => {}); };",
            expected: .cpu),
        HostileCase(
            name: "deep recursion", code: "const f = (n: number): number => f(n + 1) + 1;\nexport default async () => f(0);",
            expected: .threw(type: "RangeError", containing: "call stack")),
        HostileCase(
            name: "array growth", code: "export default async () => { const a = []; for (;;) a.push({ n: a.length, s: 'x' + a.length }); };",
            expected: .memory),
        HostileCase(
            name: "string doubling", code: "export default async () => { let s = 'x'; for (;;) { s = s + s; s.indexOf('y'); } };", expected: .memory),
        HostileCase(
            name: "typed array allocation", code: "export default async () => new Uint8Array(512 * 1024 * 1024).fill(1).length;", expected: .memory),
        HostileCase(
            name: "catastrophic regex", code: "export default async () => /(x+x+)+y/.test('x'.repeat(40));", expected: .cpuOrEngineGuard),
        HostileCase(name: "floating promise", code: "export default async (context) => { context.wait(10); return 1; };", expected: .floating),
        HostileCase(
            name: "floating host call", code: "export default async (context) => { context.clients.platformHttp.get('/api/slow'); return 1; };",
            expected: .floating),
        HostileCase(name: "eval", code: "export default async () => eval('1 + 1');", expected: .threw(type: "EvalError", containing: "not allowed")),
        HostileCase(
            name: "Function constructor", code: "export default async () => Function('return 1')();",
            expected: .threw(type: "EvalError", containing: "not allowed")),
        HostileCase(
            name: "constructor of a function", code: "export default async () => (function () {}).constructor('return globalThis')();",
            expected: .threw(type: "EvalError", containing: "not allowed")),
        HostileCase(
            name: "async function constructor", code: "export default async () => (async function () {}).constructor('return 1')();",
            expected: .threw(type: "EvalError", containing: "not allowed")),
        HostileCase(
            name: "WebAssembly", code: "export default async () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));",
            expected: .threw(type: "ReferenceError", containing: "WebAssembly")),
        HostileCase(
            name: "timers, require and process are absent",
            code: "export default async () => [typeof setTimeout, typeof setInterval, typeof setImmediate, typeof require, typeof process];",
            expected: .succeeded(#"["undefined","undefined","undefined","undefined","undefined"]"#)),
        HostileCase(
            name: "polluting Object.prototype at run time", code: "export default async () => { (Object.prototype as any).polluted = 1; };",
            expected: .threw(type: "TypeError", containing: "")),
        HostileCase(
            name: "replacing a built-in method", code: "export default async () => { Array.prototype.push = () => 0; };",
            expected: .threw(type: "TypeError", containing: "")),
        HostileCase(
            name: "assigning a global", code: "export default async () => { (globalThis as any).leak = 1; };",
            expected: .threw(type: "TypeError", containing: "")),
        HostileCase(
            name: "huge output", code: "export default async () => 'x'.repeat(2 * 1024 * 1024);", expected: .tooLarge),
        HostileCase(
            name: "cyclic output", code: "export default async () => { const a: any = {}; a.self = a; return a; };",
            expected: .threw(type: "TypeError", containing: "cannot be turned into JSON")),
        HostileCase(name: "throwing null", code: "export default async () => { throw null; };", expected: .threw(type: "Error", containing: "null")),
        HostileCase(
            name: "throwing undefined", code: "export default async () => { throw undefined; };",
            expected: .threw(type: "Error", containing: "undefined")),
        HostileCase(
            name: "throwing a Symbol", code: "export default async () => { throw Symbol('sym'); };",
            expected: .threw(type: "Error", containing: "Symbol(sym)")),
        HostileCase(
            name: "throwing an object whose toString throws",
            code: "export default async () => { throw { toString() { throw new Error('no'); } }; };",
            expected: .threw(type: "Error", containing: "could not be read")),
        HostileCase(
            name: "throwing an object whose getters throw",
            code: "export default async () => { throw { get name() { throw 1; }, get message() { throw 2; }, get stack() { throw 3; } }; };",
            expected: .threw(type: "Error", containing: "could not be read")),
        HostileCase(
            name: "throwing an object whose getter loops", code: "export default async () => { throw { get message() { for (;;) {} } }; };",
            expected: .cpu),
        HostileCase(
            name: "returning a looping Proxy", code: "export default async () => new Proxy({}, { get() { for (;;) {} } });", expected: .cpu),
        HostileCase(
            name: "returning looping getters", code: "export default async () => ({ get a() { for (;;) {} } });", expected: .cpu),
        HostileCase(
            name: "wait longer than the wall limit", code: "export default async (context) => { await context.wait(60000); return 1; };",
            expected: .wall, limits: RunLimits(wallMillis: 1_000)),
        HostileCase(
            name: "promise that never settles", code: "export default async () => { await new Promise(() => {}); };",
            expected: .threw(type: "Error", containing: "never settled")),
    ]

    @Test(arguments: cases)
    func hostileWorkerEndsAsNamedAndThePoolStaysHealthy(_ hostile: HostileCase) async throws {
        let result = try await Shared.run(hostile.code, limits: hostile.limits)
        #expect(hostile.expected.matches(result.outcome), "\(hostile.name): expected \(hostile.expected), got \(result.outcome)")
        if !hostile.expected.isEitherWay {
            #expect(result.executionStatus == (hostile.expected.isSuccess ? .success : .fail))
            if !hostile.expected.isSuccess { #expect(result.outcome.message?.isEmpty == false) }
        }
        try await Shared.expectHealthy()
    }

    @Test func limitMessagesAreTheReferenceServicesOnes() {
        #expect(RunOutcome.cpuLimit.message == "Worker used too much cpu time")
        #expect(RunOutcome.memoryLimit.message == "Worker used too much memory")
        #expect(RunOutcome.wallLimit.message == "Worker execution timeout")
        #expect(RunOutcome.queueWait.message == "Worker waited for too long in the queue")
        #expect(RunOutcome.floatingPromise.message == "Floating promises are not allowed. Make sure to await all promises")
    }

    @Test func pollutionAtModuleLevelStaysInsideThatWorker() async throws {
        let polluter = try await Shared.run(
            "(Object.prototype as any).polluted = 'yes';\nexport default async () => ({} as any).polluted;", worker: "polluter")
        #expect(polluter.outcome == .success(resultJSON: #""yes""#))
        for attempt in 0..<4 {
            let other = try await Shared.run("export default async () => typeof ({} as any).polluted;", worker: "clean-\(attempt)")
            #expect(other.outcome == .success(resultJSON: #""undefined""#))
        }
    }

    @Test func oneRunCannotChangeWhatTheNextRunOfTheSameWorkerSees() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let code = """
            export default async (context, data) => {
              if (data.attack) { try { (Object.prototype as any).x = 1; } catch (e) {} try { (JSON as any).parse = () => 'owned'; } catch (e) {} return 'attacked'; }
              return [typeof ({} as any).x, JSON.parse('"ok"')];
            };
            """
        let after = try await Shared.afterAnAttack(code, worker: "same", pool: pool)
        #expect(after.outcome == .success(resultJSON: #"["undefined","ok"]"#))
    }

    /// Prototypes that no global name reaches, only an instance: frozen like the rest, so a run cannot leave
    /// anything on them for the next (iterator helpers and Intl's segments were missed before).
    @Test func prototypesReachedOnlyThroughInstancesAreFrozenToo() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let code = """
            const P = Object.getPrototypeOf;
            const reached = (): Record<string, any> => ({
              arrayIterator: P([].values()), iteratorHelper: P([].values().map((x) => x)),
              wrapped: P((globalThis as any).Iterator.from({ next: () => ({ done: true }) })),
              segments: P(new Intl.Segmenter().segment('a')), segmentIterator: P(new Intl.Segmenter().segment('a')[Symbol.iterator]()),
              mapIterator: P(new Map().entries()), regExpStringIterator: P('a'.matchAll(/a/g)),
              generator: P(function* () {}), asyncFunction: P(async () => {}),
            });
            export default async (context, data) => {
              const all = reached();
              if (data.attack) { for (const name of Object.keys(all)) { try { all[name].left = name; } catch (e) {} } }
              return Object.keys(all).filter((name) => !Object.isFrozen(all[name]) || all[name].left !== undefined);
            };
            """
        let attacked = try await Shared.run(code, worker: "instances", data: #"{"attack":true}"#, pool: pool)
        #expect(attacked.outcome == .success(resultJSON: "[]"))
        let after = try await Shared.run(code, worker: "instances", data: #"{"attack":false}"#, pool: pool)
        #expect(after.outcome == .success(resultJSON: "[]"))
    }

    @Test func aWorkerCannotReadAnotherWorkersSecret() async throws {
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        let owner = try await Shared.run(
            "let kept = '';\nexport default async (context) => { kept = context.secrets.get('token'); (globalThis as any).stash = kept; return 1; };",
            worker: "owner", secrets: ["token": "owner-secret-value"], pool: pool)
        #expect(owner.outcome.executionStatus == .fail)  // assigning a global is refused after load
        let thief = try await Shared.run(
            """
            export default async (context) => JSON.stringify([context.secrets.get('token'), Object.getOwnPropertyNames(globalThis).filter(n => /stash|kept|secret/i.test(n))]);
            """, worker: "thief", pool: pool)
        #expect(thief.outcome == .success(resultJSON: #""[null,[]]""#))
    }

    @Test func logFloodIsCutAtTheLimit() async throws {
        let result = try await Shared.run(
            "export default async () => { for (let i = 0; i < 20000; i++) console.log('line ' + i + ' ' + 'x'.repeat(80)); return 'done'; };",
            limits: RunLimits(wallMillis: 30_000))
        #expect(result.outcome == .success(resultJSON: #""done""#))
        #expect(result.logs.utf8.count <= RunLimits.default.maxLogBytes + 200)
        #expect(result.logs.hasSuffix("further lines dropped"))
        try await Shared.expectHealthy()
    }

    @Test func syntaxErrorAndMissingDefaultExportAreCompileErrors() async throws {
        await #expect(throws: CompileError.self) { try await Shared.pool.compile("export default async () => {") }
        await #expect(throws: CompileError.self) { try await Shared.pool.compile("const x = 1;") }
        try await Shared.expectHealthy()
    }

    @Test func killingAnExecutorFailsOnlyTheRunInsideIt() async throws {
        let pool = try Shared.makePool(executors: 2)
        defer { pool.shutdown() }
        // Runs long enough that the kill lands inside one of them. The watcher that kills is an OS thread, not a
        // task: under a full suite the cooperative pool can wake a task seconds late, after both runs have ended.
        let waiting = try await pool.compile("export default async (context) => { await context.wait(8000); return 'survived'; };")
        let limits = RunLimits(wallMillis: 30_000)
        let killed = Mutex<(busy: Int, waited: Double, victim: Int32)?>(nil)
        let watcher = Thread {
            let started = Date()
            var busy = 0
            while busy < 2 && Date().timeIntervalSince(started) < 30 {
                busy = pool.busyExecutors
                usleep(5_000)
            }
            let victim = pool.executorPIDs[0]
            kill(victim, SIGKILL)
            killed.withLock { $0 = (busy, Date().timeIntervalSince(started), victim) }
        }
        async let first = pool.run(RunJob(workerKey: "a", module: waiting, dataJSON: "{}", limits: limits))
        async let second = pool.run(RunJob(workerKey: "b", module: waiting, dataJSON: "{}", limits: limits))
        watcher.start()
        let results = await [first, second]
        #expect(pool.isReady)
        let crashed = results.filter { if case .executorCrashed = $0.outcome { return true } else { return false } }
        let seen = killed.withLock { $0 }
        #expect(crashed.count == 1, "killed \(String(describing: seen)); outcomes \(results.map(\.outcome))")
        #expect(results.contains { $0.outcome == .success(resultJSON: #""survived""#) })
        try await Task.sleep(for: .milliseconds(100))
        #expect(pool.respawnCount == 1)
        #expect(seen.map { !pool.executorPIDs.contains($0.victim) } == true)
        try await Shared.expectHealthy(pool: pool)
    }

    @Test func aShutDownPoolIsNotReadyAndFailsRuns() async throws {
        let pool = try Shared.makePool(executors: 1)
        let module = try await pool.compile("export default async () => 1;")
        #expect(pool.isReady)
        pool.shutdown()
        #expect(!pool.isReady)
        #expect(
            await pool.run(RunJob(workerKey: "late", module: module, dataJSON: "{}")).outcome == .executorCrashed("the executor pool is shut down"))
    }

    @Test func runsWaitingTooLongInTheQueueFail() async throws {
        let pool = try Shared.makePool(executors: 1, maxQueueWait: .milliseconds(200))
        defer { pool.shutdown() }
        // The only executor is held by a run waiting at a gate, which opens only once the queued run has failed:
        // no timing decides the order, however loaded the machine.
        let name = "queue-wait-\(UUID().uuidString)"
        let gate = Gate.named(name)
        let held = try await pool.compile(
            "export default async (context) => { await context.clients.platformHttp.get('/api/gate/\(name)'); return 1; };")
        let limits = RunLimits(wallMillis: 60_000)
        async let busy = pool.run(RunJob(workerKey: "held", module: held, dataJSON: "{}", limits: limits))
        await gate.waitUntilEntered()
        let queued = await pool.run(RunJob(workerKey: "queued", module: held, dataJSON: "{}", limits: limits))
        #expect(queued.outcome == .queueWait)
        gate.open()
        #expect(await busy.outcome == .success(resultJSON: "1"))
    }
}

extension Expected {
    var isSuccess: Bool { if case .succeeded = self { return true } else { return false } }
    var isEitherWay: Bool { if case .cpuOrEngineGuard = self { return true } else { return false } }
}

@Suite("Executor process isolation")
struct ExecutorIsolationTests {
    @Test func executorsInheritNoEnvironmentAndNoDescriptorButTheirSocket() async throws {
        // A descriptor the server holds without close-on-exec, as a careless library might leave one.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-leak-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("server secret".utf8)))
        let leaked = open(path, O_RDONLY)
        #expect(leaked >= 0)
        defer {
            close(leaked)
            try? FileManager.default.removeItem(atPath: path)
        }
        let pool = try Shared.makePool(executors: 1)
        defer { pool.shutdown() }
        try await Shared.expectHealthy(pool: pool)
        let pid = try #require(pool.executorPIDs.first)
        // The environment the executor was started with (setenv inside it does not show here).
        let environment = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
        #expect(environment.isEmpty)
        var descriptors: [Int: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
            descriptors[Int(name) ?? -1] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)")) ?? "?"
        }
        // 0 and 1 are /dev/null, 2 is the server's stderr (kept for crash reports), 3 is the socket.
        #expect(descriptors[0] == "/dev/null")
        #expect(descriptors[1] == "/dev/null")
        #expect(descriptors[3]?.hasPrefix("socket:") == true)
        #expect(!descriptors.values.contains(path), "the executor inherited \(path)")
    }
}
