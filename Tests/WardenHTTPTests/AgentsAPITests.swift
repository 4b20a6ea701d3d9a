import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore
import WardenHTTP

/// The agents API (seed 001) through the router, over the same runners as the v4 dialect.
@Suite("Agents API contract")
struct AgentsAPITests {
    @Test func projectAndCompanyAgentsAcrossDialects() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let admin = ["Authorization": "token \(Harness.admin)"]
            let group = try #require(try await client.send(.post, "/api/v4/groups", json: ["name": "acme"]).object["id"] as? Int)
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app", "namespace_id": group])
            // Registration info gives the token a runner registers with (through the v4 dialect); asked again, the same.
            let info = try await client.send(.get, "/project/acme/app/runners/registration-info", token: nil, headers: admin)
            #expect(info.status == .ok, "\(info.text)")
            let token = try #require(info.object["registrationToken"] as? String)
            #expect((info.object["registrationUrl"] as? String)?.hasSuffix("/api/v4/runners") == true)
            #expect(
                try await client.send(.get, "/project/acme/app/runners/registration-info", token: nil, headers: admin).object["registrationToken"]
                    as? String == token)
            let registered = try await client.send(
                .post, "/api/v4/runners", token: nil,
                json: ["token": token, "description": "builder", "tag_list": ["linux"], "info": ["platform": "linux"]])
            let id = try #require(registered.object["id"] as? Int)
            let companyToken = try #require(
                try await client.send(.get, "/company/acme/runners/registration-info", token: nil, headers: admin).object["registrationToken"]
                    as? String)
            _ = try await client.send(.post, "/api/v4/runners", token: nil, json: ["token": companyToken, "description": "shared-in-acme"])

            let list = try await client.send(.get, "/project/acme/app/runners", token: nil, headers: admin)
            let agents = (list.object["_embedded"] as? [String: Any])?["restPipelineRunnerModelList"] as? [[String: Any]]
            #expect(agents?.count == 1)
            let agent = try #require(agents?.first)
            #expect(agent["ownerType"] as? String == "PROJECT" && agent["tags"] as? [String] == ["linux"] && agent["platform"] as? String == "linux")
            let page = list.object["page"] as? [String: Any]
            #expect(page?["totalElements"] as? Int == 1 && page?["number"] as? Int == 0 && page?["totalPages"] as? Int == 1)
            let uuid = try #require(agent["id"] as? String)
            let companyList = try await client.send(.get, "/company/acme/runners", token: nil, headers: admin)
            let companyAgents = (companyList.object["_embedded"] as? [String: Any])?["restPipelineRunnerModelList"] as? [[String: Any]]
            #expect(companyAgents?.map { $0["ownerType"] as? String } == ["COMPANY"])

            // Edit through the agents dialect, seen through v4.
            let edited = try await client.send(
                .post, "/project/acme/app/runners/\(uuid)/edit", token: nil,
                json: ["name": "eagle", "isProtected": true, "maxTimeoutInSec": 900, "tags": ["a", "b"], "isLocked": true], headers: admin)
            #expect(edited.status == .ok && edited.object["protected"] as? Bool == true && edited.object["locked"] as? Bool == true)
            let v4 = try await client.send(.get, "/api/v4/runners/\(id)")
            #expect(v4.object["access_level"] as? String == "ref_protected" && v4.object["tag_list"] as? [String] == ["a", "b"])
            #expect(v4.object["maximum_timeout"] as? Int == 900 && v4.object["name"] as? String == "eagle")
            let badEdit = try await client.send(
                .post, "/project/acme/app/runners/\(uuid)/edit", token: nil, json: ["isActive": "yes-ish"], headers: admin)
            #expect(badEdit.status == .badRequest && (badEdit.object["message"] as? String)?.contains("isActive") == true)
            let badTimeout = try await client.send(
                .post, "/project/acme/app/runners/\(uuid)/edit", token: nil, json: ["maxTimeoutInSec": 1.5], headers: admin)
            #expect(badTimeout.status == .badRequest && (badTimeout.object["message"] as? String)?.contains("maxTimeoutInSec") == true)
            // Shutdown deactivates.
            #expect(try await client.send(.post, "/project/acme/app/runners/\(uuid)/shutdown", token: nil, headers: admin).status == .ok)
            #expect(try await client.send(.get, "/api/v4/runners/\(id)").object["active"] as? Bool == false)
            // Jobs (none yet), with the status filter checked.
            let jobs = try await client.send(.get, "/project/acme/app/runners/\(uuid)/jobs?jobStatus=SUCCESS", token: nil, headers: admin)
            #expect(((jobs.object["_embedded"] as? [String: Any])?["restPipelineJobModelList"] as? [Any])?.isEmpty == true)
            #expect(
                try await client.send(.get, "/project/acme/app/runners/all/jobs?jobStatus=DONE", token: nil, headers: admin).status == .badRequest)
            #expect(try await client.send(.get, "/project/acme/app/runners/all/jobs", token: nil, headers: admin).status == .ok)
            // Refusals: no header, no rights, unknown project, agent of another scope, unknown agent.
            #expect(try await client.send(.get, "/project/acme/app/runners", token: nil).status == .unauthorized)
            #expect(
                try await client.send(.get, "/project/acme/app/runners", token: nil, headers: ["Authorization": "token \(Harness.user)"]).status
                    == .forbidden)
            #expect(try await client.send(.get, "/project/acme/nope/runners", token: nil, headers: admin).status == .notFound)
            #expect(try await client.send(.get, "/company/acme/runners/\(uuid)", token: nil, headers: admin).status == .notFound)
            #expect(
                try await client.send(.get, "/project/acme/app/runners/00000000-0000-0000-0000-000000000000", token: nil, headers: admin).status
                    == .notFound)
            #expect(try await client.send(.get, "/project/acme/app/runners?size=0", token: nil, headers: admin).status == .badRequest)
            // Delete through the agents dialect: gone from v4 too.
            #expect(try await client.send(.delete, "/project/acme/app/runners/\(uuid)", token: nil, headers: admin).status == .ok)
            #expect(try await client.send(.get, "/api/v4/runners/\(id)").status == .notFound)
        }
    }
}
