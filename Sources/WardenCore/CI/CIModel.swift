import Foundation

/// A tenant (Zuul: tenant): a named set of projects, as the tenant dialect lists them.
public struct CITenant: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var createdAt: Int64

    public init(id: Int64 = 0, name: String, createdAt: Int64 = 0) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A group of projects (GitLab: group; the agents API: company).
public struct CIGroup: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var name: String
    public var createdAt: Int64

    public init(id: Int64 = 0, path: String, name: String, createdAt: Int64 = 0) {
        self.id = id
        self.path = path
        self.name = name
        self.createdAt = createdAt
    }
}

/// A project, with a numeric id and a path (`group/name` or `user/name`).
public struct CIProject: Sendable, Equatable {
    public var id: Int64
    public var groupID: Int64?
    /// The tenant holding the project; a project outside every tenant is not seen by the tenant dialect.
    public var tenantID: Int64?
    /// The namespace: the group's path, or `root` for projects outside a group.
    public var namespace: String
    public var path: String
    public var name: String
    public var createdAt: Int64

    public init(
        id: Int64 = 0, groupID: Int64? = nil, tenantID: Int64? = nil, namespace: String, path: String, name: String, createdAt: Int64 = 0
    ) {
        self.id = id
        self.groupID = groupID
        self.tenantID = tenantID
        self.namespace = namespace
        self.path = path
        self.name = name
        self.createdAt = createdAt
    }

    public var pathWithNamespace: String { "\(namespace)/\(path)" }
}

/// Where a runner is registered: the whole instance, a group or a project.
public enum RunnerScope: Sendable, Equatable, Hashable {
    case instance
    case group(Int64)
    case project(Int64)

    public var typeName: String {
        switch self {
        case .instance: return "instance_type"
        case .group: return "group_type"
        case .project: return "project_type"
        }
    }
}

/// A runner (GitLab runner, agent): one record with an integer id and a UUID.
public struct Runner: Sendable, Equatable {
    public var id: Int64
    public var uuid: String
    /// SHA-256 of the authentication token; the token itself is shown once.
    public var tokenHash: String
    public var scope: RunnerScope
    public var description: String
    public var name: String?
    public var version: String?
    public var revision: String?
    public var platform: String?
    public var architecture: String?
    public var ipAddress: String?
    public var active: Bool
    public var locked: Bool
    public var runUntagged: Bool
    public var tags: [String]
    /// `not_protected` or `ref_protected`.
    public var accessLevel: String
    public var maximumTimeout: Int?
    public var maintenanceNote: String?
    /// Projects the runner may run for (its own project first, then those it was enabled on).
    public var projectIDs: [Int64]
    public var createdAt: Int64
    public var contactedAt: Int64?
    /// Where a Candor-style runner (`warden runner`) listens, and the token it wants on `POST /run` (sealed).
    public var url: String?
    public var sealedControlToken: Data?

    public init(
        id: Int64 = 0, uuid: String = RandomID.uuid(), tokenHash: String, scope: RunnerScope, description: String = "",
        name: String? = nil, version: String? = nil, revision: String? = nil, platform: String? = nil, architecture: String? = nil,
        ipAddress: String? = nil, active: Bool = true, locked: Bool = false, runUntagged: Bool = true, tags: [String] = [],
        accessLevel: String = "not_protected", maximumTimeout: Int? = nil, maintenanceNote: String? = nil, projectIDs: [Int64] = [],
        createdAt: Int64 = 0, contactedAt: Int64? = nil, url: String? = nil, sealedControlToken: Data? = nil
    ) {
        self.url = url
        self.sealedControlToken = sealedControlToken
        self.id = id
        self.uuid = uuid
        self.tokenHash = tokenHash
        self.scope = scope
        self.description = description
        self.name = name
        self.version = version
        self.revision = revision
        self.platform = platform
        self.architecture = architecture
        self.ipAddress = ipAddress
        self.active = active
        self.locked = locked
        self.runUntagged = runUntagged
        self.tags = tags
        self.accessLevel = accessLevel
        self.maximumTimeout = maximumTimeout
        self.maintenanceNote = maintenanceNote
        self.projectIDs = projectIDs
        self.createdAt = createdAt
        self.contactedAt = contactedAt
    }

    /// Whether the runner may run for `project`: an instance runner for every project, a group runner for its group's
    /// projects, a project runner for the projects it is enabled on.
    public func serves(_ project: CIProject) -> Bool {
        switch scope {
        case .instance: return true
        case .group(let id): return project.groupID == id
        case .project: return projectIDs.contains(project.id)
        }
    }

    /// Contacted within the last two hours.
    public func isOnline(now: Int64) -> Bool { contactedAt.map { now - $0 < 7_200_000 } ?? false }

    /// `online`, `offline`, `stale` (not contacted for three months, or never and older than that), `never_contacted`.
    public func status(now: Int64) -> String {
        let threeMonths: Int64 = 90 * 86_400_000
        guard let contacted = contactedAt else { return now - createdAt > threeMonths ? "stale" : "never_contacted" }
        if now - contacted < 7_200_000 { return "online" }
        return now - contacted > threeMonths ? "stale" : "offline"
    }
}

/// A job: one stage of a run, executed by a runner.
public struct CIJob: Sendable, Equatable {
    public var id: Int64
    public var uuid: String
    public var runID: Int64
    public var projectID: Int64
    public var runnerID: Int64?
    public var name: String
    public var stage: String
    /// created, pending, running, success, failed, canceled, skipped.
    public var status: String
    public var ref: String
    public var createdAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?

    public init(
        id: Int64 = 0, uuid: String = RandomID.uuid(), runID: Int64, projectID: Int64, runnerID: Int64?, name: String, stage: String,
        status: String, ref: String = "main",
        createdAt: Int64, startedAt: Int64? = nil, finishedAt: Int64? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.runID = runID
        self.projectID = projectID
        self.runnerID = runnerID
        self.name = name
        self.stage = stage
        self.status = status
        self.ref = ref
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// What a runner list is filtered by (v4: `type`, `status`, `paused`, `tag_list`).
public struct RunnerFilter: Sendable, Equatable {
    public var type: String?
    public var status: String?
    public var paused: Bool?
    public var tags: [String]

    public init(type: String? = nil, status: String? = nil, paused: Bool? = nil, tags: [String] = []) {
        self.type = type
        self.status = status
        self.paused = paused
        self.tags = tags
    }
}

public protocol CIStore: Sendable {
    /// `nil` when a tenant of that name exists already.
    func createTenant(_ tenant: CITenant) async throws -> CITenant?
    func tenants() async throws -> [CITenant]
    /// Puts a project into a tenant (or out of every tenant with `nil`).
    func setTenant(_ tenantID: Int64?, ofProject projectID: Int64) async throws
    func createGroup(_ group: CIGroup) async throws -> CIGroup
    func groups() async throws -> [CIGroup]
    func createProject(_ project: CIProject) async throws -> CIProject
    func projects() async throws -> [CIProject]

    /// Registration tokens by the SHA-256 of their value.
    func registrationScope(tokenHash: String) async throws -> RunnerScope?
    /// Replaces the registration token of a scope (its hash to check it, the value sealed to show it to admins).
    func setRegistrationToken(_ tokenHash: String, sealed: Data, for scope: RunnerScope) async throws
    func sealedRegistrationToken(for scope: RunnerScope) async throws -> Data?

    func createRunner(_ runner: Runner) async throws -> Runner
    func runner(id: Int64) async throws -> Runner?
    func runner(tokenHash: String) async throws -> Runner?
    func runners() async throws -> [Runner]
    func updateRunner(id: Int64, _ change: @escaping @Sendable (inout Runner) throws -> Void) async throws -> Runner?
    func deleteRunner(id: Int64) async throws -> Bool

    func jobs(runnerID: Int64) async throws -> [CIJob]
}
