import Crypto
import Foundation
import RunModel

/// Who is calling, as established by a token.
public struct Principal: Sendable, Equatable {
    public enum Scope: Sendable, Equatable {
        case admin
        /// Manages the workers of one project.
        case projectAdmin(String)
        /// May execute shared GENERIC_EVENT workers.
        case user
    }

    public var name: String
    public var scope: Scope
    /// How many worker runs deep this caller is: 0 for a person or a stored token; a worker run's own token is its
    /// run's depth + 1. Events its requests fire run at this depth, and past `EventDepth.limit` they do not run,
    /// so a worker whose writes fire itself cannot loop.
    public var eventDepth: Int
    /// Whose rights in repositories this caller has (docs/permissions.md): its own by default; a worker run's
    /// token has its owner's, narrowed to the worker's manifest; a runner's upload token only its run's folder.
    public var repositoryRights: RepositoryRights
    /// May list the tokens' metadata (never their values) without being an admin: the run token of a worker bound
    /// to a token event, which an admin made (a token policy counts a subject's tokens, as the published one does).
    public var readsTokens: Bool

    public init(name: String, scope: Scope, eventDepth: Int = 0, repositoryRights: RepositoryRights = .granted, readsTokens: Bool = false) {
        self.name = name
        self.scope = scope
        self.eventDepth = eventDepth
        self.repositoryRights = repositoryRights
        self.readsTokens = readsTokens
    }

    /// A worker's own call (its `platformToken`): it already holds an executor.
    public var isWorkerRun: Bool { eventDepth > 0 }

    public var isAdmin: Bool { scope == .admin }

    /// A token that may do nothing but what it was made for (a runner's upload token: write its run's archives).
    public var isConfinedToItsReach: Bool {
        if case .only = repositoryRights { return true }
        return false
    }

    /// May manage (create, change, read, test, see the history of) workers of `projectKey`.
    public func canManage(projectKey: String) -> Bool {
        switch scope {
        case .admin: return true
        case .projectAdmin(let project): return !projectKey.isEmpty && project == projectKey
        case .user: return false
        }
    }
}

/// A stored API token: never its value, only the value's SHA-256.
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var hash: String
    public var scope: Principal.Scope
    public var createdAt: Int64
    public var expiresAt: Int64?
    /// Free text given at creation (the Access API's `description`).
    public var description: String

    public init(
        id: String, name: String, hash: String, scope: Principal.Scope, createdAt: Int64, expiresAt: Int64? = nil, description: String = ""
    ) {
        self.id = id
        self.name = name
        self.hash = hash
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.description = description
    }

    public static func hash(of value: String) -> String {
        Hex.string(SHA256.hash(data: Data(value.utf8)))
    }

    /// A new random token value (256 bits, URL-safe).
    public static func generateValue() -> String {
        // 32 random bytes in unpadded base64url (43 characters), written directly: tokens are minted per run.
        // Four 64-bit draws (one getrandom each), not 32 byte-sized ones.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = Array("wdn_".utf8)
        out.reserveCapacity(47)
        var bits: UInt32 = 0
        var count = 0
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 56, through: 0, by: -8) {
                bits = (bits << 8) | UInt32(truncatingIfNeeded: word >> UInt64(shift))
                count += 8
                while count >= 6 {
                    count -= 6
                    out.append(alphabet[Int((bits >> UInt32(count)) & 63)])
                }
            }
        }
        if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 63)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Turns presented token values into principals.
public struct Authenticator: Sendable {
    let tokens: any TokenStore
    let workerTokens: WorkerTokens?

    public init(tokens: any TokenStore, workerTokens: WorkerTokens? = nil) {
        self.tokens = tokens
        self.workerTokens = workerTokens
    }

    /// The principal for `value`; `.unauthorized` when no live token has it.
    public func principal(forToken value: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) async throws -> Principal {
        if let principal = workerTokens?.principal(for: value) { return principal }
        guard !value.isEmpty, let record = try await tokens.token(hash: TokenRecord.hash(of: value)) else {
            throw WardenError(.unauthorized, "the token is not valid")
        }
        if let expiry = record.expiresAt, expiry <= now { throw WardenError(.unauthorized, "the token has expired") }
        return Principal(name: record.name, scope: record.scope)
    }
}

/// The guard against workers that fire themselves (an AFTER_CREATE worker that uploads into its own repository).
public enum EventDepth {
    /// Runs caused by a chain of more worker writes than this are not run; the refusal is recorded in history.
    public static let limit = 3
}
