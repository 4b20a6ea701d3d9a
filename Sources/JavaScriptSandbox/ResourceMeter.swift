/// Where a budget's CPU and memory figures come from. The engine asks when a budgeted call begins and each time its
/// watchdog fires; the embedding says how its process is measured (the executor reads the thread's CPU clock and
/// /proc), so that the sandbox is about JavaScriptCore alone and its tests can drive the watchdog with set figures.
public protocol ResourceMeter {
    /// CPU time the calling thread has used, in nanoseconds.
    func threadCPUNanos() -> Int64
    /// Resident memory of this process in bytes, or `nil` when it cannot be read.
    func residentBytes() -> Int64?
}
