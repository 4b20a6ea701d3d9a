extension Duration {
    /// The whole nanoseconds of a duration (saturating past ±292 years).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowed) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowed ? (seconds < 0 ? .min : .max) : sum
    }
}

/// Per-run limits (spec §10); the defaults are the reference service's.
public struct RunLimits: Sendable, Equatable {
    public var cpuMillis: Int
    public var wallMillis: Int
    public var memoryBytes: Int64
    /// Largest JSON text a worker may return.
    public var maxOutputBytes: Int
    /// Log text kept per run; lines past it are dropped with one marker line.
    public var maxLogBytes: Int

    public init(
        cpuMillis: Int = 1_000, wallMillis: Int = 5_000, memoryBytes: Int64 = 64 << 20, maxOutputBytes: Int = 1 << 20,
        maxLogBytes: Int = 100_000
    ) {
        self.cpuMillis = cpuMillis
        self.wallMillis = wallMillis
        self.memoryBytes = memoryBytes
        self.maxOutputBytes = maxOutputBytes
        self.maxLogBytes = maxLogBytes
    }

    public static let `default` = RunLimits()
    /// The largest worker source accepted, in characters.
    public static let maxCodeCharacters = 100_000
}
