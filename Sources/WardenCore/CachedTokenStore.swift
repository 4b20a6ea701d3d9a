/// The token store with the verified tokens kept in memory by hash, so that a known token costs no storage read
/// (issue 13): a token made or revoked through this store is seen at once; a change made beside it (the `warden
/// token` command on the same database, another server on the same PostgreSQL) is seen once the cached entry is
/// older than `revalidateAfterNanos`, when the next request reads the store again. Expiry is checked on every use
/// from the cached record. Unknown values are not cached: every guess costs the read it always did.
public final class CachedTokenStore: TokenStore {
    let store: any TokenStore
    let cache: ReadThroughCache<String, TokenRecord>

    public init(
        _ store: any TokenStore, revalidateAfterNanos: Int64 = 1_000_000_000, capacity: Int = 10_000,
        clock: @escaping @Sendable () -> Int64 = uptimeNanos
    ) {
        self.store = store
        cache = ReadThroughCache(revalidateAfterNanos: revalidateAfterNanos, capacity: capacity, clock: clock)
    }

    public func token(hash: String) async throws -> TokenRecord? {
        try await cache.value(hash) { try await store.token(hash: hash) }
    }

    public func create(_ token: TokenRecord) async throws {
        try await store.create(token)
        cache.forget([token.hash])
    }

    public func all() async throws -> [TokenRecord] { try await store.all() }

    public func revoke(id: String) async throws -> Bool {
        // Forgotten before and after: a request that read the token while it was being revoked cannot put it back.
        forget(id: id)
        defer { forget(id: id) }
        return try await store.revoke(id: id)
    }

    func forget(id: String) { cache.forget { $1.id == id } }

    /// Forgets a token another server revoked.
    public func forget(_ change: StoreChange) {
        switch change {
        case .token(let id): forget(id: id)
        case .everything: cache.forget { _, _ in true }
        default: break
        }
    }
}
