import Foundation
import Testing

@testable import WardenCore
@testable import WardenStorage

/// Dashboard sessions from memory (issue 13), over the real store: a known session is not read again until it is
/// a second old, a logout through the service is seen on the very next request, expiry is checked on every use.
@Suite("Dashboard sessions from memory")
struct CachedDashboardUserStoreTests {
    let storage: SQLiteStorage
    let clock = ManualClock()
    let service: DashboardUserService
    let admin = Principal(name: "admin", scope: .admin)

    init() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-sessions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        storage = try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path)
        service = DashboardUserService(store: CachedDashboardUserStore(storage, clock: clock.read))
        _ = try await service.create(username: "ada", password: "correct horse", by: admin)
    }

    func login() async throws -> String { try #require(try await service.login(username: "ada", password: "correct horse")).1 }

    @Test func aSessionEndedBesideTheCacheIsSeenOnceItIsASecondOld() async throws {
        let token = try await login()
        #expect(try await service.user(session: token)?.username == "ada")
        try await storage.deleteSession(tokenHash: TokenRecord.hash(of: token))
        clock.advance(milliseconds: 999)
        #expect(try await service.user(session: token)?.username == "ada")
        clock.advance(milliseconds: 1)
        #expect(try await service.user(session: token) == nil)
    }

    @Test func aLogoutIsSeenOnTheNextRequest() async throws {
        let token = try await login()
        #expect(try await service.user(session: token) != nil)
        try await service.logout(session: token)
        #expect(try await service.user(session: token) == nil)
    }

    @Test func anEndedSessionIsRefusedFromTheCache() async throws {
        let token = try await login()
        let session = try #require(try await storage.session(tokenHash: TokenRecord.hash(of: token)))
        #expect(try await service.user(session: token, now: session.expiresAt - 1)?.username == "ada")
        // Gone from the store: only the cached session can answer, and it has ended.
        try await storage.deleteSession(tokenHash: TokenRecord.hash(of: token))
        #expect(try await service.user(session: token, now: session.expiresAt) == nil)
        #expect(try await service.user(session: token, now: session.expiresAt - 1)?.username == "ada")
    }

    @Test func anUnknownCookieIsNotKept() async throws {
        let value = TokenRecord.generateValue()
        #expect(try await service.user(session: value) == nil)
        let user = try #require(try await storage.user(username: "ada"))
        try await storage.createSession(tokenHash: TokenRecord.hash(of: value), userID: user.id, expiresAt: Int64.max)
        #expect(try await service.user(session: value)?.username == "ada")
    }
}
