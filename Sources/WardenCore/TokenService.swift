import Foundation

/// Creating, listing and revoking API tokens: admins only. A token's value is shown once, at creation. Every way
/// in (the worker API's tokens, the Access API, `warden token` on a running server's database) comes here; with an
/// event dispatcher, BEFORE_CREATE_TOKEN and BEFORE_REVOKE_TOKEN workers decide first.
public struct TokenService: Sendable {
    let tokens: any TokenStore
    /// New token names join the auto-join groups.
    let permissions: PermissionService?
    /// Runs the token policies (absent for the offline `warden token` command, which has no executors).
    let events: EventDispatcher?
    /// Names subjects in the policies' payloads and the Access API's answers.
    public let address: ServerAddress

    public init(
        tokens: any TokenStore, permissions: PermissionService? = nil, events: EventDispatcher? = nil, address: ServerAddress = ServerAddress("")
    ) {
        self.tokens = tokens
        self.permissions = permissions
        self.events = events
        self.address = address
    }

    /// A token about to be made, as the worker API and the Access API describe it.
    public struct Spec: Sendable {
        public var name: String
        public var scope: Principal.Scope
        public var expiresInSeconds: Int?
        public var description: String

        public init(name: String, scope: Principal.Scope, expiresInSeconds: Int?, description: String = "") {
            self.name = name
            self.scope = scope
            self.expiresInSeconds = expiresInSeconds
            self.description = description
        }
    }

    /// A new token and its value (never stored, never shown again), from the worker API's fields.
    public func create(
        name: String, scope: String, projectKey: String?, expiresInSeconds: Int?, by principal: Principal?
    ) async throws -> (TokenRecord, value: String) {
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
        return try await create(Spec(name: name, scope: parsed, expiresInSeconds: expiresInSeconds), by: principal)
    }

    /// A new token and its value, once the BEFORE_CREATE_TOKEN workers agree (a STOP refuses it with 403).
    public func create(_ spec: Spec, by principal: Principal?, expiresField: String = "expiresInSeconds") async throws -> (
        TokenRecord, value: String
    ) {
        if let principal, !principal.isAdmin { throw WardenError(.forbidden, "only admins manage tokens") }
        guard !spec.name.isEmpty, spec.name.count <= 100 else { throw WardenError.invalid("name", "must be 1 to 100 characters") }
        guard spec.description.count <= 1_000 else { throw WardenError.invalid("description", "must be at most 1000 characters") }
        if case .projectAdmin(let project) = spec.scope, project.isEmpty || project.count > 64 {
            throw WardenError.invalid("projectKey", "must be 1 to 64 characters")
        }
        if let seconds = spec.expiresInSeconds, seconds <= 0 { throw WardenError.invalid(expiresField, "must be positive") }
        if let seconds = spec.expiresInSeconds, seconds > Checked.maxExpirySeconds {
            throw WardenError.invalid(
                expiresField, "must be at most \(Checked.maxExpirySeconds) (ten years); leave it out for a token that does not expire")
        }
        try await requirePolicy(.beforeCreateToken, subject: "a token for '\(spec.name)'", by: principal) {
            Payloads.beforeCreateToken(spec, by: principal, address: self.address)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let value = TokenRecord.generateValue()
        let record = TokenRecord(
            id: RandomID.uuid(), name: spec.name, hash: TokenRecord.hash(of: value), scope: spec.scope, createdAt: now,
            expiresAt: spec.expiresInSeconds.map { Checked.millis(after: now, seconds: Int64($0)) }, description: spec.description)
        try await tokens.create(record)
        try await permissions?.userCreated(spec.name)
        return (record, value)
    }

    /// Every token's metadata (never a value): for admins, and for the run of a worker bound to a token event.
    public func list(by principal: Principal?) async throws -> [TokenRecord] {
        if let principal, !principal.isAdmin && !principal.readsTokens { throw WardenError(.forbidden, "only admins manage tokens") }
        return try await tokens.all()
    }

    /// One token's metadata.
    public func token(id: String, by principal: Principal?) async throws -> TokenRecord {
        guard let record = try await list(by: principal).first(where: { $0.id == id }) else {
            throw WardenError(.notFound, "token '\(id)' does not exist")
        }
        return record
    }

    /// Revokes a token once the BEFORE_REVOKE_TOKEN workers agree; the last admin token cannot be revoked (nobody
    /// could manage the server after it).
    public func revoke(id: String, by principal: Principal?) async throws {
        if let principal, !principal.isAdmin { throw WardenError(.forbidden, "only admins manage tokens") }
        let all = try await tokens.all()
        guard let record = all.first(where: { $0.id == id }) else { throw WardenError(.notFound, "token '\(id)' does not exist") }
        if record.scope == .admin && all.filter({ $0.scope == .admin }).count == 1 {
            throw WardenError(.conflict, "token '\(id)' is the last admin token; create another admin token first")
        }
        try await requirePolicy(.beforeRevokeToken, subject: "token '\(id)'", by: principal) {
            Payloads.beforeRevokeToken(record, by: principal, address: self.address)
        }
        _ = try await tokens.revoke(id: id)
    }

    /// Runs the token event's workers for `principal`'s request; a STOP refuses it (403) with the worker's message.
    func requirePolicy(_ action: WorkerAction, subject: String, by principal: Principal?, dataJSON: () -> String) async throws {
        guard let events else { return }
        let verdict = try await events.runSynchronous(
            action: action, subject: subject, dataJSON: dataJSON, triggeredBy: principal?.name ?? "warden", depth: principal?.eventDepth ?? 0)
        if let message = verdict.stopMessage { throw WardenError(.forbidden, message) }
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

    /// The scope as the Access API writes it: `applied-permissions/admin`, `applied-permissions/user`, or
    /// `applied-permissions/roles:<project>:project-admin`.
    public var accessScope: String {
        switch self {
        case .admin: "applied-permissions/admin"
        case .user: "applied-permissions/user"
        case .projectAdmin(let project): "applied-permissions/roles:\(project):project-admin"
        }
    }

    /// Reads the Access API's scope (one of `accessScope`'s forms; the role also as the reference spells it,
    /// "Project Admin").
    public static func access(_ text: String) throws(WardenError) -> Self {
        switch text {
        case "applied-permissions/admin": return .admin
        case "applied-permissions/user": return .user
        default:
            let prefix = "applied-permissions/roles:"
            if text.hasPrefix(prefix) {
                let parts = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2, !parts[0].isEmpty, ["project-admin", "project admin"].contains(parts[1].lowercased()) {
                    return .projectAdmin(String(parts[0]))
                }
            }
            throw WardenError.invalid(
                "scope",
                "'\(text.prefix(100))' is not one of applied-permissions/user, applied-permissions/admin, applied-permissions/roles:<project>:project-admin"
            )
        }
    }
}
