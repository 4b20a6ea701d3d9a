import Foundation

/// What a caller may do in a repository, in the artifact service's words (docs/permissions.md).
public enum RepositoryAction: String, CaseIterable, Sendable, Codable, Comparable {
    /// Download, list, search, read properties and statistics.
    case read
    /// Set and delete properties.
    case annotate
    /// Upload new files, create folders, be the target of a copy or move.
    case write
    /// Delete files and folders, overwrite a file, be the source of a move.
    case delete
    /// Every action above, and change the repository's settings (description, anonymous read, quota).
    case manage

    public static func < (lhs: RepositoryAction, rhs: RepositoryAction) -> Bool {
        lhs.rank < rhs.rank
    }

    /// Its place in `allCases` (the order actions are shown in).
    var rank: Int {
        switch self {
        case .read: 0
        case .annotate: 1
        case .write: 2
        case .delete: 3
        case .manage: 4
        }
    }

    /// The actions a grant of `actions` allows: `manage` holds every other.
    static func closure(_ actions: Set<RepositoryAction>) -> Set<RepositoryAction> {
        actions.contains(.manage) ? Set(allCases) : actions
    }

    /// Parses a list as the API and the CLI spell it; `field` names the list in the error.
    public static func parse(_ names: [String], field: String) throws(WardenError) -> Set<RepositoryAction> {
        var actions: Set<RepositoryAction> = []
        for (index, name) in names.enumerated() {
            guard let action = RepositoryAction(rawValue: name.lowercased()) else {
                throw WardenError.invalid(
                    "\(field)[\(index)]", "'\(name)' is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            actions.insert(action)
        }
        return actions
    }
}

/// Binds repositories (keys, or every repository) and the paths in them to users and groups with actions
/// (the artifact service's permission target).
public struct PermissionTarget: Sendable, Equatable {
    /// The repository key that stands for every repository, present and future.
    public static let anyRepository = "ANY"

    public var name: String
    /// Repository keys, or `["ANY"]`.
    public var repositories: [String]
    /// Ant patterns a path must match (`**` when empty).
    public var includePatterns: [String]
    /// Ant patterns no path may match.
    public var excludePatterns: [String]
    /// User name → the actions granted to it.
    public var users: [String: Set<RepositoryAction>]
    /// Group name → the actions granted to its members.
    public var groups: [String: Set<RepositoryAction>]

    public init(
        name: String, repositories: [String], includePatterns: [String] = ["**"], excludePatterns: [String] = [],
        users: [String: Set<RepositoryAction>] = [:], groups: [String: Set<RepositoryAction>] = [:]
    ) {
        self.name = name
        self.repositories = repositories
        self.includePatterns = includePatterns
        self.excludePatterns = excludePatterns
        self.users = users
        self.groups = groups
    }

    /// Whether the target covers `path` of repository `repo`.
    public func covers(repo: String, path: String) -> Bool {
        guard repositories.contains(Self.anyRepository) || repositories.contains(repo) else { return false }
        let included = includePatterns.isEmpty || includePatterns.contains { AntPattern($0).matches(path) }
        return included && !excludePatterns.contains { AntPattern($0).matches(path) }
    }
}

/// A named set of users (tokens and dashboard users are users by name). New users join the groups marked
/// `autoJoin` when they are created.
public struct UserGroup: Sendable, Equatable {
    public var name: String
    public var description: String
    public var autoJoin: Bool
    /// User names, sorted.
    public var members: [String]

    public init(name: String, description: String = "", autoJoin: Bool = false, members: [String] = []) {
        self.name = name
        self.description = description
        self.autoJoin = autoJoin
        self.members = members
    }
}

/// Permission targets and groups, each method one transaction.
public protocol PermissionStore: Sendable {
    func permissionTargets() async throws -> [PermissionTarget]
    /// Creates or replaces the target of that name. Returns whether it was new.
    func savePermissionTarget(_ target: PermissionTarget) async throws -> Bool
    /// False when there was no such target.
    func deletePermissionTarget(name: String) async throws -> Bool
    func userGroups() async throws -> [UserGroup]
    /// Creates or replaces the group of that name (with its members). Returns whether it was new.
    func saveUserGroup(_ group: UserGroup) async throws -> Bool
    /// Deletes the group and its memberships; the targets that granted to it lose that grant. False when absent.
    func deleteUserGroup(name: String) async throws -> Bool
    /// Adds `user` to every group marked `autoJoin`.
    func joinAutoJoinGroups(user: String) async throws
}

/// Where a limited caller may act: one repository (or any), the paths under a folder, some actions.
public struct RepositoryReach: Sendable, Equatable {
    /// `nil` for every repository.
    public var repo: String?
    /// A folder path (no leading or trailing slash); `""` for the whole repository.
    public var folder: String
    public var actions: Set<RepositoryAction>

    public init(repo: String?, folder: String = "", actions: Set<RepositoryAction>) {
        self.repo = repo
        self.folder = folder
        self.actions = actions
    }

    /// A `nil` path: anywhere in the repository.
    public func allows(_ action: RepositoryAction, repo: String, path: String?) -> Bool {
        guard self.repo == nil || self.repo == repo, actions.contains(action) else { return false }
        guard let path else { return true }
        return folder.isEmpty || path == folder || path.hasPrefix(folder + "/")
    }
}

/// Whose repository rights a caller has.
public enum RepositoryRights: Sendable, Equatable {
    /// Admins have every right; other callers what permission targets grant their name and its groups.
    case granted
    /// What permission targets grant `owner` (every right when `ownerIsAdmin`), no more than `within` allows: a
    /// worker's run token, its owner narrowed to its manifest.
    case owner(String, ownerIsAdmin: Bool, within: [RepositoryReach])
    /// Exactly these reaches, whatever anyone is granted: a runner's upload token, its run's archive folder.
    case only([RepositoryReach])

    /// A runner's upload token for run `run` of pipeline `pipeline`: write in its archive folder, nothing else.
    public static func upload(archiveRepository: String, pipeline: Int64, run: Int64) -> RepositoryRights {
        .only([RepositoryReach(repo: archiveRepository, folder: "\(pipeline)/\(run)", actions: [.write])])
    }
}
