import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore

/// Permission targets, groups and quotas through the artifact service's API (issue 11; docs/permissions.md).
@Suite("Permissions")
struct PermissionTests {
    /// `libs` with files in two team folders and a key file, and an anonymous-read `public`.
    func withRepositories(_ body: @escaping @Sendable (Harness.Client) async throws -> Void) async throws {
        try await Harness().session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/api/repositories/public", json: ["anonymousRead": true]).status == .ok)
            for path in ["team-a/app.jar", "team-a/secret.key", "team-b/lib.jar"] {
                #expect(try await client.send(.put, "/artifactory/libs/\(path)", raw: path).status == .created)
            }
            #expect(try await client.send(.put, "/artifactory/public/readme.txt", raw: "hello").status == .created)
            try await body(client)
        }
    }

    func status(_ client: Harness.Client, _ method: HTTPRequest.Method, _ uri: String, _ token: String?, raw: String? = nil) async throws
        -> HTTPResponse.Status
    {
        try await client.send(method, uri, token: token, raw: raw).status
    }

    // MARK: Finding 3: no permission model

    @Test func aTokenWithoutAGrantReachesNoPrivateRepository() async throws {
        try await withRepositories { client in
            for token in [Harness.user, Harness.projectAdmin] {
                #expect(try await status(client, .get, "/artifactory/libs/team-a/app.jar", token) == .forbidden)
                #expect(try await status(client, .put, "/artifactory/libs/team-a/new.jar", token, raw: "x") == .forbidden)
                #expect(try await status(client, .delete, "/artifactory/libs/team-a/app.jar", token) == .forbidden)
                #expect(try await status(client, .put, "/artifactory/api/storage/libs/team-a/app.jar?properties=a=1", token) == .forbidden)
                #expect(try await status(client, .get, "/artifactory/api/storage/libs/team-a", token) == .forbidden)
                let search = try await client.send(
                    .post, "/artifactory/api/search/aql", token: token, raw: #"items.find({"name": {"$match": "*"}})"#)
                let found = (search.object["results"] as? [[String: Any]])?.compactMap { $0["repo"] as? String } ?? []
                #expect(Set(found) == ["public"], "\(search.text)")
                let listed = (try await client.send(.get, "/artifactory/api/repositories", token: token).json as? [[String: Any]])?.compactMap {
                    $0["key"] as? String
                }
                #expect(listed == ["public"])
                // What anonymous may read, any token may read.
                #expect(try await client.send(.get, "/artifactory/public/readme.txt", token: token).text == "hello")
                #expect(try await status(client, .put, "/artifactory/public/mine.txt", token, raw: "x") == .forbidden)
            }
            #expect(try await status(client, .get, "/artifactory/libs/team-a/app.jar", nil) == .unauthorized)
            #expect(try await status(client, .get, "/artifactory/nothing/here.txt", nil) == .unauthorized)
            #expect(try await status(client, .get, "/artifactory/nothing/here.txt", Harness.user) == .notFound)
            #expect(try await client.send(.get, "/artifactory/public/readme.txt", token: nil).text == "hello")
            // Nothing was changed by the refusals.
            #expect(try await client.send(.get, "/artifactory/libs/team-a/app.jar").text == "team-a/app.jar")
            #expect(try await status(client, .get, "/artifactory/api/storage/libs/team-a/new.jar", Harness.admin) == .notFound)
        }
    }

    @Test func aTargetGrantsItsActionsOnItsPathsOnly() async throws {
        try await withRepositories { client in
            try await Harness.grant(
                client, name: "team-a", repositories: ["libs"], include: ["team-a/**"], users: ["user": ["read", "write"]])
            let body: [String: Any] = [
                "name": "team-a",
                "repo": [
                    "repositories": ["libs"], "include-patterns": ["team-a/**"], "exclude-patterns": ["**/*.key"],
                    "actions": ["users": ["user": ["read", "write"]]],
                ],
            ]
            #expect(try await client.send(.put, "/artifactory/api/v2/security/permissions/team-a", json: body).status == .ok)
            let shown = try await client.send(.get, "/artifactory/api/v2/security/permissions/team-a")
            #expect(((shown.object["repo"] as? [String: Any])?["exclude-patterns"] as? [String]) == ["**/*.key"])
            let user = Harness.user
            #expect(try await client.send(.get, "/artifactory/libs/team-a/app.jar", token: user).text == "team-a/app.jar")
            #expect(try await status(client, .get, "/artifactory/libs/team-a/secret.key", user) == .forbidden)
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", user) == .forbidden)
            #expect(try await status(client, .put, "/artifactory/libs/team-a/new.jar", user, raw: "new") == .created)
            #expect(try await status(client, .put, "/artifactory/libs/team-b/new.jar", user, raw: "new") == .forbidden)
            // Overwriting a file is a delete too; deleting is not granted.
            #expect(try await status(client, .put, "/artifactory/libs/team-a/app.jar", user, raw: "changed") == .forbidden)
            #expect(try await status(client, .delete, "/artifactory/libs/team-a/new.jar", user) == .forbidden)
            #expect(try await status(client, .put, "/artifactory/api/storage/libs/team-a/app.jar?properties=a=1", user) == .forbidden)
            // A folder listing and a search show only what the caller may read.
            let listing = try await client.send(.get, "/artifactory/api/storage/libs/team-a", token: user)
            let children = (listing.object["children"] as? [[String: Any]])?.compactMap { $0["uri"] as? String }
            #expect(children == ["/app.jar", "/new.jar"], "\(listing.text)")
            let search = try await client.send(.post, "/artifactory/api/search/aql", token: user, raw: #"items.find({"repo": "libs"})"#)
            let names = (search.object["results"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted()
            #expect(names == ["app.jar", "new.jar"], "\(search.text)")
            // Another caller still reaches nothing.
            #expect(try await status(client, .get, "/artifactory/libs/team-a/app.jar", Harness.projectAdmin) == .forbidden)
            #expect(try await client.send(.get, "/artifactory/libs/team-a/app.jar").text == "team-a/app.jar")
        }
    }

    @Test func groupsGrantToTheirMembersAndTakeTheirGrantsWithThemWhenDeleted() async throws {
        try await withRepositories { client in
            let group = try await client.send(
                .put, "/artifactory/api/security/groups/builders", json: ["description": "CI", "userNames": ["pa1", "user"]])
            #expect(group.status == .created, "\(group.text)")
            try await Harness.grant(client, name: "builders-libs", repositories: ["libs"], groups: ["builders": ["read", "delete"]])
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", Harness.projectAdmin) == .ok)
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", Harness.otherProjectAdmin) == .forbidden)
            // POST changes only what it names.
            #expect(try await client.send(.post, "/artifactory/api/security/groups/builders", json: ["userNames": ["pa1"]]).status == .ok)
            let shown = try await client.send(.get, "/artifactory/api/security/groups/builders")
            #expect(shown.object["description"] as? String == "CI" && shown.object["userNames"] as? [String] == ["pa1"])
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", Harness.user) == .forbidden)
            #expect(try await status(client, .delete, "/artifactory/libs/team-b/lib.jar", Harness.projectAdmin) == .noContent)
            #expect(try await client.send(.delete, "/artifactory/api/security/groups/builders").status == .noContent)
            let target = try await client.send(.get, "/artifactory/api/v2/security/permissions/builders-libs")
            #expect((((target.object["repo"] as? [String: Any])?["actions"] as? [String: Any])?["groups"] as? [String: Any])?.isEmpty == true)
            #expect(try await status(client, .get, "/artifactory/libs/team-a/app.jar", Harness.projectAdmin) == .forbidden)
        }
    }

    @Test func autoJoinGroupsTakeInNewTokensAndDashboardUsers() async throws {
        try await withRepositories { client in
            #expect(try await client.send(.put, "/artifactory/api/security/groups/everyone", json: ["autoJoin": true]).status == .created)
            try await Harness.grant(client, name: "everyone-reads", repositories: ["ANY"], groups: ["everyone": ["read"]])
            let created = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "newcomer", "scope": "user"])
            let token = try #require(created.object["token"] as? String, "\(created.text)")
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", token) == .ok)
            #expect(try await status(client, .get, "/artifactory/libs/team-b/lib.jar", Harness.user) == .forbidden)
            #expect(try await client.send(.post, "/api/users", json: ["username": "ada", "password": "correct horse"]).status == .created)
            let members = try await client.send(.get, "/artifactory/api/security/groups/everyone").object["userNames"] as? [String]
            #expect(members == ["ada", "newcomer"])
        }
    }

    @Test func theSecurityAPIIsForAdminsAndRefusesBadInputByName() async throws {
        try await withRepositories { client in
            let target: (Any) -> [String: Any] = { repo in ["name": "t", "repo": repo] }
            let refusals: [([String: Any], String)] = [
                (["repo": ["repositories": ["libs"]]], "name: is required"),
                (["name": "t"], "repo: is required"),
                (target(["actions": [:]]), "repo.repositories: is required"),
                (target(["repositories": []]), "repo.repositories: must name at least one"),
                (target(["repositories": ["nope"]]), "repo.repositories[0]: repository 'nope' does not exist"),
                (
                    target(["repositories": ["libs"], "actions": ["users": ["user": ["read", "fly"]]]]),
                    "repo.actions.users.user[1]: 'fly' is not one of"
                ),
                (target(["repositories": ["libs"], "actions": ["users": ["user": "read"]]]), "repo.actions.users.user: must be a list"),
                (
                    target(["repositories": ["libs"], "actions": ["users": ["nobody": ["read"]]]]),
                    "repo.actions.users.nobody: no token or dashboard user"
                ),
                (target(["repositories": ["libs"], "actions": ["groups": ["ghosts": ["read"]]]]), "repo.actions.groups.ghosts: no group"),
                (target(["repositories": ["libs"], "actions": ["users": ["user": []]]]), "must grant at least one action"),
                (target(["repositories": ["libs"], "include-patterns": [""]]), "repo.include-patterns[0]: must be 1 to 1024 bytes"),
                (["name": "bad name", "repo": ["repositories": ["libs"]]], "name: must be 1 to 64 letters"),
            ]
            for (body, message) in refusals {
                let reply = try await client.send(.post, "/artifactory/api/v2/security/permissions", json: body)
                #expect(reply.status == .badRequest && reply.error?.contains(message) == true, "\(body): \(reply.text)")
            }
            #expect((try await client.send(.get, "/artifactory/api/v2/security/permissions").json as? [Any])?.isEmpty == true)
            let group = try await client.send(.put, "/artifactory/api/security/groups/g", json: ["userNames": ["user", "ghost"]])
            #expect(group.status == .badRequest && group.error?.contains("userNames[1]: no token or dashboard user is named 'ghost'") == true)
            #expect(try await client.send(.get, "/artifactory/api/security/groups/g").status == .notFound)
            let good: [String: Any] = ["name": "ok", "repo": ["repositories": ["libs"], "actions": ["users": ["user": ["read"]]]]]
            for (token, expected) in [
                (nil, HTTPResponse.Status.unauthorized), (Harness.user, .forbidden), (Harness.projectAdmin, .forbidden),
            ] as [(String?, HTTPResponse.Status)] {
                #expect(try await client.send(.post, "/artifactory/api/v2/security/permissions", token: token, json: good).status == expected)
                #expect(try await client.send(.get, "/artifactory/api/v2/security/permissions", token: token).status == expected)
                #expect(try await client.send(.put, "/artifactory/api/security/groups/x", token: token, json: [:]).status == expected)
                #expect(try await client.send(.get, "/artifactory/api/security/groups", token: token).status == expected)
            }
            #expect(try await client.send(.post, "/artifactory/api/v2/security/permissions", json: good).status == .created)
            #expect(try await client.send(.post, "/artifactory/api/v2/security/permissions", json: good).status == .conflict)
            #expect(try await client.send(.delete, "/artifactory/api/v2/security/permissions/ok").status == .noContent)
            #expect(try await client.send(.delete, "/artifactory/api/v2/security/permissions/ok").status == .notFound)
        }
    }

    @Test func manageChangesARepositorysSettingsButCreatesNone() async throws {
        try await withRepositories { client in
            try await Harness.grant(client, name: "libs-owner", repositories: ["libs"], users: ["user": ["manage"]])
            let user = Harness.user
            let changed = try await client.send(.post, "/artifactory/api/repositories/libs", token: user, json: ["description": "ours"])
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(try await client.send(.get, "/artifactory/api/repositories/libs", token: user).object["description"] as? String == "ours")
            #expect(try await status(client, .put, "/artifactory/libs/team-a/app.jar", user, raw: "over") == .created)
            #expect(try await client.send(.put, "/artifactory/api/repositories/mine", token: user, json: [:]).status == .forbidden)
            #expect(
                try await client.send(.post, "/artifactory/api/repositories/public", token: user, json: ["description": "x"]).status == .forbidden)
            #expect(try await client.send(.delete, "/artifactory/api/repositories/libs?force=true", token: user).status == .forbidden)
        }
    }

    // MARK: Quotas

    @Test func aQuotaRefusesUploadsAndCopiesThatWouldPassIt() async throws {
        try await withRepositories { client in
            // libs holds 14 + 17 + 14 = 45 bytes.
            for bad in ["-1", "0", "1.5", "true", "\"10\""] {
                let reply = try await client.send(.post, "/artifactory/api/repositories/libs", raw: #"{"quotaBytes": \#(bad)}"#)
                #expect(reply.status == .badRequest && reply.error?.contains("quotaBytes") == true, "\(bad): \(reply.text)")
            }
            #expect(try await client.send(.post, "/artifactory/api/repositories/libs", json: ["quotaBytes": 50]).status == .ok)
            #expect(try await client.send(.get, "/artifactory/api/repositories/libs").object["quotaBytes"] as? Int == 50)
            #expect(try await status(client, .put, "/artifactory/libs/small.txt", Harness.admin, raw: "12345") == .created)
            let over = try await client.send(.put, "/artifactory/libs/big.txt", raw: "123456")
            #expect(over.status == .contentTooLarge, "\(over.text)")
            #expect(over.error?.contains("repository 'libs' has a quota of 50 bytes") == true, "\(over.text)")
            #expect(try await status(client, .get, "/artifactory/api/storage/libs/big.txt", Harness.admin) == .notFound)
            // Replacing a file counts the new size only.
            #expect(try await status(client, .put, "/artifactory/libs/small.txt", Harness.admin, raw: "54321") == .created)
            let copy = try await client.send(.post, "/artifactory/api/copy/public/readme.txt?to=/libs/readme.txt")
            #expect(copy.status == .contentTooLarge, "\(copy.text)")
            #expect(try await status(client, .get, "/artifactory/api/storage/libs/readme.txt", Harness.admin) == .notFound)
            #expect(try await client.send(.post, "/artifactory/api/repositories/libs", raw: #"{"quotaBytes": null}"#).status == .ok)
            #expect(try await status(client, .put, "/artifactory/libs/big.txt", Harness.admin, raw: "123456") == .created)
        }
    }
}
