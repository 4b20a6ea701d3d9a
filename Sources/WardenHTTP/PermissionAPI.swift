import Foundation
import Hummingbird
import WardenCore

/// The artifact service's security API (docs/permissions.md): permission targets under
/// `/artifactory/api/v2/security/permissions`, groups under `/artifactory/api/security/groups`. Admins only.
extension ArtifactAPI {
    var permissions: PermissionService { service.permissions }

    func permissionTargets(_ request: Request, _ context: Context, name: String?) async throws -> Response {
        let principal = context.caller
        switch (request.method, name) {
        case (.get, nil):
            return Response.json(
                try await permissions.targets(by: principal).map {
                    ["name": $0.name, "uri": "\(baseURL(request))/api/v2/security/permissions/\($0.name)"]
                })
        case (.get, let name?):
            return Response.json(Self.render(try await permissions.target(named: name, by: principal)))
        case (.post, nil), (.put, _), (.post, _):
            let body = try await JSONBody.read(request)
            let target = try Self.target(from: body, name: name)
            let service = self.service
            let exists: (String) async throws -> Bool = { try await service.repositoryExists($0) }
            if request.method == .post, name == nil {
                try await permissions.create(target, repositoryExists: exists, by: principal)
                return Response(status: .created)
            }
            return Response(status: try await permissions.save(target, repositoryExists: exists, by: principal) ? .created : .ok)
        case (.delete, let name?):
            try await permissions.deleteTarget(named: name, by: principal)
            return Response(status: .noContent)
        default:
            throw WardenError(.badRequest, "\(request.method) is not an operation on permission targets")
        }
    }

    /// `{name, repo: {repositories, include-patterns, exclude-patterns, actions: {users: {name: [..]}, groups: {..}}}}`.
    static func target(from body: JSONBody, name pathName: String?) throws -> PermissionTarget {
        let given = try body.string("name")
        if let pathName, let given, given != pathName {
            throw WardenError.invalid("name", "'\(given)' differs from the name in the path '\(pathName)'")
        }
        guard let name = pathName ?? given else { throw WardenError.invalid("name", "is required") }
        guard let repo = try body.object("repo") else {
            throw WardenError.invalid("repo", "is required: {repositories, include-patterns, exclude-patterns, actions}")
        }
        guard let repositories = try repo.strings("repositories") else {
            throw WardenError.invalid("repo.repositories", "is required: repository keys, or [\"ANY\"]")
        }
        let actions = try repo.object("actions")
        return PermissionTarget(
            name: name, repositories: repositories, includePatterns: try repo.strings("include-patterns") ?? ["**"],
            excludePatterns: try repo.strings("exclude-patterns") ?? [], users: try grants(actions, "users"),
            groups: try grants(actions, "groups"))
    }

    static func grants(_ actions: JSONBody?, _ kind: String) throws -> [String: Set<RepositoryAction>] {
        guard let actions, let map = try actions.object(kind) else { return [:] }
        var grants: [String: Set<RepositoryAction>] = [:]
        for key in map.object.keys.sorted() {
            let field = "repo.actions.\(kind).\(key)"
            guard let names = map.object[key] as? [Any], let strings = names as? [String] else {
                throw WardenError.invalid(field, "must be a list of actions (read, annotate, write, delete, manage)")
            }
            grants[key] = try RepositoryAction.parse(strings, field: field)
        }
        return grants
    }

    static func render(_ target: PermissionTarget) -> [String: Any] {
        func grants(_ map: [String: Set<RepositoryAction>]) -> [String: [String]] { map.mapValues { $0.sorted().map(\.rawValue) } }
        return [
            "name": target.name,
            "repo": [
                "repositories": target.repositories, "include-patterns": target.includePatterns, "exclude-patterns": target.excludePatterns,
                "actions": ["users": grants(target.users), "groups": grants(target.groups)],
            ] as [String: Any],
        ]
    }

    func groups(_ request: Request, _ context: Context, name: String?) async throws -> Response {
        let principal = context.caller
        switch (request.method, name) {
        case (.get, nil):
            return Response.json(
                try await permissions.groups(by: principal).map { ["name": $0.name, "uri": "\(baseURL(request))/api/security/groups/\($0.name)"] })
        case (.get, let name?):
            return Response.json(Self.render(try await permissions.group(named: name, by: principal)))
        case (.put, let name?), (.post, let name?):
            let body = try await JSONBody.read(request)
            if let given = try body.string("name"), given != name {
                throw WardenError.invalid("name", "'\(given)' differs from the name in the path '\(name)'")
            }
            let (description, autoJoin, members) = (try body.string("description"), try body.bool("autoJoin"), try body.strings("userNames"))
            // PUT replaces the group; POST changes the fields it names.
            if request.method == .post {
                try await permissions.update(groupNamed: name, description: description, autoJoin: autoJoin, members: members, by: principal)
                return Response(status: .ok)
            }
            let group = UserGroup(name: name, description: description ?? "", autoJoin: autoJoin ?? false, members: members ?? [])
            return Response(status: try await permissions.save(group, by: principal) ? .created : .ok)
        case (.delete, let name?):
            try await permissions.deleteGroup(named: name, by: principal)
            return Response(status: .noContent)
        default:
            throw WardenError(.badRequest, "\(request.method) is not an operation on groups (name the group in the path)")
        }
    }

    static func render(_ group: UserGroup) -> [String: Any] {
        ["name": group.name, "description": group.description, "autoJoin": group.autoJoin, "userNames": group.members]
    }
}
