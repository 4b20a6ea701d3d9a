import Foundation

/// What a runner sends when it registers (every field optional but the token).
public struct RunnerRegistration: Sendable, Equatable {
    public var description: String?
    public var name: String?
    public var version: String?
    public var revision: String?
    public var platform: String?
    public var architecture: String?
    public var active: Bool?
    public var locked: Bool?
    public var runUntagged: Bool?
    public var tags: [String]?
    public var accessLevel: String?
    public var maximumTimeout: Int?
    public var maintenanceNote: String?
    /// Warden's own: where a `warden runner` listens and the token it wants on `POST /run`.
    public var url: String?
    public var controlToken: String?

    public init() {}
}

/// The core of the runner registry, shared by every runner dialect: registration tokens, authentication tokens
/// (stored hashed), owners, filters. Dialects translate their requests to these calls.
public final class RunnerService: Sendable {
    let store: any CIStore
    let vault: SecretVault

    public init(store: any CIStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Tenants, projects and groups

    /// Creates a tenant (admin). Names are Zuul's: letters, digits, '-', '_' and '.'.
    public func createTenant(name: String, by principal: Principal) async throws -> CITenant {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may create tenants") }
        try Self.validatePath(name, field: "name")
        guard let tenant = try await store.createTenant(CITenant(name: name, createdAt: Self.now())) else {
            throw WardenError(.conflict, "name: a tenant named '\(name)' exists already")
        }
        return tenant
    }

    /// Tenants sorted by name.
    public func tenants() async throws -> [CITenant] { try await store.tenants() }

    public func tenant(_ name: String) async throws -> CITenant {
        guard let tenant = try await store.tenants().first(where: { $0.name == name }) else {
            throw WardenError(.notFound, "Unknown tenant '\(name)'", resource: .tenant)
        }
        return tenant
    }

    /// Puts a project into a tenant (admin); a project is in one tenant at most.
    public func move(_ project: CIProject, to tenant: CITenant, by principal: Principal) async throws -> CIProject {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may change a tenant's projects") }
        try await store.setTenant(tenant.id, ofProject: project.id)
        var moved = project
        moved.tenantID = tenant.id
        return moved
    }

    public func createGroup(path: String, name: String?, by principal: Principal) async throws -> CIGroup {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may create groups") }
        try Self.validatePath(path, field: "path")
        if try await store.groups().contains(where: { $0.path == path }) { throw WardenError.invalid("path", "has already been taken") }
        return try await store.createGroup(CIGroup(path: path, name: name ?? path, createdAt: Self.now()))
    }

    public func createProject(path: String, name: String?, groupID: Int64?, tenant: String? = nil, by principal: Principal) async throws
        -> CIProject
    {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may create projects") }
        try Self.validatePath(path, field: "path")
        var tenantID: Int64?
        if let tenant {
            guard let found = try await store.tenants().first(where: { $0.name == tenant }) else {
                throw WardenError.invalid("tenant", "no tenant is named '\(tenant)'")
            }
            tenantID = found.id
        }
        var namespace = "root"
        if let groupID {
            guard let group = try await store.groups().first(where: { $0.id == groupID }) else {
                throw WardenError(.notFound, "Group Not Found")
            }
            namespace = group.path
        }
        if try await store.projects().contains(where: { $0.namespace == namespace && $0.path == path }) {
            throw WardenError.invalid("path", "has already been taken")
        }
        return try await store.createProject(
            CIProject(groupID: groupID, tenantID: tenantID, namespace: namespace, path: path, name: name ?? path, createdAt: Self.now()))
    }

    static func validatePath(_ path: String, field: String) throws(WardenError) {
        guard !path.isEmpty, path.count <= 100,
            path.unicodeScalars.allSatisfy({ ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "-_.".unicodeScalars.contains($0) })
        else { throw WardenError.invalid(field, "must be 1 to 100 of letters, digits, '-', '_' and '.'") }
    }

    /// A project by numeric id or by `namespace/path`.
    public func project(_ reference: String) async throws -> CIProject {
        let projects = try await store.projects()
        if let id = Int64(reference), let project = projects.first(where: { $0.id == id }) { return project }
        if let project = projects.first(where: { $0.pathWithNamespace == reference }) { return project }
        throw WardenError(.notFound, "Project Not Found")
    }

    public func group(_ reference: String) async throws -> CIGroup {
        let groups = try await store.groups()
        if let id = Int64(reference), let group = groups.first(where: { $0.id == id }) { return group }
        if let group = groups.first(where: { $0.path == reference }) { return group }
        throw WardenError(.notFound, "Group Not Found")
    }

    public func projects() async throws -> [CIProject] { try await store.projects() }
    public func groups() async throws -> [CIGroup] { try await store.groups() }

    // MARK: Registration tokens

    /// A fresh registration token for a scope (the previous one stops working); shown once.
    public func resetRegistrationToken(for scope: RunnerScope, by principal: Principal) async throws -> String {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may reset registration tokens") }
        return try await newRegistrationToken(for: scope)
    }

    func newRegistrationToken(for scope: RunnerScope) async throws -> String {
        let value = "GR1348941" + TokenRecord.generateValue().dropFirst(4)
        try await store.setRegistrationToken(
            TokenRecord.hash(of: value), sealed: try vault.seal(value, worker: "ci-registration", name: Self.scopeName(scope)), for: scope)
        return value
    }

    static func scopeName(_ scope: RunnerScope) -> String {
        switch scope {
        case .instance: return "instance"
        case .group(let id): return "group:\(id)"
        case .project(let id): return "project:\(id)"
        }
    }

    /// The current registration token of a scope (created on first request), for admins and the scope's own
    /// project admin.
    public func registrationToken(for scope: RunnerScope, by principal: Principal) async throws -> String {
        try await requireManager(principal, of: scope)
        if let sealed = try await store.sealedRegistrationToken(for: scope) {
            return try vault.open(sealed, worker: "ci-registration", name: Self.scopeName(scope))
        }
        return try await newRegistrationToken(for: scope)
    }

    /// The one CI project a project admin's key names: its full path (`group/name`), else its numeric id, else its
    /// bare path while no other project has that path. A name shared across groups names none: a key `app` must
    /// never reach both `acme/app` and `beta/app`.
    static func project(named key: String, in projects: [CIProject]) -> CIProject? {
        if let byPath = projects.first(where: { $0.pathWithNamespace == key }) { return byPath }
        if let id = Int64(key), let byID = projects.first(where: { $0.id == id }) { return byID }
        let bare = projects.filter { $0.path == key }
        return bare.count == 1 ? bare[0] : nil
    }

    /// Admins manage every scope; a project admin the one project its key names.
    func requireManager(_ principal: Principal, of scope: RunnerScope) async throws {
        if principal.isAdmin { return }
        if case .project(let id) = scope, case .projectAdmin(let key) = principal.scope,
            Self.project(named: key, in: try await store.projects())?.id == id
        {
            return
        }
        throw WardenError(.forbidden, "no access rights")
    }

    /// The token a runner wants on `POST /run`, when it gave one.
    public func controlToken(of runner: Runner) throws -> String? {
        try runner.sealedControlToken.map { try vault.open($0, worker: "runner-control", name: runner.uuid) }
    }

    public func allRunners() async throws -> [Runner] { try await store.runners() }

    // MARK: Agents (runners seen per project or company, by UUID)

    /// The runners registered at a project (`.project`) or group (`.group`) level.
    public func runners(of scope: RunnerScope, by principal: Principal) async throws -> [Runner] {
        try await requireManager(principal, of: scope)
        return try await store.runners().filter { $0.scope == scope }
    }

    public func runner(uuid: String, of scope: RunnerScope, by principal: Principal) async throws -> Runner {
        guard let runner = try await runners(of: scope, by: principal).first(where: { $0.uuid == uuid }) else {
            throw WardenError(.notFound, "agent '\(uuid)' not found")
        }
        return runner
    }

    public func jobs(of runners: [Runner], status: String?) async throws -> [CIJob] {
        var jobs: [CIJob] = []
        for runner in runners { jobs += try await store.jobs(runnerID: runner.id) }
        return jobs.filter { status == nil || $0.status == status }.sorted { $0.id < $1.id }
    }

    /// Changes an agent (by UUID) within its scope.
    public func edit(uuid: String, of scope: RunnerScope, _ fields: RunnerRegistration, by principal: Principal) async throws -> Runner {
        let runner = try await runner(uuid: uuid, of: scope, by: principal)
        return try await update(id: runner.id, fields, by: .init(name: principal.name, scope: .admin))
    }

    public func delete(uuid: String, of scope: RunnerScope, by principal: Principal) async throws {
        let runner = try await runner(uuid: uuid, of: scope, by: principal)
        guard try await store.deleteRunner(id: runner.id) else { throw WardenError(.notFound, "agent '\(uuid)' not found") }
    }

    // MARK: Runner-token endpoints

    /// Registers a runner with a registration token; returns it and its authentication token (shown once).
    public func register(registrationToken: String, _ fields: RunnerRegistration, ipAddress: String?) async throws -> (Runner, String) {
        guard let scope = try await store.registrationScope(tokenHash: TokenRecord.hash(of: registrationToken)) else {
            throw WardenError(.forbidden, "invalid registration token")
        }
        try Self.validate(fields)
        let token = "glrt-" + TokenRecord.generateValue().dropFirst(4)
        var projectIDs: [Int64] = []
        if case .project(let id) = scope { projectIDs = [id] }
        if let url = fields.url, URL(string: url)?.scheme?.hasPrefix("http") != true {
            throw WardenError.invalid("url", "'\(url)' is not an http(s) URL")
        }
        let uuid = RandomID.uuid()
        let sealedControl = try fields.controlToken.map { try vault.seal($0, worker: "runner-control", name: uuid) }
        let runner = Runner(
            uuid: uuid, tokenHash: TokenRecord.hash(of: token), scope: scope, description: fields.description ?? "", name: fields.name,
            version: fields.version, revision: fields.revision, platform: fields.platform, architecture: fields.architecture,
            ipAddress: ipAddress, active: fields.active ?? true, locked: fields.locked ?? false, runUntagged: fields.runUntagged ?? true,
            tags: fields.tags ?? [], accessLevel: fields.accessLevel ?? "not_protected", maximumTimeout: fields.maximumTimeout,
            maintenanceNote: fields.maintenanceNote, projectIDs: projectIDs, createdAt: Self.now(), url: fields.url,
            sealedControlToken: sealedControl)
        return (try await store.createRunner(runner), token)
    }

    static func validate(_ fields: RunnerRegistration) throws(WardenError) {
        if let level = fields.accessLevel, !["not_protected", "ref_protected"].contains(level) {
            throw WardenError.invalid("access_level", "does not have a valid value (not_protected or ref_protected)")
        }
        if let timeout = fields.maximumTimeout, timeout < 600 {
            throw WardenError.invalid("maximum_timeout", "needs to be at least 10 minutes (600 seconds)")
        }
        for tag in fields.tags ?? [] where tag.isEmpty || tag.count > 255 || tag.contains(",") {
            throw WardenError.invalid("tag_list", "'\(tag)' is not a tag (1 to 255 characters, no comma)")
        }
    }

    /// Checks an authentication token and records the contact.
    /// Marks the runner contacted. A `warden runner` that starts again with its saved token also gives where it
    /// listens now and its new control token (Warden's `url` and `control_token`), so it stays the same runner.
    public func verify(token: String, url: String? = nil, controlToken: String? = nil) async throws -> Runner {
        guard let runner = try await store.runner(tokenHash: TokenRecord.hash(of: token)) else {
            throw WardenError(.forbidden, "invalid runner token")
        }
        if let url, URL(string: url)?.scheme?.hasPrefix("http") != true { throw WardenError.invalid("url", "'\(url)' is not an http(s) URL") }
        let sealed = try controlToken.map { try vault.seal($0, worker: "runner-control", name: runner.uuid) }
        let now = Self.now()
        return try await store.updateRunner(id: runner.id) { runner in
            runner.contactedAt = now
            if let url { runner.url = url }
            if let sealed { runner.sealedControlToken = sealed }
        } ?? runner
    }

    public func unregister(token: String) async throws {
        guard let runner = try await store.runner(tokenHash: TokenRecord.hash(of: token)) else {
            throw WardenError(.forbidden, "invalid runner token")
        }
        _ = try await store.deleteRunner(id: runner.id)
    }

    // MARK: User endpoints

    /// Whether the principal owns the runner (admins own every runner; a project admin the runners of the one project
    /// its key names).
    func owns(_ principal: Principal, _ runner: Runner, projects: [CIProject]) -> Bool {
        switch principal.scope {
        case .admin: return true
        case .projectAdmin(let key):
            guard let project = Self.project(named: key, in: projects) else { return false }
            return runner.projectIDs.contains(project.id)
        case .user: return false
        }
    }

    /// The caller's runners (`all`: every runner, admins only), filtered.
    public func runners(for principal: Principal, all: Bool, filter: RunnerFilter) async throws -> [Runner] {
        if all && !principal.isAdmin { throw WardenError(.forbidden, "only an admin may list all runners") }
        let projects = try await store.projects()
        let runners = try await store.runners().filter { runner in
            if all { return true }
            if case .instance = runner.scope { return false }
            return owns(principal, runner, projects: projects)
        }
        return try Self.apply(filter, to: runners)
    }

    static func apply(_ filter: RunnerFilter, to runners: [Runner]) throws(WardenError) -> [Runner] {
        if let type = filter.type, !["instance_type", "group_type", "project_type"].contains(type) {
            throw WardenError.invalid("type", "does not have a valid value")
        }
        let statuses = ["online", "offline", "stale", "never_contacted", "active", "paused"]
        if let status = filter.status, !statuses.contains(status) { throw WardenError.invalid("status", "does not have a valid value") }
        let now = now()
        return runners.filter { runner in
            if let type = filter.type, runner.scope.typeName != type { return false }
            if let status = filter.status {
                switch status {
                case "active": if !runner.active { return false }
                case "paused": if runner.active { return false }
                default: if runner.status(now: now) != status { return false }
                }
            }
            if let paused = filter.paused, paused == runner.active { return false }
            if !filter.tags.allSatisfy({ runner.tags.contains($0) }) { return false }
            return true
        }
    }

    public func runner(id: Int64, for principal: Principal) async throws -> Runner {
        guard let runner = try await store.runner(id: id) else { throw WardenError(.notFound, "Runner Not Found") }
        guard owns(principal, runner, projects: try await store.projects()) else { throw WardenError(.forbidden, "Forbidden") }
        return runner
    }

    /// Applies the given changes (only the fields present).
    public func update(id: Int64, _ fields: RunnerRegistration, by principal: Principal) async throws -> Runner {
        _ = try await runner(id: id, for: principal)
        try Self.validate(fields)
        let updated = try await store.updateRunner(id: id) { runner in
            if let value = fields.description { runner.description = value }
            if let value = fields.active { runner.active = value }
            if let value = fields.locked { runner.locked = value }
            if let value = fields.runUntagged { runner.runUntagged = value }
            if let value = fields.tags { runner.tags = value }
            if let value = fields.accessLevel { runner.accessLevel = value }
            if let value = fields.maximumTimeout { runner.maximumTimeout = value }
            if let value = fields.maintenanceNote { runner.maintenanceNote = value }
            if let value = fields.name { runner.name = value }
        }
        guard let updated else { throw WardenError(.notFound, "Runner Not Found") }
        return updated
    }

    public func delete(id: Int64, by principal: Principal) async throws {
        _ = try await runner(id: id, for: principal)
        guard try await store.deleteRunner(id: id) else { throw WardenError(.notFound, "Runner Not Found") }
    }

    /// A runner's jobs of one status (or all), in `order` (the store gives them oldest first).
    public func jobs(runnerID: Int64, status: String?, order: JobOrder = .oldestFirst, by principal: Principal)
        async throws -> [CIJob]
    {
        _ = try await runner(id: runnerID, for: principal)
        let statuses = ["created", "pending", "running", "success", "failed", "canceled", "skipped", "manual"]
        if let status, !statuses.contains(status) { throw WardenError.invalid("status", "does not have a valid value") }
        let jobs = try await store.jobs(runnerID: runnerID).filter { status == nil || $0.status == status }
        return order.ascending ? jobs : jobs.reversed()
    }

    /// Runners a project may use: its own and enabled project runners, its group's, and the instance's.
    public func projectRunners(_ project: CIProject, filter: RunnerFilter, by principal: Principal) async throws -> [Runner] {
        let all = principal.isAdmin ? [] : try await store.projects()
        guard principal.isAdmin || owns(principal, Runner(tokenHash: "", scope: .project(project.id), projectIDs: [project.id]), projects: all)
        else { throw WardenError(.forbidden, "Forbidden") }
        return try Self.apply(filter, to: try await store.runners().filter { $0.serves(project) })
    }

    public func groupRunners(_ group: CIGroup, filter: RunnerFilter, by principal: Principal) async throws -> [Runner] {
        guard principal.isAdmin else { throw WardenError(.forbidden, "Forbidden") }
        let projectIDs = Set(try await store.projects().filter { $0.groupID == group.id }.map(\.id))
        let runners = try await store.runners().filter { runner in
            switch runner.scope {
            case .instance: return true
            case .group(let id): return id == group.id
            case .project: return !projectIDs.isDisjoint(with: runner.projectIDs)
            }
        }
        return try Self.apply(filter, to: runners)
    }

    /// Lets a project use a project runner of another project (not a locked one, nor an instance or group runner).
    public func enable(runnerID: Int64, on project: CIProject, by principal: Principal) async throws -> Runner {
        guard principal.isAdmin else { throw WardenError(.forbidden, "Forbidden") }
        guard let runner = try await store.runner(id: runnerID) else { throw WardenError(.notFound, "Runner Not Found") }
        guard case .project = runner.scope else { throw WardenError(.forbidden, "Runner is a shared or group runner") }
        if runner.locked { throw WardenError(.forbidden, "Runner is locked") }
        if runner.projectIDs.contains(project.id) { throw WardenError.invalid("runner", "has already been taken") }
        return try await store.updateRunner(id: runnerID) { $0.projectIDs.append(project.id) } ?? runner
    }

    public func disable(runnerID: Int64, on project: CIProject, by principal: Principal) async throws -> Runner {
        guard principal.isAdmin else { throw WardenError(.forbidden, "Forbidden") }
        guard let runner = try await store.runner(id: runnerID), runner.projectIDs.contains(project.id) else {
            throw WardenError(.notFound, "Runner Not Found")
        }
        if runner.projectIDs.first == project.id {
            throw WardenError(.forbidden, "Only one project associated with the runner. Please remove the runner instead")
        }
        return try await store.updateRunner(id: runnerID) { $0.projectIDs.removeAll { $0 == project.id } } ?? runner
    }
}
