import Foundation
import Hummingbird
import Testing
import WardenCore

/// Every management route against every kind of caller.
@Suite("Authorization matrix")
struct AuthorizationTests {
    enum Caller: String, CaseIterable, Sendable {
        case none, bad, user, otherProjectAdmin, projectAdmin, admin

        var token: String? {
            switch self {
            case .none: nil
            case .bad: "not-a-token"
            case .user: Harness.user
            case .otherProjectAdmin: Harness.otherProjectAdmin
            case .projectAdmin: Harness.projectAdmin
            case .admin: Harness.admin
            }
        }
    }

    struct Route: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        /// A body made fresh per call (keys must not collide between callers).
        var body: @Sendable (Caller) -> [String: Any]?
        var success: HTTPResponse.Status
        var testDescription: String { "\(method) \(uri)" }
    }

    static let routes: [Route] = [
        Route(method: .get, uri: "/worker/api/v1/workers/p1-worker", body: { _ in nil }, success: .ok),
        Route(
            method: .post, uri: "/worker/api/v1/workers", body: { Harness.genericWorker("new-\($0.rawValue.lowercased())", project: "p1") },
            success: .created),
        Route(
            method: .post, uri: "/worker/api/v2/workers", body: { Harness.genericWorker("v2-\($0.rawValue.lowercased())", project: "p1") },
            success: .created),
        Route(method: .put, uri: "/worker/api/v1/workers", body: { _ in ["key": "p1-worker", "description": "changed"] }, success: .noContent),
        Route(method: .put, uri: "/worker/api/v2/workers", body: { _ in ["key": "p1-worker", "description": "changed again"] }, success: .noContent),
        Route(
            method: .post, uri: "/worker/api/v1/test/p1-worker", body: { _ in ["code": "export default async () => 1;", "action": "GENERIC_EVENT"] },
            success: .ok),
        Route(
            method: .post, uri: "/worker/api/v2/test/p1-worker", body: { _ in ["code": "export default async () => 1;", "action": "GENERIC_EVENT"] },
            success: .ok),
        Route(method: .post, uri: "/worker/api/v1/execute/p1-worker", body: { _ in [:] }, success: .ok),
        Route(method: .delete, uri: "/worker/api/v1/workers/p1-worker", body: { _ in nil }, success: .noContent),
    ]

    static func expected(_ caller: Caller, _ route: Route) -> HTTPResponse.Status {
        switch caller {
        case .none, .bad: return .unauthorized
        case .user, .otherProjectAdmin: return .forbidden
        case .projectAdmin, .admin: return route.success
        }
    }

    @Test(arguments: routes)
    func managementRouteAnswersEachCallerAsItShould(_ route: Route) async throws {
        for caller in Caller.allCases {
            try await Harness().session { client in
                #expect(
                    try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("p1-worker", project: "p1")).status == .created
                )
                let reply = try await client.send(route.method, route.uri, token: caller.token, json: route.body(caller))
                #expect(reply.status == Self.expected(caller, route), "\(caller) → \(reply.text)")
                if reply.status == .unauthorized { #expect(reply.headers[.wwwAuthenticate] != nil) }
                if reply.status.code >= 400 {
                    #expect(reply.error?.isEmpty == false)
                    // nothing stored changed
                    let stored = try await client.send(.get, "/worker/api/v1/workers/p1-worker")
                    #expect(stored.object["description"] as? String == "")
                }
            }
        }
    }

    @Test func listsAndHistoryShowOnlyWhatTheCallerManages() async throws {
        try await Harness().session { client in
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("in-p1", project: "p1"))
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("in-p2", project: "p2"))
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("no-project"))
            for key in ["in-p1", "in-p2", "no-project"] { try await client.send(.post, "/worker/api/v1/execute/\(key)") }
            let mine = try await client.send(.get, "/worker/api/v1/workers?keysOnly=true", token: Harness.projectAdmin)
            #expect(mine.object["keys"] as? [String] == ["in-p1"])
            let everything = try await client.send(.get, "/worker/api/v1/workers?keysOnly=true")
            #expect(everything.object["keys"] as? [String] == ["in-p1", "in-p2", "no-project"])
            #expect(try await client.send(.get, "/worker/api/v1/workers", token: Harness.user).status == .forbidden)
            let history = try await client.send(.get, "/worker/api/v1/execution_history", token: Harness.projectAdmin)
            #expect((history.json as? [[String: Any]])?.map { $0["workerKey"] as? String } == ["in-p1"])
            #expect(try await client.send(.get, "/worker/api/v1/execution_history?projectKey=p2", token: Harness.projectAdmin).status == .forbidden)
            #expect(try await client.send(.get, "/worker/api/v1/execution_history", token: Harness.user).status == .forbidden)
            // a project admin cannot create outside its project
            let outside = try await client.send(.post, "/worker/api/v1/workers", token: Harness.projectAdmin, json: Harness.genericWorker("sneaky"))
            #expect(outside.status == .forbidden)
        }
    }

    @Test func sharedGenericWorkersAreExecutableByAnyAuthenticatedUser() async throws {
        try await Harness().session { client in
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("open", project: "p1", extra: ["shared": true]))
            #expect(try await client.send(.post, "/worker/api/v1/execute/open", token: Harness.user).status == .ok)
            #expect(try await client.send(.post, "/worker/api/v1/execute/open", token: Harness.otherProjectAdmin).status == .ok)
            #expect(try await client.send(.post, "/worker/api/v1/execute/open", token: nil).status == .unauthorized)
            #expect(try await client.send(.get, "/worker/api/v1/workers/open", token: Harness.user).status == .forbidden)
        }
    }

    @Test func basicCredentialsCarryTheTokenAsPassword() async throws {
        try await Harness().session { client in
            let reply = try await client.client.execute(
                uri: "/worker/api/v1/workers", method: .get,
                headers: [.authorization: "Basic " + Data("admin:\(Harness.admin)".utf8).base64EncodedString()]
            ) { $0.status }
            #expect(reply == .ok)
            let wrong = try await client.client.execute(
                uri: "/worker/api/v1/workers", method: .get, headers: [.authorization: "Basic " + Data("admin:nope".utf8).base64EncodedString()]
            ) { $0.status }
            #expect(wrong == .unauthorized)
        }
    }
}
