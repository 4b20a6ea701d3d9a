import ArgumentParser
import Foundation
import WardenCore
import WardenStorage

/// Whoever runs these on the server's machine acts as an admin (as `warden token` does).
let localAdmin = Principal(name: "local-admin", scope: .admin)

/// `warden permission create|list|show|update|delete`: permission targets, on the server's data folder (the
/// security API under /artifactory/api/v2/security/permissions does the same over HTTP; docs/permissions.md).
struct PermissionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "permission", abstract: "Manage permission targets: which users and groups may do what in which repositories.",
        subcommands: [
            PermissionCreateCommand.self, PermissionListCommand.self, PermissionShowCommand.self, PermissionUpdateCommand.self,
            PermissionDeleteCommand.self,
        ])

    /// `name=read,write` → the name and its actions; `option` names the option in the error.
    static func grants(_ items: [String], option: String) throws -> [String: Set<RepositoryAction>] {
        var grants: [String: Set<RepositoryAction>] = [:]
        for item in items {
            guard let equals = item.lastIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("\(option): '\(item)' is not name=action,action (actions: read, annotate, write, delete, manage)")
            }
            let actions = item[item.index(after: equals)...].split(separator: ",").map(String.init)
            do {
                grants[String(item[..<equals]), default: []].formUnion(try RepositoryAction.parse(actions, field: option))
            } catch {
                throw ValidationError(error.message)
            }
        }
        return grants
    }

    /// Creates (or, `replacing`, replaces) a target; bad input and a name taken are usage errors.
    static func save(_ target: PermissionTarget, replacing: Bool, permissions: PermissionService, storage: any Stores) async throws {
        let exists: (String) async throws -> Bool = { key in
            if key == BuildService.repositoryKey { return true }
            return try await storage.repository(key: key) != nil
        }
        do {
            if replacing {
                _ = try await permissions.save(target, repositoryExists: exists, by: localAdmin)
            } else {
                try await permissions.create(target, repositoryExists: exists, by: localAdmin)
            }
        } catch let error as WardenError where error.code == .badRequest || error.code == .conflict {
            throw ValidationError(error.code == .conflict ? "--name: \(error.message); use `warden permission update`" : error.message)
        }
    }

    static func show(_ target: PermissionTarget) {
        print("permission target \(target.name)")
        print("  repositories: \(target.repositories.joined(separator: ", "))")
        print("  include: \(target.includePatterns.isEmpty ? "**" : target.includePatterns.joined(separator: ", "))")
        print("  exclude: \(target.excludePatterns.joined(separator: ", "))")
        for (kind, grants) in [("user", target.users), ("group", target.groups)] {
            for (name, actions) in grants.sorted(by: { $0.key < $1.key }) {
                print("  \(kind) \(name): \(actions.sorted().map(\.rawValue).joined(separator: ", "))")
            }
        }
    }
}

/// What a target covers and grants, as `create` sets it and `update` changes it (an option given to `update`
/// replaces that part; its grants are added to or change the stored ones).
struct TargetOptions: ParsableArguments {
    @Option(help: "A repository key, or ANY for every repository (repeat for more).") var repo: [String] = []
    @Option(help: "An Ant pattern of paths it covers (repeat; default **).") var include: [String] = []
    @Option(help: "An Ant pattern of paths it does not cover (repeat).") var exclude: [String] = []
    @Option(help: "A user and the actions granted to it: name=read,write (repeat).") var user: [String] = []
    @Option(help: "A group and the actions granted to its members: name=read (repeat).") var group: [String] = []
}

struct PermissionCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a permission target.",
        discussion: "Example: warden permission create --name libs-readers --repo libs --include 'team-a/**' --group team-a=read,write")

    @Option(help: "The target's name.") var name: String
    @OptionGroup var target: TargetOptions
    @OptionGroup var store: DataOptions

    func run() async throws {
        let made = PermissionTarget(
            name: name, repositories: target.repo, includePatterns: target.include.isEmpty ? ["**"] : target.include,
            excludePatterns: target.exclude, users: try PermissionCommand.grants(target.user, option: "--user"),
            groups: try PermissionCommand.grants(target.group, option: "--group"))
        try await store.withStores { stores in
            try await PermissionCommand.save(made, replacing: false, permissions: DataOptions.permissions(stores), storage: stores)
        }
        print("created permission target \(name)")
    }
}

struct PermissionListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List permission targets.")

    @OptionGroup var store: DataOptions

    func run() async throws {
        let targets = try await store.withStores { try await DataOptions.permissions($0).targets(by: localAdmin) }
        Output.table(
            ["NAME", "REPOSITORIES", "USERS", "GROUPS"],
            targets.map {
                [
                    $0.name, $0.repositories.joined(separator: ","), $0.users.keys.sorted().joined(separator: ","),
                    $0.groups.keys.sorted().joined(separator: ","),
                ]
            })
    }
}

struct PermissionShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one permission target.")

    @Argument(help: "The target's name.") var name: String
    @OptionGroup var store: DataOptions

    func run() async throws {
        PermissionCommand.show(try await store.withStores { try await DataOptions.permissions($0).target(named: name, by: localAdmin) })
    }
}

struct PermissionUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a permission target: --repo, --include, --exclude replace that part; --user and --group add or change grants.",
        discussion: "Example: warden permission update libs-readers --user alice=read --revoke bob")

    @Argument(help: "The target's name.") var name: String
    @OptionGroup var changes: TargetOptions
    @Option(help: "Remove every grant to this user or group name (repeat).") var revoke: [String] = []
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { stores in
            let permissions = DataOptions.permissions(stores)
            var target = try await permissions.target(named: name, by: localAdmin)
            if !changes.repo.isEmpty { target.repositories = changes.repo }
            if !changes.include.isEmpty { target.includePatterns = changes.include }
            if !changes.exclude.isEmpty { target.excludePatterns = changes.exclude }
            for name in revoke {
                target.users[name] = nil
                target.groups[name] = nil
            }
            target.users.merge(try PermissionCommand.grants(changes.user, option: "--user")) { $1 }
            target.groups.merge(try PermissionCommand.grants(changes.group, option: "--group")) { $1 }
            try await PermissionCommand.save(target, replacing: true, permissions: permissions, storage: stores)
        }
        print("updated permission target \(name)")
    }
}

struct PermissionDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a permission target.")

    @Argument(help: "The target's name.") var name: String
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { try await DataOptions.permissions($0).deleteTarget(named: name, by: localAdmin) }
        print("deleted permission target \(name)")
    }
}

/// `warden group create|list|show|update|delete`: groups of users (token names and dashboard usernames).
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Manage groups of users that permission targets grant to.",
        subcommands: [GroupCreateCommand.self, GroupListCommand.self, GroupShowCommand.self, GroupUpdateCommand.self, GroupDeleteCommand.self])

    /// Runs a change of groups; bad input and a name taken are usage errors.
    static func change(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as WardenError where error.code == .badRequest || error.code == .conflict {
            throw ValidationError(error.code == .conflict ? "--name: \(error.message); use `warden group update`" : error.message)
        }
    }
}

struct GroupCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a group.", discussion: "Example: warden group create --name team-a --member alice --member ci")

    @Option(help: "The group's name.") var name: String
    @Option(help: "What the group is for.") var description: String = ""
    @Flag(help: "Users created from now on join it.") var autoJoin = false
    @Option(help: "A user name (a token's name or a dashboard username; repeat).") var member: [String] = []
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { stores in
            try await GroupCommand.change {
                try await DataOptions.permissions(stores).create(
                    UserGroup(name: name, description: description, autoJoin: autoJoin, members: member), by: localAdmin)
            }
        }
        print("created group \(name)")
    }
}

struct GroupListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List groups.")

    @OptionGroup var store: DataOptions

    func run() async throws {
        let groups = try await store.withStores { try await DataOptions.permissions($0).groups(by: localAdmin) }
        Output.table(
            ["NAME", "AUTO-JOIN", "MEMBERS", "DESCRIPTION"],
            groups.map { [$0.name, $0.autoJoin ? "yes" : "no", $0.members.joined(separator: ","), $0.description] })
    }
}

struct GroupShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one group.")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var store: DataOptions

    func run() async throws {
        let group = try await store.withStores { try await DataOptions.permissions($0).group(named: name, by: localAdmin) }
        print("group \(group.name)\(group.autoJoin ? " (auto-join)" : "")")
        if !group.description.isEmpty { print("  description: \(group.description)") }
        print("  members: \(group.members.joined(separator: ", "))")
    }
}

struct GroupUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change a group.", discussion: "Example: warden group update team-a --add-member bob --remove-member ci")

    @Argument(help: "The group's name.") var name: String
    @Option(help: "A new description.") var description: String?
    @Option(help: "true or false: whether users created from now on join it.") var autoJoin: Bool?
    @Option(help: "A user to add (repeat).") var addMember: [String] = []
    @Option(help: "A user to remove (repeat).") var removeMember: [String] = []
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { stores in
            let permissions = DataOptions.permissions(stores)
            let members = try await permissions.group(named: name, by: localAdmin).members.filter { !removeMember.contains($0) } + addMember
            try await GroupCommand.change {
                try await permissions.update(groupNamed: name, description: description, autoJoin: autoJoin, members: members, by: localAdmin)
            }
        }
        print("updated group \(name)")
    }
}

struct GroupDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a group (and the grants made to it).")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var store: DataOptions

    func run() async throws {
        try await store.withStores { try await DataOptions.permissions($0).deleteGroup(named: name, by: localAdmin) }
        print("deleted group \(name)")
    }
}
