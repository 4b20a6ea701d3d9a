import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore
import WardenHTTP

/// The runners API v4 through the router: every route, its answer shape and its error rules.
@Suite("Runners API v4 contract")
struct RunnersV4APITests {
    func withRegistry(_ body: @escaping @Sendable (Harness.Client, String) async throws -> Void) async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let reset = try await client.send(.post, "/api/v4/runners/reset_registration_token")
            #expect(reset.status == .created)
            let token = try #require(reset.object["token"] as? String)
            try await body(client, token)
        }
    }

    @Test func registerVerifyAndDeleteByToken() async throws {
        try await withRegistry { client, registration in
            let created = try await client.send(
                .post, "/api/v4/runners", token: nil,
                json: ["token": registration, "description": "r1", "tag_list": "a, b", "run_untagged": "False", "maximum_timeout": "600"])
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.object["id"] as? Int)
            let token = try #require(created.object["token"] as? String)
            #expect(created.object.keys.contains("token_expires_at"))
            let detail = try await client.send(.get, "/api/v4/runners/\(id)")
            #expect(detail.object["tag_list"] as? [String] == ["a", "b"])
            #expect(detail.object["run_untagged"] as? Bool == false && detail.object["maximum_timeout"] as? Int == 600)
            #expect(detail.object["status"] as? String == "never_contacted" && detail.object["runner_type"] as? String == "instance_type")
            // Form bodies and query strings are read as well as JSON.
            let form = try await client.send(.post, "/api/v4/runners?token=\(registration)&tag_list[]=x", token: nil, raw: "description=from+form")
            #expect(form.status == .created, "\(form.text)")
            #expect(try await client.send(.post, "/api/v4/runners/verify", token: nil, json: ["token": token]).object["id"] as? Int == id)
            #expect(try await client.send(.get, "/api/v4/runners/\(id)").object["online"] as? Bool == true)
            // Error rules.
            let missing = try await client.send(.post, "/api/v4/runners", token: nil, json: [:])
            #expect(missing.status == .badRequest && missing.object["error"] as? String == "token is missing")
            #expect(try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": "nope"]).status == .forbidden)
            // A runner's own authentication token does not register another runner; the registration token does, again.
            #expect(try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": token]).status == .forbidden)
            #expect(try await client.send(.get, "/api/v4/runners/all").headers[HTTPField.Name("X-Total")!] == "2")
            let level = try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": registration, "access_level": "all"])
            #expect(level.status == .badRequest && (level.object["message"] as? [String: [String]])?["access_level"] != nil)
            let timeout = try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": registration, "maximum_timeout": 5])
            #expect(timeout.status == .badRequest && (timeout.object["message"] as? [String: [String]])?["maximum_timeout"] != nil)
            #expect(try await client.send(.post, "/api/v4/runners/verify", token: nil, json: ["token": "glrt-x"]).status == .forbidden)
            #expect(try await client.send(.delete, "/api/v4/runners?token=glrt-x", token: nil).status == .forbidden)
            #expect(try await client.send(.delete, "/api/v4/runners", token: nil, json: ["token": token]).status == .noContent)
            #expect(try await client.send(.get, "/api/v4/runners/\(id)").object["message"] as? String == "404 Runner Not Found")
            // A registration token that was reset stops working.
            #expect(try await client.send(.post, "/api/v4/runners/reset_registration_token").status == .created)
            #expect(try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": registration]).status == .forbidden)
        }
    }

    @Test func listsFiltersPagingUpdateAndAccess() async throws {
        try await withRegistry { client, registration in
            for index in 0..<7 {
                _ = try await client.send(
                    .post, "/api/v4/runners", token: nil,
                    json: ["token": registration, "description": "r\(index)", "tag_list": index < 3 ? ["gpu"] : []])
            }
            let page = try await client.send(.get, "/api/v4/runners/all?per_page=3&page=2")
            #expect((page.json as? [Any])?.count == 3)
            #expect(page.headers[HTTPField.Name("X-Total")!] == "7" && page.headers[HTTPField.Name("X-Total-Pages")!] == "3")
            #expect(page.headers[HTTPField.Name("X-Next-Page")!] == "3" && page.headers[HTTPField.Name("X-Prev-Page")!] == "1")
            #expect(page.headers[HTTPField.Name("Link")!]?.contains("rel=\"next\"") == true)
            let last = try await client.send(.get, "/api/v4/runners/all?per_page=3&page=3")
            #expect(last.headers[HTTPField.Name("X-Next-Page")!] == "" && last.headers[HTTPField.Name("Link")!]?.contains("rel=\"next\"") == false)
            #expect((try await client.send(.get, "/api/v4/runners/all?tag_list=gpu").json as? [Any])?.count == 3)
            #expect(try await client.send(.get, "/api/v4/runners/all?status=bogus").status == .badRequest)
            #expect(try await client.send(.get, "/api/v4/runners/all?paused=maybe").status == .badRequest)
            #expect(try await client.send(.get, "/api/v4/runners/all", token: Harness.user).status == .forbidden)
            #expect(try await client.send(.get, "/api/v4/runners/all", token: "wrong").status == .unauthorized)
            #expect(try await client.send(.get, "/api/v4/runners/all", token: nil).object["message"] as? String == "401 Unauthorized")
            // PRIVATE-TOKEN works like Bearer.
            let privateToken = try await client.send(.get, "/api/v4/user", token: nil, headers: ["PRIVATE-TOKEN": Harness.admin])
            #expect(privateToken.object["is_admin"] as? Bool == true && privateToken.object["id"] as? Int == 1)
            // Update: only the fields sent; active and paused together are refused; numbers and booleans as strings.
            let first = try #require((try await client.send(.get, "/api/v4/runners/all").json as? [[String: Any]])?.first?["id"] as? Int)
            let updated = try await client.send(.put, "/api/v4/runners/\(first)?paused=true", json: ["maximum_timeout": "3600"])
            #expect(updated.object["paused"] as? Bool == true && updated.object["maximum_timeout"] as? Int == 3600)
            #expect(updated.object["description"] as? String == "r0")
            #expect(try await client.send(.put, "/api/v4/runners/\(first)", json: ["active": true, "paused": true]).status == .badRequest)
            #expect(try await client.send(.get, "/api/v4/runners/all?status=paused").json as? [Any] != nil)
            #expect((try await client.send(.get, "/api/v4/runners/all?paused=true").json as? [Any])?.count == 1)
            #expect(try await client.send(.get, "/api/v4/runners/\(first)", token: Harness.user).status == .forbidden)
            #expect(try await client.send(.get, "/api/v4/runners/999").status == .notFound)
            #expect(try await client.send(.get, "/api/v4/runners/abc").status == .badRequest)
            #expect(try await client.send(.get, "/api/v4/runners/\(first)/jobs?status=weird").status == .badRequest)
            #expect((try await client.send(.get, "/api/v4/runners/\(first)/jobs").json as? [Any])?.isEmpty == true)
            #expect(try await client.send(.delete, "/api/v4/runners/\(first)").status == .noContent)
            #expect(try await client.send(.delete, "/api/v4/runners/\(first)").status == .notFound)
        }
    }

    @Test func projectAndGroupRunners() async throws {
        try await withRegistry { client, _ in
            let group = try await client.send(.post, "/api/v4/groups", json: ["name": "acme"])
            let groupID = try #require(group.object["id"] as? Int)
            let project = try await client.send(.post, "/api/v4/projects", json: ["name": "app", "namespace_id": groupID])
            #expect(project.object["path_with_namespace"] as? String == "acme/app")
            let projectID = try #require(project.object["id"] as? Int)
            #expect(try await client.send(.post, "/api/v4/projects", json: ["name": "app", "namespace_id": groupID]).status == .badRequest)
            #expect(try await client.send(.post, "/api/v4/projects", json: ["name": "x", "namespace_id": 99]).status == .notFound)
            #expect(try await client.send(.post, "/api/v4/projects", token: Harness.user, json: ["name": "y"]).status == .forbidden)
            let other = try await client.send(.post, "/api/v4/projects", json: ["name": "site"])
            let otherID = try #require(other.object["id"] as? Int)
            // By number or by URL-encoded path.
            #expect(try await client.send(.get, "/api/v4/projects/acme%2Fapp").object["id"] as? Int == projectID)
            let projectToken = try #require(
                try await client.send(.post, "/api/v4/projects/\(projectID)/runners/reset_registration_token").object["token"] as? String)
            let runner = try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": projectToken, "description": "p"])
            let runnerID = try #require(runner.object["id"] as? Int)
            #expect(try await client.send(.get, "/api/v4/runners/\(runnerID)").object["runner_type"] as? String == "project_type")
            #expect(
                try await client.send(.post, "/api/v4/projects/\(otherID)/runners", json: [:]).object["error"] as? String == "runner_id is missing")
            #expect(try await client.send(.post, "/api/v4/projects/\(otherID)/runners", json: ["runner_id": runnerID]).status == .created)
            #expect(try await client.send(.post, "/api/v4/projects/\(otherID)/runners", json: ["runner_id": runnerID]).status == .badRequest)
            let listed = try await client.send(.get, "/api/v4/projects/root%2Fsite/runners")
            #expect((listed.json as? [[String: Any]])?.map { $0["id"] as? Int } == [runnerID])
            #expect(try await client.send(.delete, "/api/v4/projects/\(projectID)/runners/\(runnerID)").status == .forbidden)
            #expect(try await client.send(.delete, "/api/v4/projects/\(otherID)/runners/\(runnerID)").status == .noContent)
            #expect(try await client.send(.delete, "/api/v4/projects/\(otherID)/runners/\(runnerID)").status == .notFound)
            let groups = try await client.send(.get, "/api/v4/groups/acme/runners")
            #expect((groups.json as? [[String: Any]])?.map { $0["id"] as? Int } == [runnerID])
            #expect(try await client.send(.get, "/api/v4/groups/nope/runners").object["message"] as? String == "404 Group Not Found")
            #expect(try await client.send(.get, "/api/v4/projects/404/runners").object["message"] as? String == "404 Project Not Found")
            // A locked runner cannot be enabled elsewhere.
            _ = try await client.send(.put, "/api/v4/runners/\(runnerID)", json: ["locked": true])
            #expect(try await client.send(.post, "/api/v4/projects/\(otherID)/runners", json: ["runner_id": runnerID]).status == .forbidden)
        }
    }

    /// A text parameter sent as an array or an object is refused naming it, never stored as its description (found
    /// by schemathesis's negative_data_rejection check, issue 16); numbers sent for text stay accepted.
    @Test func anArrayOrAnObjectWhereTextIsExpectedIsRefused() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let array = try await client.send(.post, "/api/v4/groups", json: ["name": [["a": 1], []], "path": "odd"])
            #expect(array.status == .badRequest)
            #expect((array.object["message"] as? [String: [String]])?["name"] == ["is invalid: a text is expected, not an array"])
            let object = try await client.send(.post, "/api/v4/projects", json: ["name": ["x": 1]])
            #expect((object.object["message"] as? [String: [String]])?["name"] == ["is invalid: a text is expected, not an object"])
            #expect(try await client.send(.get, "/api/v4/groups/odd").status == .notFound)
            let numeric = try await client.send(.post, "/api/v4/groups", json: ["name": 2026])
            #expect(numeric.status == .created && numeric.object["path"] as? String == "2026")
        }
    }
}
