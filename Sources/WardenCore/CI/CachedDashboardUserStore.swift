/// The dashboard users' store with sessions kept in memory by token hash, as `CachedTokenStore` keeps tokens
/// (issue 13): a page of a logged-in user costs no storage read for its session. A session made or ended through
/// this store is seen at once; one ended beside it (another server on the same database) once the cached entry is
/// older than `revalidateAfterNanos`. Expiry is checked on every use from the cached session. Unknown cookies are
/// not cached: every guess costs the read it always did.
public final class CachedDashboardUserStore: DashboardUserStore {
    let store: any DashboardUserStore
    let sessions: ReadThroughCache<String, DashboardSession>

    public init(
        _ store: any DashboardUserStore, revalidateAfterNanos: Int64 = 1_000_000_000, capacity: Int = 10_000,
        clock: @escaping @Sendable () -> Int64 = uptimeNanos
    ) {
        self.store = store
        sessions = ReadThroughCache(revalidateAfterNanos: revalidateAfterNanos, capacity: capacity, clock: clock)
    }

    public func session(tokenHash: String) async throws -> DashboardSession? {
        try await sessions.value(tokenHash) { try await store.session(tokenHash: tokenHash) }
    }

    public func createSession(tokenHash: String, userID: Int64, expiresAt: Int64) async throws {
        defer { sessions.forget([tokenHash]) }
        try await store.createSession(tokenHash: tokenHash, userID: userID, expiresAt: expiresAt)
    }

    public func deleteSession(tokenHash: String) async throws {
        // Forgotten before and after: a request that read the session while it was being ended cannot put it back.
        sessions.forget([tokenHash])
        defer { sessions.forget([tokenHash]) }
        try await store.deleteSession(tokenHash: tokenHash)
    }

    /// Forgets a session another server ended.
    public func forget(_ change: StoreChange) {
        switch change {
        case .session(let hash): sessions.forget([hash])
        case .everything: sessions.forget { _, _ in true }
        default: break
        }
    }

    public func createUser(_ user: DashboardUser) async throws -> DashboardUser { try await store.createUser(user) }
    public func user(username: String) async throws -> DashboardUser? { try await store.user(username: username) }
}
