import Crypto
import Foundation
import WorkerRuntime

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

    public init(name: String, scope: Scope) {
        self.name = name
        self.scope = scope
    }

    public var isAdmin: Bool { scope == .admin }

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

    public init(id: String, name: String, hash: String, scope: Principal.Scope, createdAt: Int64, expiresAt: Int64? = nil) {
        self.id = id
        self.name = name
        self.hash = hash
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public static func hash(of value: String) -> String {
        Hex.string(SHA256.hash(data: Data(value.utf8)))
    }

    /// A new random token value (256 bits, URL-safe).
    public static func generateValue() -> String {
        // 32 random bytes in unpadded base64url (43 characters), written directly: tokens are minted per run.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = Array("wdn_".utf8)
        out.reserveCapacity(47)
        var bits: UInt32 = 0
        var count = 0
        for _ in 0..<32 {
            bits = (bits << 8) | UInt32(UInt8.random(in: .min ... .max, using: &generator))
            count += 8
            while count >= 6 {
                count -= 6
                out.append(alphabet[Int((bits >> UInt32(count)) & 63)])
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
