/// Which artifacts a repository worker reacts to (spec §3, §9).
public struct ArtifactFilter: Sendable, Equatable, Codable {
    public var repoKeys: [String] = []
    public var includePatterns: [String] = []
    public var excludePatterns: [String] = []
    public var anyLocal = false
    public var anyRemote = false
    public var anyFederated = false

    public init(
        repoKeys: [String] = [], includePatterns: [String] = [], excludePatterns: [String] = [], anyLocal: Bool = false, anyRemote: Bool = false,
        anyFederated: Bool = false
    ) {
        self.repoKeys = repoKeys
        self.includePatterns = includePatterns
        self.excludePatterns = excludePatterns
        self.anyLocal = anyLocal
        self.anyRemote = anyRemote
        self.anyFederated = anyFederated
    }

    /// Selects no repository at all.
    public var isEmpty: Bool { repoKeys.isEmpty && !anyLocal && !anyRemote && !anyFederated }
}

/// When a SCHEDULED_EVENT worker fires.
public struct Schedule: Sendable, Equatable, Codable {
    public var cron: String
    public var timezone: String

    public init(cron: String, timezone: String = "UTC") {
        self.cron = cron
        self.timezone = timezone
    }
}

public struct FilterCriteria: Sendable, Equatable, Codable {
    public var artifactFilterCriteria: ArtifactFilter?
    public var schedule: Schedule?

    public init(artifactFilterCriteria: ArtifactFilter? = nil, schedule: Schedule? = nil) {
        self.artifactFilterCriteria = artifactFilterCriteria
        self.schedule = schedule
    }
}

/// The optional version label a client attaches to a save (v2 API).
public struct WorkerVersion: Sendable, Equatable, Codable {
    public var versionNumber: String?
    public var description: String?
    public var commitSha: String?

    public init(versionNumber: String? = nil, description: String? = nil, commitSha: String? = nil) {
        self.versionNumber = versionNumber
        self.description = description
        self.commitSha = commitSha
    }
}

/// What a worker's run token may reach of its owner's rights (the worker's manifest, `platformAccess`): the
/// repositories named (`ANY` for every one) and the actions listed. Without it, a worker reaches the repositories
/// of its filter with read, annotate, write and delete (docs/permissions.md).
public struct PlatformAccess: Sendable, Equatable, Codable {
    public var repositories: [String]
    public var actions: [RepositoryAction]

    public init(repositories: [String], actions: [RepositoryAction]) {
        self.repositories = repositories
        self.actions = actions
    }

    /// The actions a worker reaches when its manifest lists none.
    public static let defaultActions: [RepositoryAction] = [.read, .annotate, .write, .delete]
    /// Every repository with those actions: the reach of a worker stored before permission targets existed, of
    /// a dry run of unsaved code, and of a filter on any local repository.
    public static let everywhere = RepositoryReach(repo: nil, actions: Set(defaultActions))
}

/// A worker as stored: everything but its secret values, which live sealed beside it.
public struct Worker: Sendable, Equatable {
    public var key: String
    public var description: String
    public var enabled: Bool
    public var debug: Bool
    public var sourceCode: String
    public var action: WorkerAction
    public var filterCriteria: FilterCriteria
    /// Plain settings read by `context.properties.get`, in the order given.
    public var properties: [(key: String, value: String)]
    public var shared: Bool
    public var projectKey: String
    public var version: WorkerVersion?
    /// Milliseconds since 1970 of the last save, and who saved.
    public var modifiedAt: Int64
    public var modifiedBy: String
    /// What its run token may reach (`nil`: its filter's repositories).
    public var platformAccess: PlatformAccess?

    public init(
        key: String, description: String = "", enabled: Bool = true, debug: Bool = false, sourceCode: String, action: WorkerAction,
        filterCriteria: FilterCriteria = FilterCriteria(), properties: [(key: String, value: String)] = [], shared: Bool = false,
        projectKey: String = "", version: WorkerVersion? = nil, modifiedAt: Int64 = 0, modifiedBy: String = "",
        platformAccess: PlatformAccess? = nil
    ) {
        self.platformAccess = platformAccess
        self.key = key
        self.description = description
        self.enabled = enabled
        self.debug = debug
        self.sourceCode = sourceCode
        self.action = action
        self.filterCriteria = filterCriteria
        self.properties = properties
        self.shared = shared
        self.projectKey = projectKey
        self.version = version
        self.modifiedAt = modifiedAt
        self.modifiedBy = modifiedBy
    }

    public static func == (lhs: Worker, rhs: Worker) -> Bool {
        lhs.key == rhs.key && lhs.description == rhs.description && lhs.enabled == rhs.enabled && lhs.debug == rhs.debug
            && lhs.sourceCode == rhs.sourceCode && lhs.action == rhs.action && lhs.filterCriteria == rhs.filterCriteria
            && lhs.properties.map(\.key) == rhs.properties.map(\.key) && lhs.properties.map(\.value) == rhs.properties.map(\.value)
            && lhs.shared == rhs.shared && lhs.projectKey == rhs.projectKey && lhs.version == rhs.version && lhs.modifiedAt == rhs.modifiedAt
            && lhs.modifiedBy == rhs.modifiedBy && lhs.platformAccess == rhs.platformAccess
    }

    /// Where this worker's run token may act: the manifest's `platformAccess`, else the filter's repositories.
    public var reach: [RepositoryReach] {
        if let access = platformAccess {
            let actions = Set(access.actions)
            if access.repositories.contains(PermissionTarget.anyRepository) { return [RepositoryReach(repo: nil, actions: actions)] }
            return access.repositories.map { RepositoryReach(repo: $0, actions: actions) }
        }
        guard let filter = filterCriteria.artifactFilterCriteria else { return [] }
        if filter.anyLocal { return [PlatformAccess.everywhere] }
        return filter.repoKeys.map { RepositoryReach(repo: $0, actions: PlatformAccess.everywhere.actions) }
    }

    /// `<modifiedAt>-<modifiedBy>`, the version a history entry names.
    public var executedVersion: String { "\(modifiedAt)-\(modifiedBy)" }
}

/// One item of a `secrets` list: set `key` to `value`, or remove it. Items apply in order (spec §3).
public struct SecretItem: Sendable, Equatable {
    public var key: String
    public var value: String?
    public var markedForRemoval: Bool

    public init(key: String, value: String? = nil, markedForRemoval: Bool = false) {
        self.key = key
        self.value = value
        self.markedForRemoval = markedForRemoval
    }

    /// Applies `items` in order to `secrets`; a `nil` list leaves them unchanged.
    public static func apply(_ items: [SecretItem]?, to secrets: [String: String]) -> [String: String] {
        guard let items else { return secrets }
        var result = secrets
        for item in items {
            if item.markedForRemoval {
                result[item.key] = nil
            } else if let value = item.value {
                result[item.key] = value
            }
        }
        return result
    }
}

/// What a create or update call asks for; `nil` fields of an update keep what is stored.
public struct WorkerDraft: Sendable {
    public var key: String?
    public var description: String?
    public var enabled: Bool?
    public var debug: Bool?
    public var sourceCode: String?
    public var action: String?
    public var filterCriteria: FilterCriteria?
    public var secrets: [SecretItem]?
    public var properties: [(key: String, value: String)]?
    public var shared: Bool?
    public var projectKey: String?
    public var version: WorkerVersion?
    /// `.some(nil)` removes a declared access.
    public var platformAccess: PlatformAccess??

    public init(
        key: String? = nil, description: String? = nil, enabled: Bool? = nil, debug: Bool? = nil, sourceCode: String? = nil, action: String? = nil,
        filterCriteria: FilterCriteria? = nil, secrets: [SecretItem]? = nil, properties: [(key: String, value: String)]? = nil,
        shared: Bool? = nil, projectKey: String? = nil, version: WorkerVersion? = nil, platformAccess: PlatformAccess?? = nil
    ) {
        self.platformAccess = platformAccess
        self.key = key
        self.description = description
        self.enabled = enabled
        self.debug = debug
        self.sourceCode = sourceCode
        self.action = action
        self.filterCriteria = filterCriteria
        self.secrets = secrets
        self.properties = properties
        self.shared = shared
        self.projectKey = projectKey
        self.version = version
    }
}

/// `context.state`'s limits (spec §5), checked by the server on every state a run hands back.
public enum StateLimits {
    public static let maxItems = 10
    public static let maxKeyCharacters = 40
    public static let maxValueCharacters = 250

    /// Why `state` breaks the limits, or `nil` when it keeps them.
    public static func problem(_ state: [String: String]) -> String? {
        if state.count > maxItems { return "the worker's state holds \(state.count) items; at most \(maxItems) are kept" }
        for (key, value) in state {
            if key.isEmpty || key.count > maxKeyCharacters {
                return "a state key is \(key.count) characters; keys are 1 to \(maxKeyCharacters)"
            }
            if value.count > maxValueCharacters {
                return "the state value for '\(key.prefix(40))' is \(value.count) characters; at most \(maxValueCharacters) are kept"
            }
        }
        return nil
    }
}
