import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore
import WardenHTTP

/// Issue 11, finding 1: a project admin's key names one CI project, never every project of that name in any group.
@Suite("Project keys name one project")
struct ProjectKeyTests {
    @Test func aKeySharedByProjectsOfTwoGroupsNamesNeither() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            var projectIDs: [String: Int] = [:]
            for group in ["acme", "beta"] {
                let id = try #require(try await client.send(.post, "/api/v4/groups", json: ["name": group]).object["id"] as? Int)
                let project = try await client.send(.post, "/api/v4/projects", json: ["name": "app", "namespace_id": id])
                projectIDs[group] = try #require(project.object["id"] as? Int)
            }
            func token(_ key: String) async throws -> String {
                let reply = try await client.send(
                    .post, "/worker/api/v1/tokens", json: ["name": "admin of \(key)", "scope": "project-admin", "projectKey": key])
                return try #require(reply.object["token"] as? String)
            }
            let ambiguous = try await token("app")
            let exact = try await token("acme/app")
            let byID = try await token("\(projectIDs["beta"]!)")
            for group in ["acme", "beta"] {
                let info = "/project/\(group)/app/runners/registration-info"
                #expect(try await client.send(.get, info, token: nil, headers: ["Authorization": "token \(ambiguous)"]).status == .forbidden)
                let reset = "/api/v4/projects/\(projectIDs[group]!)/runners/reset_registration_token"
                #expect(try await client.send(.post, reset, token: nil, headers: ["PRIVATE-TOKEN": ambiguous]).status == .forbidden)
                #expect(
                    try await client.send(.get, "/api/v4/projects/\(projectIDs[group]!)/runners", token: nil, headers: ["PRIVATE-TOKEN": ambiguous])
                        .status == .forbidden)
            }
            #expect(
                try await client.send(.get, "/project/acme/app/runners/registration-info", token: nil, headers: ["Authorization": "token \(exact)"])
                    .status == .ok)
            #expect(
                try await client.send(.get, "/project/beta/app/runners/registration-info", token: nil, headers: ["Authorization": "token \(exact)"])
                    .status
                    == .forbidden)
            #expect(
                try await client.send(.get, "/api/v4/projects/\(projectIDs["beta"]!)/runners", token: nil, headers: ["PRIVATE-TOKEN": byID]).status
                    == .ok)
            #expect(
                try await client.send(.get, "/api/v4/projects/\(projectIDs["acme"]!)/runners", token: nil, headers: ["PRIVATE-TOKEN": byID]).status
                    == .forbidden)
        }
    }
}
