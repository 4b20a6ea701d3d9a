import Testing

@testable import JavaScriptSandbox

/// Figures that move by a fixed step at every reading, so that a budget runs out after a known number of watchdog
/// firings whatever the machine's speed (the executor's real readings are tested in WorkerRuntimeTests).
final class SteppingMeter: ResourceMeter {
    let cpuStep: Int64
    let memoryStep: Int64
    private(set) var readings = 0

    init(cpuStep: Int64 = 0, memoryStep: Int64 = 0) {
        self.cpuStep = cpuStep
        self.memoryStep = memoryStep
    }

    func threadCPUNanos() -> Int64 {
        readings += 1
        return Int64(readings) * cpuStep
    }

    func residentBytes() -> Int64? { Int64(readings) * memoryStep }
}

@Suite("Script engine")
struct ScriptContextTests {
    let engine: ScriptEngine
    init() throws { engine = try ScriptEngine(meter: SteppingMeter()) }

    @Test func evaluatesAndConvertsJSON() throws {
        let context = try engine.makeContext(name: "t")
        let value = try context.evaluate("({a: [1, 'x\\u0000y', null], b: 'é🙂'})", sourceURL: "t")
        #expect(try context.jsonString(value) == #"{"a":[1,"x\u0000y",null],"b":"é🙂"}"#)
        let parsed = try context.parseJSON(#"{"k":"v"}"#)
        #expect(try parsed.property("k").stringValue == "v")
    }

    @Test func stringsKeepNULAndReplaceLoneSurrogates() throws {
        let context = try engine.makeContext(name: "t")
        #expect(try context.evaluate("'a\\u0000b'", sourceURL: "t").stringValue == "a\u{0}b")
        #expect(try context.evaluate("'x\\uD800y'", sourceURL: "t").stringValue == "x\u{FFFD}y")
        #expect(context.string("in\u{0}side").stringValue == "in\u{0}side")
        #expect(context.string("é🙂").stringValue == "é🙂")
    }

    @Test func webAssemblyAndEvalAreOff() throws {
        let context = try engine.makeContext(name: "t")
        #expect(try context.evaluate("typeof WebAssembly", sourceURL: "t").stringValue == "undefined")
        for code in [
            "eval('1')", "Function('return 1')()", "(function(){}).constructor('return 1')()", "(async function(){}).constructor('return 1')",
        ] {
            #expect(throws: ScriptError.self) { try context.evaluate(code, sourceURL: "t") }
        }
    }

    @Test func hostFunctionsReceiveArgumentsAndThrow() throws {
        let context = try engine.makeContext(name: "t")
        let add = context.function(named: "add") { args in
            args.context.number((args.number(0) ?? 0) + (args.number(1) ?? 0))
        }
        let fail = context.function(named: "fail") { _ in throw ScriptError(code: .invalidArgument, message: "nope") }
        try context.setProperty(context.globalObject, "add", add)
        try context.setProperty(context.globalObject, "fail", fail)
        #expect(try context.evaluate("add(2, 3)", sourceURL: "t").numberValue == 5)
        #expect(try context.evaluate("try { fail() } catch (e) { e instanceof Error && e.message.includes('nope') }", sourceURL: "t").boolValue)
    }

    @Test func syncInfiniteLoopIsStoppedByCPUBudget() throws {
        let meter = SteppingMeter(cpuStep: 100_000_000)
        let engine = try ScriptEngine(meter: meter)
        let context = try engine.makeContext(name: "t")
        let error = #expect(throws: ScriptError.self) {
            try engine.withBudget(.init(cpuNanos: 200_000_000, memoryBytes: 1 << 30)) {
                try context.evaluate("for(;;){}", sourceURL: "t")
            }
        }
        #expect(error?.termination == .cpuTime)
        // The budget starts at the 100 ms reading; the firings read 200 and 300 ms (100 and 200 used: within it),
        // then 400 ms (300 used: over it).
        #expect(meter.readings == 4)
        #expect(context.isTerminated)
        // The engine goes on for other contexts.
        let other = try engine.makeContext(name: "u")
        #expect(try other.evaluate("1+1", sourceURL: "u").numberValue == 2)
    }

    @Test func deferredPromiseSettledFromSwiftRunsMicrotasks() throws {
        let context = try engine.makeContext(name: "t")
        let (promise, resolve, _) = try context.deferredPromise()
        try context.setProperty(context.globalObject, "p", promise)
        try context.evaluate("globalThis.out = 'pending'; p.then(v => { globalThis.out = 'got ' + v })", sourceURL: "t")
        #expect(try context.globalObject.property("out").stringValue == "pending")
        try context.call(resolve, [context.string("x")])
        #expect(try context.globalObject.property("out").stringValue == "got x")
    }

    @Test func memoryBudgetStopsGrowth() throws {
        let engine = try ScriptEngine(meter: SteppingMeter(memoryStep: 40 << 20))
        let context = try engine.makeContext(name: "t")
        let error = #expect(throws: ScriptError.self) {
            try engine.withBudget(.init(cpuNanos: 5_000_000_000, memoryBytes: 64 << 20)) {
                try context.evaluate("const a = []; for(;;) a.push({x: a.length})", sourceURL: "t")
            }
        }
        #expect(error?.termination == .memory)
        #expect(engine.peakMemoryGrowth > 64 << 20)
    }
}
