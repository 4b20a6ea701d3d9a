import Foundation
import Testing

/// A worker's run token (`context.platformToken`) on a live server: its owner's rights, narrowed to its manifest's
/// `platformAccess` (issue 11; docs/permissions.md).
@Suite("worker run tokens, end to end", .serialized)
struct PermissionEndToEndTests {
    /// Takes each step of `data.steps` through platformHttp and returns the statuses.
    static let prober = """
        export default async (context, data) => {
          const http = context.clients.platformHttp;
          const statuses = [];
          for (const step of data.steps) {
            try {
              const r = step.method === 'GET' ? await http.get(step.path)
                : step.method === 'PUT' ? await http.put(step.path, step.body ?? 'x', { 'Content-Type': 'text/plain' })
                : step.method === 'DELETE' ? await http.delete(step.path)
                : await http.post(step.path, step.body ?? '', { 'Content-Type': 'text/plain' });
              statuses.push(r.status);
            } catch (e) {
              statuses.push(e.status ?? String(e.message));
            }
          }
          return { statuses };
        };
        """

    /// Read libs, read docs, write libs, delete in libs.
    static var steps: [[String: Any]] {
        [
            ["method": "GET", "path": "/artifactory/libs/a.txt"],
            ["method": "GET", "path": "/artifactory/docs/b.txt"],
            ["method": "PUT", "path": "/artifactory/libs/written.txt"],
            ["method": "DELETE", "path": "/artifactory/libs/a.txt"],
        ]
    }

    func statuses(_ server: LiveServer, _ key: String, token: String? = nil) async throws -> [Int] {
        let reply = try await server.request("POST", "/worker/api/v1/execute/\(key)", json: ["steps": Self.steps], token: token)
        let data = (reply.body as? [String: Any])?["data"] as? [String: Any]
        return try #require(data?["statuses"] as? [Int], "\(String(describing: reply.body))")
    }

    func start() async throws -> LiveServer {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-run-tokens"))
        try await server.createRepository("libs")
        try await server.createRepository("docs")
        #expect(try await server.text("PUT", "/artifactory/libs/a.txt", body: "a").status == 201)
        #expect(try await server.text("PUT", "/artifactory/docs/b.txt", body: "b").status == 201)
        return server
    }

    func worker(_ key: String, access: Any?, project: String? = nil) -> [String: Any] {
        var body: [String: Any] = ["key": key, "action": "GENERIC_EVENT", "sourceCode": Self.prober, "enabled": true, "shared": true]
        if let access { body["platformAccess"] = access }
        if let project { body["projectKey"] = project }
        return body
    }

    @Test func anAdminsWorkerReachesWhatItsManifestDeclaresAndNoMore() async throws {
        let server = try await start()
        defer { server.stop() }
        // No declaration and no repository filter: nothing.
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: worker("bare", access: nil)).status == 201)
        #expect(try await statuses(server, "bare") == [403, 403, 403, 403])
        let readsLibs = worker("reads-libs", access: ["repositories": ["libs"], "actions": ["read"]])
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: readsLibs).status == 201)
        #expect(try await statuses(server, "reads-libs") == [200, 403, 403, 403])
        let writes = worker("writes-libs", access: ["repositories": ["libs"], "actions": ["read", "write", "delete"]])
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: writes).status == 201)
        #expect(try await statuses(server, "writes-libs") == [200, 403, 201, 204])
        // The worker's own token manages nothing, whatever its owner may.
        let manage = try await server.request(
            "POST", "/worker/api/v1/workers", json: worker("manages", access: ["repositories": ["libs"], "actions": ["manage"]]))
        #expect(manage.status == 400 && "\(String(describing: manage.body))".contains("never manages"), "\(String(describing: manage.body))")
        let bad = try await server.request(
            "POST", "/worker/api/v1/workers", json: worker("empty-access", access: ["repositories": [], "actions": ["read"]]))
        #expect(bad.status == 400 && "\(String(describing: bad.body))".contains("platformAccess.repositories"), "\(String(describing: bad.body))")
        let shown = try await server.request("GET", "/worker/api/v1/workers/reads-libs")
        #expect(((shown.body as? [String: Any])?["platformAccess"] as? [String: Any])?["actions"] as? [String] == ["read"])
    }

    @Test func aWorkerHasItsLastEditorsRightsNotItsCreatorsNorItsCallers() async throws {
        let server = try await start()
        defer { server.stop() }
        let made = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "pa", "scope": "project-admin", "projectKey": "p1"])
        let projectAdmin = try #require((made.body as? [String: Any])?["token"] as? String)
        let access: [String: Any] = ["repositories": ["libs", "docs"], "actions": ["read"]]
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: worker("shared", access: access, project: "p1")).status == 201)
        #expect(try await statuses(server, "shared") == [200, 200, 403, 403])
        // Executed by a caller who may read nothing: still the owner's rights (as the reference does).
        #expect(try await statuses(server, "shared", token: projectAdmin) == [200, 200, 403, 403])
        // A project admin who edits the admin's worker makes it its own: the admin's rights go.
        let edit = try await server.request(
            "PUT", "/worker/api/v1/workers", json: ["key": "shared", "description": "mine now"], token: projectAdmin)
        #expect(edit.status == 204, "\(String(describing: edit.body))")
        #expect(try await statuses(server, "shared") == [403, 403, 403, 403])
        // Granted read on libs, the project admin's worker reads libs (and still no more than its manifest).
        let target: [String: Any] = ["name": "pa-libs", "repo": ["repositories": ["ANY"], "actions": ["users": ["pa": ["read", "write"]]]]]
        #expect(try await server.request("POST", "/artifactory/api/v2/security/permissions", json: target).status == 201)
        #expect(try await statuses(server, "shared") == [200, 200, 403, 403])
    }

    @Test func permissionAndGroupCommandsWorkOnTheServersData() async throws {
        let server = try await start()
        defer { server.stop() }
        let made = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "ci", "scope": "user"])
        let ci = try #require((made.body as? [String: Any])?["token"] as? String)
        func warden(_ arguments: [String]) async throws -> CLI.Output { try await CLI.run(arguments + ["--data", server.data.path]) }
        func status(_ method: String, _ path: String) async throws -> Int {
            try await server.text(method, path, body: method == "PUT" ? "x" : nil, token: .some(ci)).status
        }

        let unknownRepository = try await warden(["permission", "create", "--name", "t", "--repo", "nope", "--user", "ci=read"])
        #expect(unknownRepository.status == 2 && unknownRepository.stderr.contains("repo.repositories[0]"), "\(unknownRepository.stderr)")
        let badAction = try await warden(["permission", "create", "--name", "t", "--repo", "libs", "--user", "ci=fly"])
        #expect(badAction.status == 2 && badAction.stderr.contains("--user[0]: 'fly' is not one of"), "\(badAction.stderr)")
        let ghost = try await warden(["group", "create", "--name", "builders", "--member", "ghost"])
        #expect(ghost.status == 2 && ghost.stderr.contains("userNames[0]: no token or dashboard user is named 'ghost'"), "\(ghost.stderr)")

        #expect(try await warden(["group", "create", "--name", "builders", "--description", "CI", "--member", "ci"]).status == 0)
        #expect(try await warden(["group", "create", "--name", "builders"]).stderr.contains("exists already"))
        let created = try await warden(["permission", "create", "--name", "libs-read", "--repo", "libs", "--group", "builders=read"])
        #expect(created.status == 0 && created.stdout.contains("created permission target libs-read"), "\(created.stderr)")
        try await server.eventually("the grant to reach the server") { try await status("GET", "/artifactory/libs/a.txt") == 200 }
        #expect(try await status("PUT", "/artifactory/libs/by-ci.txt") == 403)
        #expect(try await warden(["permission", "list"]).stdout.contains("libs-read"))
        #expect(try await warden(["permission", "show", "libs-read"]).stdout.contains("group builders: read"))
        #expect(try await warden(["group", "show", "builders"]).stdout.contains("members: ci"))

        #expect(try await warden(["permission", "update", "libs-read", "--user", "ci=write", "--revoke", "builders"]).status == 0)
        try await server.eventually("the change to reach the server") { try await status("GET", "/artifactory/libs/a.txt") == 403 }
        #expect(try await status("PUT", "/artifactory/libs/by-ci.txt") == 201)
        #expect(try await warden(["group", "update", "builders", "--remove-member", "ci", "--auto-join", "true"]).status == 0)
        #expect(try await warden(["group", "list"]).stdout.contains("builders  yes"))
        #expect(try await warden(["permission", "delete", "libs-read"]).status == 0)
        #expect(try await warden(["group", "delete", "builders"]).status == 0)
        #expect(try await warden(["permission", "show", "libs-read"]).status == 1)
        try await server.eventually("the deletion to reach the server") { try await status("PUT", "/artifactory/libs/again.txt") == 403 }
    }
}
