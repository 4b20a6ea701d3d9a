import CJavaScriptCore

#if canImport(Glibc)
    import Glibc
#endif

/// One JavaScriptCore VM (a context group) with the limits that make it safe to run untrusted code in.
///
/// The engine is confined to the thread that created it: JavaScriptCore's API lock would serialise other threads
/// anyway, and the watchdog measures the CPU time of the calling thread.
///
/// Budgets: JSC's execution time limit is armed at `watchdogPeriod` and re-armed from its own callback (returning
/// false does not re-arm on this JSC). Each firing compares the CPU time and resident memory used since
/// `withBudget` began against the budget and terminates the script when either ran out. A ~50 ms period costs a few
/// percent on CPU-bound code; ~10 ms cost 2.7x, measured on this machine's JSC. Work that never returns to the
/// watchdog (an endless microtask chain) must be stopped from outside: that is the executor's job.
public final class ScriptEngine {
    /// A CPU and memory allowance for the script calls made inside `withBudget`.
    public struct Budget: Sendable {
        public var cpuNanos: Int64
        public var memoryBytes: Int64
        public init(cpuNanos: Int64, memoryBytes: Int64) {
            self.cpuNanos = cpuNanos
            self.memoryBytes = memoryBytes
        }
    }

    struct ActiveBudget {
        let budget: Budget
        let startCPU: Int64
        let startRSS: Int64
    }

    let group: ContextGroup
    let watchdogPeriod: Double
    let meter: any ResourceMeter
    var active: ActiveBudget?
    /// Set by the watchdog when it stops a script; read and cleared by `ScriptContext` after each API call.
    var pendingTermination: Termination?
    /// Highest resident memory seen by the watchdog inside the current budget, above its start.
    public private(set) var peakMemoryGrowth: Int64 = 0

    /// Must run before the first VM of the process exists: JSC reads its options once, from the environment.
    /// WebAssembly is switched off because a wasm loop does not return to the watchdog.
    public static func configureProcess() {
        setenv("JSC_useWasm", "false", 1)
    }

    /// True when this JavaScriptCore exports the private calls the sandbox depends on.
    public static var isSupported: Bool { warden_jsc_private_api_available() }

    /// The JavaScriptCore library's version ("2.50.6"), or nil when it does not say.
    public static var libraryVersion: String? {
        var major: UInt32 = 0
        var minor: UInt32 = 0
        var micro: UInt32 = 0
        guard warden_jsc_version(&major, &minor, &micro) else { return nil }
        return "\(major).\(minor).\(micro)"
    }

    public init(meter: any ResourceMeter, watchdogPeriod: Double = 0.05) throws(ScriptError) {
        guard Self.isSupported else {
            throw ScriptError(
                code: .engineUnavailable,
                message: "this JavaScriptCore lacks JSContextGroupSetExecutionTimeLimit or JSGlobalContextSetEvalEnabled"
            )
        }
        Self.configureProcess()
        self.group = try ContextGroup()
        self.watchdogPeriod = watchdogPeriod
        self.meter = meter
        arm()
    }

    deinit { JSContextGroupClearExecutionTimeLimit(group.ref) }

    /// A fresh global context in this engine, with `eval` and the `Function` constructors disabled.
    public func makeContext(name: String) throws(ScriptError) -> ScriptContext {
        try ScriptContext(engine: self, name: name)
    }

    /// Runs `body` with `budget` in force for every script call it makes. A call that outruns the budget throws a
    /// `ScriptError` with code `.terminated`; the context it ran in must then be discarded.
    ///
    /// `baselineRSS` is the resident memory the memory budget counts from; an embedding that samples it anyway
    /// passes its latest sample, which spares two /proc reads per call (they cost more than a warm run).
    public func withBudget<T>(_ budget: Budget, baselineRSS: Int64? = nil, _ body: () throws -> T) rethrows -> T {
        let rss = baselineRSS ?? meter.residentBytes() ?? 0
        active = ActiveBudget(budget: budget, startCPU: meter.threadCPUNanos(), startRSS: rss)
        peakMemoryGrowth = 0
        defer {
            if baselineRSS == nil, let now = meter.residentBytes() { peakMemoryGrowth = max(peakMemoryGrowth, now - rss) }
            active = nil
        }
        return try body()
    }

    func arm() {
        JSContextGroupSetExecutionTimeLimit(group.ref, watchdogPeriod, scriptEngineWatchdog, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Decides, each time the time limit fires, whether the running script must stop.
    func watchdogFired() -> Bool {
        if let active {
            let cpu = meter.threadCPUNanos() - active.startCPU
            if cpu > active.budget.cpuNanos {
                pendingTermination = .cpuTime
                return true
            }
            if let rss = meter.residentBytes() {
                let growth = rss - active.startRSS
                peakMemoryGrowth = max(peakMemoryGrowth, growth)
                if growth > active.budget.memoryBytes {
                    pendingTermination = .memory
                    return true
                }
            }
        }
        arm()
        return false
    }

    func takeTermination() -> Termination? {
        defer { pendingTermination = nil }
        return pendingTermination
    }
}

private func scriptEngineWatchdog(_ context: JSContextRef?, _ info: UnsafeMutableRawPointer?) -> Bool {
    guard let info else { return true }
    return Unmanaged<ScriptEngine>.fromOpaque(info).takeUnretainedValue().watchdogFired()
}
