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
    /// (the process is gone). This process's own figure is read through a descriptor kept open: an executor reads
    /// it after every run and every 10 ms, and opening the file each time cost ~2.5% of a hooked download (perf).
    public static func residentBytes(pid: Int32 = 0) -> Int64? {
        if pid == 0, selfStatm >= 0 { return residentBytes(fd: selfStatm) }
        let fd = open(pid == 0 ? "/proc/self/statm" : "/proc/\(pid)/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return residentBytes(fd: fd)
    }

    /// This process's `statm`, open for its lifetime (-1 when /proc is not there); `pread` at 0 reads it afresh.
    static let selfStatm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// The second field of a `statm` (resident pages), in bytes.
    static func residentBytes(fd: Int32) -> Int64? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer -> Int64? in
            let count = pread(fd, buffer.baseAddress, 128, 0)
            guard count > 0 else { return nil }
            var field = 0
            var pages: Int64 = 0
            var digits = 0
            for byte in buffer[0..<count] {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                    if field == 1 { break }
                    field += 1
                } else if field == 1 {
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
                    pages = pages * 10 + Int64(byte - UInt8(ascii: "0"))
                    digits += 1
                }
            }
            guard digits > 0 else { return nil }
            return pages * pageSize
        }
    }
}

/// The executor's budgets are measured on its own thread and process.
struct ProcessMeter: ResourceMeter {
    func threadCPUNanos() -> Int64 { ProcessProbe.threadCPUNanos() }
    func residentBytes() -> Int64? { ProcessProbe.residentBytes() }
}
