import Synchronization

/// A monotonic clock the caches' tests move by hand (the caches take their clock as a function).
final class ManualClock: Sendable {
    let nanos = Atomic<Int64>(0)
    func advance(milliseconds: Int64) { nanos.add(milliseconds * 1_000_000, ordering: .relaxed) }
    func advance(seconds: Int64) { advance(milliseconds: seconds * 1_000) }
    var read: @Sendable () -> Int64 { { self.nanos.load(ordering: .relaxed) } }
}
