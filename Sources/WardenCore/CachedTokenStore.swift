import Dispatch
import Synchronization

/// The token store with the verified tokens kept in memory by hash, so that a known token costs no storage read
/// (issue 13): a token made or revoked through this store is seen at once; a change made beside it (the `warden
/// token` command on the same database, another server on the same PostgreSQL) is seen once the cached entry is
/// older than `revalidateAfterNanos`, when the next request reads the store again. Expiry is checked on every use
/// from the cached record. Unknown values are not cached: every guess costs the read it always did.
public final class CachedTokenStore: TokenStore {
    struct Entry {
        var record: TokenRecord
        var readAt: Int64
    }

    let store: any TokenStore
    let revalidateAfterNanos: Int64
    let capacity: Int
    let clock: @Sendable () -> Int64
    struct State {
        var entries: [String: Entry] = [:]
        /// Bumped by every revoke: a read that began before one does not fill the cache.
        var generation = 0
    }
    let state = Mutex(State())

    /// `clock` gives monotonic nanoseconds (a test's own, or the process's).
    public init(
        _ store: any TokenStore, revalidateAfterNanos: Int64 = 1_000_000_000, capacity: Int = 10_000,
        clock: @escaping @Sendable () -> Int64 = { Int64(bitPattern: DispatchTime.now().uptimeNanoseconds) }
    ) {
        self.store = store
        self.revalidateAfterNanos = revalidateAfterNanos
        self.capacity = capacity
        self.clock = clock
    }

    public func token(hash: String) async throws -> TokenRecord? {
        let now = clock()
        let (cached, generation) = state.withLock { ($0.entries[hash], $0.generation) }
        if let cached, now &- cached.readAt < revalidateAfterNanos { return cached.record }
        let record = try await store.token(hash: hash)
        state.withLock { state in
            guard let record else {
                state.entries[hash] = nil
                return
            }
            guard state.generation == generation else { return }
            // A full cache starts over rather than track use: it holds the tokens of the last second or so.
            if state.entries.count >= capacity, state.entries[hash] == nil { state.entries.removeAll(keepingCapacity: true) }
            state.entries[hash] = Entry(record: record, readAt: now)
        }
        return record
    }

    public func create(_ token: TokenRecord) async throws {
        try await store.create(token)
        state.withLock { _ = $0.entries.removeValue(forKey: token.hash) }
    }

    public func all() async throws -> [TokenRecord] { try await store.all() }

    public func revoke(id: String) async throws -> Bool {
        // Forgotten before and after: a request that read the token while it was being revoked cannot put it back.
        forget(id: id)
        defer { forget(id: id) }
        return try await store.revoke(id: id)
    }

    func forget(id: String) {
        state.withLock { state in
            state.generation &+= 1
            state.entries = state.entries.filter { $0.value.record.id != id }
        }
    }
}
