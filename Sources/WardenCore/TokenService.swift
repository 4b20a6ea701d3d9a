import Foundation

/// Creating, listing and revoking API tokens: admins only. A token's value is shown once, at creation.
public struct TokenService: Sendable {
    let tokens: any TokenStore
    /// New token names join the auto-join groups.
    let permissions: PermissionService?

    public init(tokens: any TokenStore, permissions: PermissionService? = nil) {
        self.tokens = tokens
        self.permissions = permissions
    }

    /// A new token and its value (never stored, never shown again).
    public func create(
        name: String, scope: String, projectKey: String?, expiresInSeconds: Int?, by principal: Principal?
    ) async throws -> (TokenRecord, value: String) {
        if let principal, !principal.isAdmin { throw WardenError(.forbidden, "only admins manage tokens") }
        guard !name.isEmpty, name.count <= 100 else { throw WardenError.invalid("name", "must be 1 to 100 characters") }
        let parsed: Principal.Scope
        switch scope {
        case "admin": parsed = .admin
        case "user": parsed = .user
        case "project-admin":
            guard let projectKey, !projectKey.isEmpty else { throw WardenError.invalid("projectKey", "is required for a project-admin token") }
            parsed = .projectAdmin(projectKey)
        default: throw WardenError.invalid("scope", "'\(scope)' is not one of admin, project-admin, user")
        }
        if let projectKey, !projectKey.isEmpty, scope != "project-admin" {
            throw WardenError.invalid("projectKey", "is only for project-admin tokens")
        }
        if let expiresInSeconds, expiresInSeconds <= 0 { throw WardenError.invalid("expiresInSeconds", "must be positive") }
        if let expiresInSeconds, expiresInSeconds > Checked.maxExpirySeconds {
            throw WardenError.invalid(
                "expiresInSeconds", "must be at most \(Checked.maxExpirySeconds) (ten years); leave it out for a token that does not expire")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let value = TokenRecord.generateValue()
        let record = TokenRecord(
            id: RandomID.uuid(), name: name, hash: TokenRecord.hash(of: value), scope: parsed, createdAt: now,
            expiresAt: expiresInSeconds.map { Checked.millis(after: now, seconds: Int64($0)) })
        try await tokens.create(record)
        try await permissions?.userCreated(name)
        return (record, value)
    }

    public func list(by principal: Principal?) async throws -> [TokenRecord] {
        if let principal, !principal.isAdmin { throw WardenError(.forbidden, "only admins manage tokens") }
        return try await tokens.all()
    }

    /// Revokes a token; the last admin token cannot be revoked (nobody could manage the server after it).
    public func revoke(id: String, by principal: Principal?) async throws {
        if let principal, !principal.isAdmin { throw WardenError(.forbidden, "only admins manage tokens") }
        let all = try await tokens.all()
        guard let record = all.first(where: { $0.id == id }) else { throw WardenError(.notFound, "token '\(id)' does not exist") }
        if record.scope == .admin && all.filter({ $0.scope == .admin }).count == 1 {
            throw WardenError(.conflict, "token '\(id)' is the last admin token; create another admin token first")
        }
        _ = try await tokens.revoke(id: id)
    }
}

extension Principal.Scope {
    /// `admin`, `project-admin` or `user`, as the API and the CLI spell it.
    public var name: String {
        switch self {
        case .admin: "admin"
        case .projectAdmin: "project-admin"
        case .user: "user"
        }
    }

    public var projectKey: String? {
        if case .projectAdmin(let project) = self { return project }
        return nil
    }
}
