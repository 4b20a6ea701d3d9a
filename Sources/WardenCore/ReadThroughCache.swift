import Dispatch
import Synchronization

/// Values a store answered, kept in memory by key for the decorators that spare the hot path its storage reads
/// (`CachedTokenStore`, `CachedArtifactStore`). What the decorator writes through its store it forgets at once
/// (`forget`); what another process changes is seen once the entry is older than `revalidateAfterNanos`, when the
/// next use reads the store again. An absent value is never kept: every miss costs the read it always did, and a
/// flood of unknown keys cannot fill the cache. A full cache starts over rather than track use.
final class ReadThroughCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry {
        var value: Value
        var readAt: Int64
    }
    struct State {
        var entries: [Key: Entry] = [:]
        /// Bumped by every `forget`: a read that began before one does not fill the cache.
        var generation = 0
    }

    let revalidateAfterNanos: Int64
    let capacity: Int
    let clock: @Sendable () -> Int64
    let state = Mutex(State())

    /// `clock` gives monotonic nanoseconds (a test's own, or the process's).
    init(revalidateAfterNanos: Int64, capacity: Int, clock: @escaping @Sendable () -> Int64) {
        self.revalidateAfterNanos = revalidateAfterNanos
        self.capacity = capacity
        self.clock = clock
    }

    /// The kept value of `key`, or what `read` answers now (kept unless something was forgotten meanwhile).
    func value(_ key: Key, read: () async throws -> Value?) async throws -> Value? {
        let now = clock()
        let (cached, generation) = state.withLock { ($0.entries[key], $0.generation) }
        if let cached, now &- cached.readAt < revalidateAfterNanos { return cached.value }
        let value = try await read()
        state.withLock { state in
            guard let value else {
                state.entries[key] = nil
                return
            }
            guard state.generation == generation else { return }
            if state.entries.count >= capacity, state.entries[key] == nil { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: value, readAt: now)
        }
        return value
    }

    /// Forgets the entries `doomed` picks, after a write that changed them has committed.
    func forget(where doomed: (Key, Value) -> Bool) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { !doomed($0.key, $0.value.value) }
        }
    }

    func forget(_ keys: some Sequence<Key>) {
        state.withLock { state in
            state.generation &+= 1
            for key in keys { state.entries[key] = nil }
        }
    }

    /// Applies `apply` to the kept value of each change's key, in order (a key may come more than once): what a
    /// committed write did to those values in the store. Unlike `forget` it leaves reads under way free to fill
    /// the cache, so only for changes that may show up to `revalidateAfterNanos` late (a read that began before
    /// the write may keep the value without it until then): a stream of such writes must not keep every read from
    /// filling the cache.
    func update<Change>(_ changes: some Sequence<(Key, Change)>, _ apply: (Change, inout Value) -> Void) {
        state.withLock { state in
            for (key, change) in changes {
                guard var entry = state.entries.removeValue(forKey: key) else { continue }
                apply(change, &entry.value)
                state.entries[key] = entry
            }
        }
    }
}

/// The process's monotonic clock in nanoseconds, the caches' default.
public func uptimeNanos() -> Int64 { Int64(bitPattern: DispatchTime.now().uptimeNanoseconds) }
