import Foundation
import Synchronization

/// Permission targets and groups (admins manage them), and the one question every repository operation asks:
/// may this caller take this action on this path? (docs/permissions.md)
public final class PermissionService: Sendable {
    let store: any PermissionStore
    /// Names that are users: token names and dashboard usernames (groups and grants must name one).
    let userExists: @Sendable (String) async throws -> Bool

    /// What the answers are computed from: the targets with their patterns parsed, and each user's groups.
    struct Snapshot: Sendable {
        struct Target: Sendable {
            var target: PermissionTarget
            var includes: [AntPattern]
            var excludes: [AntPattern]
        }
        var targets: [Target]
        var groupsOf: [String: Set<String>]
        var loadedAt: UInt64
    }

    let snapshot = Mutex<(generation: Int, value: Snapshot?)>((0, nil))
    /// How long another node's change may take to be seen here (this node's own changes are seen at once).
    static let snapshotLifetimeNanos: UInt64 = 2_000_000_000

    public init(store: any PermissionStore, userExists: @escaping @Sendable (String) async throws -> Bool) {
        self.store = store
        self.userExists = userExists
    }

    /// Users are the names of tokens and of dashboard users.
    public convenience init(store: any PermissionStore, tokens: any TokenStore, dashboardUsers: any DashboardUserStore) {
        self.init(store: store) { name in
            if try await dashboardUsers.user(username: name) != nil { return true }
            return try await tokens.all().contains { $0.name == name }
        }
    }

    static let maxPatterns = 100
    static let maxGrants = 1_000

    // MARK: The question

    /// Whether `principal` (nil: anonymous) may take `action` on `path` of `repository`.
    public func allows(_ action: RepositoryAction, _ repository: Repository, path: String, principal: Principal?) async throws -> Bool {
        try await decider(for: principal)(action, repository, path)
    }

    /// Answers many questions for one caller from one snapshot (a listing, a search). A `nil` path asks whether the
    /// caller may take the action somewhere in the repository.
    public func decider(for principal: Principal?) async throws -> @Sendable (RepositoryAction, Repository, String?) -> Bool {
        guard let principal else { return { action, repository, _ in action == .read && repository.anonymousRead } }
        if case .granted = principal.repositoryRights, principal.isAdmin { return { _, _, _ in true } }
        let current = try await current()
        return { action, repository, path in Self.decide(action, repository, path: path, principal: principal, current) }
    }

    static func decide(_ action: RepositoryAction, _ repository: Repository, path: String?, principal: Principal, _ current: Snapshot) -> Bool {
        switch principal.repositoryRights {
        case .only(let reaches):
            return reaches.contains { $0.allows(action, repo: repository.key, path: path) }
        case .granted:
            if principal.isAdmin || (action == .read && repository.anonymousRead) { return true }
            return granted(action, to: principal.name, repo: repository.key, path: path, current)
        case .owner(let owner, let ownerIsAdmin, let within):
            // What anyone may read, a worker may read too, declared or not.
            if action == .read && repository.anonymousRead { return true }
            guard within.contains(where: { $0.allows(action, repo: repository.key, path: path) }) else { return false }
            if ownerIsAdmin { return true }
            return granted(action, to: owner, repo: repository.key, path: path, current)
        }
    }

    /// 401 for an anonymous caller, 403 for one without the right, naming what was refused.
    public static func refusal(_ action: RepositoryAction, _ repo: String, path: String, principal: Principal?) -> WardenError {
        let target = path.isEmpty ? repo : "\(repo)/\(path)"
        guard let principal else { return WardenError(.unauthorized, "credentials are required to \(action.rawValue) \(target)") }
        return WardenError(.forbidden, "\(principal.name) may not \(action.rawValue) \(target): no permission grants it")
    }

    static func granted(_ action: RepositoryAction, to user: String, repo: String, path: String?, _ current: Snapshot) -> Bool {
        let groups = current.groupsOf[user] ?? []
        for entry in current.targets {
            let target = entry.target
            guard target.repositories.contains(PermissionTarget.anyRepository) || target.repositories.contains(repo) else { continue }
            let byUser = target.users[user].map { RepositoryAction.closure($0).contains(action) } ?? false
            let byGroup = !byUser && target.groups.contains { groups.contains($0.key) && RepositoryAction.closure($0.value).contains(action) }
            guard byUser || byGroup else { continue }
            if let path {
                if !entry.includes.isEmpty, !entry.includes.contains(where: { $0.matches(path) }) { continue }
                if entry.excludes.contains(where: { $0.matches(path) }) { continue }
            }
            return true
        }
        return false
    }

    func current() async throws -> Snapshot {
        let (generation, cached) = snapshot.withLock { $0 }
        let now = DispatchTime.now().uptimeNanoseconds
        if let cached, now &- cached.loadedAt < Self.snapshotLifetimeNanos { return cached }
        let targets = try await store.permissionTargets().map {
            Snapshot.Target(target: $0, includes: $0.includePatterns.map(AntPattern.init), excludes: $0.excludePatterns.map(AntPattern.init))
        }
        var groupsOf: [String: Set<String>] = [:]
        for group in try await store.userGroups() {
            for member in group.members { groupsOf[member, default: []].insert(group.name) }
        }
        let fresh = Snapshot(targets: targets, groupsOf: groupsOf, loadedAt: now)
        snapshot.withLock { if $0.generation == generation { $0.value = fresh } }
        return fresh
    }

    /// The groups `user` is a member of.
    public func groups(of user: String) async throws -> Set<String> {
        try await current().groupsOf[user] ?? []
    }

    /// Whether `name` is a user (a token or dashboard user) or a group.
    public func isUserOrGroup(_ name: String) async throws -> Bool {
        if try await store.userGroups().contains(where: { $0.name == name }) { return true }
        return try await userExists(name)
    }

    func changed() { snapshot.withLock { $0 = ($0.generation + 1, nil) } }

    /// Forgets the snapshot when another server changed targets or groups.
    public func forget(_ change: StoreChange) {
        if change == .permissions || change == .everything { changed() }
    }

    // MARK: Managing targets and groups (admins only)

    static func requireAdmin(_ principal: Principal?) throws(WardenError) {
        guard let principal else { throw WardenError(.unauthorized, "credentials are required") }
        guard principal.isAdmin, principal.repositoryRights == .granted else {
            throw WardenError(.forbidden, "only an admin may manage permission targets and groups")
        }
    }

    public func targets(by principal: Principal?) async throws -> [PermissionTarget] {
        try Self.requireAdmin(principal)
        return try await store.permissionTargets()
    }

    public func target(named name: String, by principal: Principal?) async throws -> PermissionTarget {
        try Self.requireAdmin(principal)
        guard let target = try await store.permissionTargets().first(where: { $0.name == name }) else {
            throw WardenError(.notFound, "permission target '\(name)' does not exist")
        }
        return target
    }

    /// Creates or replaces a target after checking every field; returns whether it was new.
    public func save(_ target: PermissionTarget, repositoryExists: (String) async throws -> Bool, by principal: Principal?) async throws -> Bool {
        try Self.requireAdmin(principal)
        try Self.validateName(target.name, field: "name")
        guard !target.repositories.isEmpty else {
            throw WardenError.invalid("repo.repositories", "must name at least one repository, or ANY for every repository")
        }
        for (index, key) in target.repositories.enumerated() where key != PermissionTarget.anyRepository {
            guard try await repositoryExists(key) else {
                throw WardenError.invalid("repo.repositories[\(index)]", "repository '\(key)' does not exist (ANY stands for every repository)")
            }
        }
        for (field, patterns) in [("repo.include-patterns", target.includePatterns), ("repo.exclude-patterns", target.excludePatterns)] {
            if patterns.count > Self.maxPatterns { throw WardenError.invalid(field, "has more than \(Self.maxPatterns) patterns") }
            for (index, pattern) in patterns.enumerated() where pattern.isEmpty || pattern.utf8.count > AntPattern.maxPatternBytes {
                throw WardenError.invalid("\(field)[\(index)]", "must be 1 to \(AntPattern.maxPatternBytes) bytes")
            }
        }
        if target.users.count + target.groups.count > Self.maxGrants {
            throw WardenError.invalid("repo.actions", "grants to more than \(Self.maxGrants) users and groups")
        }
        for (user, actions) in target.users.sorted(by: { $0.key < $1.key }) {
            guard try await userExists(user) else {
                throw WardenError.invalid("repo.actions.users.\(user)", "no token or dashboard user is named '\(user)'")
            }
            if actions.isEmpty { throw WardenError.invalid("repo.actions.users.\(user)", "must grant at least one action") }
        }
        let groups = Set(try await store.userGroups().map(\.name))
        for (group, actions) in target.groups.sorted(by: { $0.key < $1.key }) {
            guard groups.contains(group) else { throw WardenError.invalid("repo.actions.groups.\(group)", "no group is named '\(group)'") }
            if actions.isEmpty { throw WardenError.invalid("repo.actions.groups.\(group)", "must grant at least one action") }
        }
        defer { changed() }
        return try await store.savePermissionTarget(target)
    }

    /// Creates a target; 409 when one of that name exists (`save` replaces one).
    public func create(_ target: PermissionTarget, repositoryExists: (String) async throws -> Bool, by principal: Principal?) async throws {
        try Self.requireAdmin(principal)
        if try await store.permissionTargets().contains(where: { $0.name == target.name }) {
            throw WardenError(.conflict, "permission target '\(target.name)' exists already; PUT …/permissions/\(target.name) replaces it")
        }
        _ = try await save(target, repositoryExists: repositoryExists, by: principal)
    }

    public func deleteTarget(named name: String, by principal: Principal?) async throws {
        try Self.requireAdmin(principal)
        defer { changed() }
        guard try await store.deletePermissionTarget(name: name) else {
            throw WardenError(.notFound, "permission target '\(name)' does not exist")
        }
    }

    public func groups(by principal: Principal?) async throws -> [UserGroup] {
        try Self.requireAdmin(principal)
        return try await store.userGroups()
    }

    public func group(named name: String, by principal: Principal?) async throws -> UserGroup {
        try Self.requireAdmin(principal)
        guard let group = try await store.userGroups().first(where: { $0.name == name }) else {
            throw WardenError(.notFound, "group '\(name)' does not exist")
        }
        return group
    }

    public func save(_ group: UserGroup, by principal: Principal?) async throws -> Bool {
        try Self.requireAdmin(principal)
        try Self.validateName(group.name, field: "name")
        if group.description.count > 1_000 { throw WardenError.invalid("description", "is longer than 1000 characters") }
        if group.members.count > Self.maxGrants { throw WardenError.invalid("userNames", "has more than \(Self.maxGrants) names") }
        for (index, member) in group.members.enumerated() {
            guard try await userExists(member) else {
                throw WardenError.invalid("userNames[\(index)]", "no token or dashboard user is named '\(member)'")
            }
        }
        var group = group
        group.members = Array(Set(group.members)).sorted()
        defer { changed() }
        return try await store.saveUserGroup(group)
    }

    /// Creates a group; 409 when one of that name exists (`save` replaces one).
    public func create(_ group: UserGroup, by principal: Principal?) async throws {
        try Self.requireAdmin(principal)
        if try await store.userGroups().contains(where: { $0.name == group.name }) {
            throw WardenError(.conflict, "group '\(group.name)' exists already")
        }
        _ = try await save(group, by: principal)
    }

    /// Changes the fields given of a group (404 when it does not exist); the others keep their value.
    @discardableResult
    public func update(
        groupNamed name: String, description: String? = nil, autoJoin: Bool? = nil, members: [String]? = nil, by principal: Principal?
    ) async throws -> UserGroup {
        var group = try await group(named: name, by: principal)
        if let description { group.description = description }
        if let autoJoin { group.autoJoin = autoJoin }
        if let members { group.members = members }
        _ = try await save(group, by: principal)
        return group
    }

    public func deleteGroup(named name: String, by principal: Principal?) async throws {
        try Self.requireAdmin(principal)
        defer { changed() }
        guard try await store.deleteUserGroup(name: name) else { throw WardenError(.notFound, "group '\(name)' does not exist") }
    }

    /// A new user (a token or a dashboard user) joins the groups marked auto-join.
    public func userCreated(_ name: String) async throws {
        defer { changed() }
        try await store.joinAutoJoinGroups(user: name)
    }

    static func validateName(_ name: String, field: String) throws(WardenError) {
        guard !name.isEmpty, name.count <= 64,
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { throw WardenError.invalid(field, "must be 1 to 64 letters, digits, '-', '_' or '.'") }
    }
}
