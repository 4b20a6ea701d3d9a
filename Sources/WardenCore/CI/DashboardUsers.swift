import Crypto
import CryptoExtras
import Foundation

/// A dashboard (Candor) user: the password is kept as PBKDF2-HMAC-SHA256 (210,000 rounds) with a random salt.
public struct DashboardUser: Sendable, Equatable {
    public var id: Int64
    public var username: String
    public var passwordSalt: Data
    public var passwordHash: Data
    public var createdAt: Int64

    public init(id: Int64 = 0, username: String, passwordSalt: Data, passwordHash: Data, createdAt: Int64) {
        self.id = id
        self.username = username
        self.passwordSalt = passwordSalt
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// A dashboard login: its user and when it ends (milliseconds since 1970).
public struct DashboardSession: Sendable, Equatable {
    public var user: DashboardUser
    public var expiresAt: Int64

    public init(user: DashboardUser, expiresAt: Int64) {
        self.user = user
        self.expiresAt = expiresAt
    }
}

public protocol DashboardUserStore: Sendable {
    func createUser(_ user: DashboardUser) async throws -> DashboardUser
    func user(username: String) async throws -> DashboardUser?
    func createSession(tokenHash: String, userID: Int64, expiresAt: Int64) async throws
    /// The session of `tokenHash`, expired or not (the caller checks the time).
    func session(tokenHash: String) async throws -> DashboardSession?
    func deleteSession(tokenHash: String) async throws
}

/// Dashboard users, their passwords and their sessions (a cookie holds the session token; only its hash is stored).
public final class DashboardUserService: Sendable {
    let store: any DashboardUserStore
    public let sessionLifetimeMillis: Int64

    let throttle = LoginThrottle()
    /// New users join the auto-join groups.
    let permissions: PermissionService?

    public init(store: any DashboardUserStore, sessionLifetimeMillis: Int64 = 12 * 3_600_000, permissions: PermissionService? = nil) {
        self.store = store
        self.permissions = permissions
        self.sessionLifetimeMillis = sessionLifetimeMillis
    }

    static func derive(_ password: String, salt: Data) throws -> Data {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Data(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, rounds: 210_000)
        return key.withUnsafeBytes { Data($0) }
    }

    public func create(username: String, password: String, by principal: Principal) async throws -> DashboardUser {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may create dashboard users") }
        guard !username.isEmpty, username.count <= 64, username.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw WardenError.invalid("username", "must be 1 to 64 letters, digits or -_.@")
        }
        guard password.count >= 8 else { throw WardenError.invalid("password", "must have at least 8 characters") }
        if try await store.user(username: username) != nil { throw WardenError(.conflict, "user '\(username)' already exists") }
        var salt = Data(count: 16)
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255) }
        let user = try await store.createUser(
            DashboardUser(
                username: username, passwordSalt: salt, passwordHash: try Self.derive(password, salt: salt),
                createdAt: Int64(Date().timeIntervalSince1970 * 1000)))
        try await permissions?.userCreated(username)
        return user
    }

    public func exists(username: String) async throws -> Bool { try await store.user(username: username) != nil }

    /// A new session token for the right password; `nil` for a wrong user or password (the same answer for both).
    /// Checks a password, after the throttle agrees (`address` is the client's, for its own count).
    public func login(username: String, password: String, address: String = "") async throws -> (DashboardUser, String)? {
        if let seconds = throttle.wait(username: username, address: address) {
            throw WardenError(.tooManyRequests, "too many failed logins for this user or from this address; try again in \(seconds) s")
        }
        guard let answer = try await check(username: username, password: password) else {
            throttle.failed(username: username, address: address)
            return nil
        }
        throttle.succeeded(username: username)
        return answer
    }

    func check(username: String, password: String) async throws -> (DashboardUser, String)? {
        guard let user = try await store.user(username: username) else {
            _ = try Self.derive(password, salt: Data(count: 16))  // the same work as a real check
            return nil
        }
        let hash = try Self.derive(password, salt: user.passwordSalt)
        guard hash.count == user.passwordHash.count, zip(hash, user.passwordHash).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        let token = TokenRecord.generateValue()
        try await store.createSession(
            tokenHash: TokenRecord.hash(of: token), userID: user.id, expiresAt: Int64(Date().timeIntervalSince1970 * 1000) + sessionLifetimeMillis)
        return (user, token)
    }

    /// The user of a session that has not ended at `now`.
    public func user(session token: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) async throws -> DashboardUser? {
        guard let session = try await store.session(tokenHash: TokenRecord.hash(of: token)), now < session.expiresAt else { return nil }
        return session.user
    }

    public func logout(session token: String) async throws {
        try await store.deleteSession(tokenHash: TokenRecord.hash(of: token))
    }
}
