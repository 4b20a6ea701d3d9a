#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

import JavaScriptSandbox

/// Cheap readings of this process that the budgets are checked against.
///
/// Memory is read from the kernel's resident-set figure, not `JSGetMemoryUsageStatistics`, which walks the heap
/// (139 ms at 105 MB here) and would cost more than the script it polices.
public enum ProcessProbe {
    /// CPU time the calling thread has used, in nanoseconds.
    public static func threadCPUNanos() -> Int64 {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Monotonic wall clock, in nanoseconds.
    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Resident set size of process `pid` (0 for this process) in bytes, or `nil` when /proc cannot tell
    /// (the process is gone).
    public static func residentBytes(pid: Int32 = 0) -> Int64? {
        let path = pid == 0 ? "/proc/self/statm" : "/proc/\(pid)/statm"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 127) }
        guard count > 0 else { return nil }
        let fields = buffer[0..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int64(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// The executor's budgets are measured on its own thread and process.
struct ProcessMeter: ResourceMeter {
    func threadCPUNanos() -> Int64 { ProcessProbe.threadCPUNanos() }
    func residentBytes() -> Int64? { ProcessProbe.residentBytes() }
}
