import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing
import WardenCore
import WardenHTTP

/// The tenant dialect (seed 004) through the router: tenants and projects, authentication refusals, builds and
/// buildsets of real runs (a loopback runner), autohold, state, nodes, keys, the job graph and the error shapes.
@Suite("Tenant API contract")
struct TenantAPITests {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var zuul: [String: [String]]?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// An HS256 JWT for the harness's tenant authenticator.
    static func token(
        _ subject: String, admin: [String]?, issuer: String = "warden-tests", expires: TimeInterval = 3600, notBefore: TimeInterval? = nil,
        secret: String = Harness.jwtSecret
    )
        async throws -> String
    {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(
            Claims(
                sub: .init(value: subject), iss: .init(value: issuer), aud: .init(value: ["warden"]),
                exp: .init(value: Date().addingTimeInterval(expires)), nbf: notBefore.map { .init(value: Date().addingTimeInterval($0)) },
                zuul: admin.map { ["admin": $0] }))
    }

    @Test func tenantsProjectsAndTheWardenAdminRoutes() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect((try await client.send(.get, "/api/tenants", token: nil).json as? [Any])?.isEmpty == true)
            let forbidden = try await client.send(.post, "/api/tenants", token: Harness.user, json: ["name": "example"])
            #expect(forbidden.status == .forbidden && forbidden.object["error"] as? String == "Forbidden")
            #expect(try await client.send(.post, "/api/tenants", token: nil, json: ["name": "example"]).status == .unauthorized)
            let bad = try await client.send(.post, "/api/tenants", json: ["name": "has space"])
            #expect(bad.status == .badRequest && (bad.object["description"] as? String)?.hasPrefix("name:") == true)
            #expect(try await client.send(.post, "/api/tenants", json: [:]).object["description"] as? String == "name: is required")
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "example"]).status == .created)
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "example"]).status == .conflict)
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "alpha"]).status == .created)

            // Projects join a tenant when created (v4 `tenant`) or later.
            #expect(try await client.send(.post, "/api/v4/projects", json: ["name": "app", "tenant": "example"]).status == .created)
            let unknown = try await client.send(.post, "/api/v4/projects", json: ["name": "web", "tenant": "nope"])
            #expect(unknown.status == .badRequest && (unknown.object["message"] as? [String: [String]])?["tenant"] != nil)
            #expect(try await client.send(.get, "/api/v4/projects/root%2Fweb").status == .notFound)
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "web"])
            #expect(
                try await client.send(.post, "/api/tenant/example/projects", token: Harness.user, json: ["project": "root/web"]).status == .forbidden)
            #expect(try await client.send(.post, "/api/tenant/example/projects", json: ["project": "root/none"]).status == .notFound)
            #expect(try await client.send(.post, "/api/tenant/example/projects", json: [:]).status == .badRequest)
            let moved = try await client.send(.post, "/api/tenant/example/projects", json: ["project": "root/web"])
            #expect(moved.status == .ok && moved.object["name"] as? String == "root/web")

            let tenants = try await client.send(.get, "/api/tenants", token: nil).json as? [[String: Any]]
            #expect(tenants?.map { "\($0["name"] ?? ""):\($0["projects"] ?? "")" } == ["alpha:0", "example:2"])
            let projects = try await client.send(.get, "/api/tenant/example/projects", token: nil).json as? [[String: Any]]
            #expect(projects?.map { $0["name"] as? String } == ["root/app", "root/web"])
            #expect(try await client.send(.get, "/api/tenant/example/project/root/app", token: nil).object["connection_name"] as? String == "warden")
            let missing = try await client.send(.get, "/api/tenant/nope/projects", token: nil)
            #expect(missing.status == .notFound && missing.text.contains("Unknown tenant"))
            #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
            // Info: without a tenant at /api/info, with one (even unknown) under the tenant.
            let info = try await client.send(.get, "/api/info", token: nil).object["info"] as? [String: Any]
            #expect(info?["tenant"] == nil && (info?["capabilities"] as? [String: Any])?["job_history"] as? Bool == true)
            let scoped = try await client.send(.get, "/api/tenant/nope/info", token: nil)
            #expect(scoped.status == .ok && (scoped.object["info"] as? [String: Any])?["tenant"] as? String == "nope")
            let route = try await client.send(.get, "/api/tenant/example/nothing-here", token: nil)
            #expect(route.status == .notFound && route.object["error"] as? String == "Not Found")
        }
    }

    /// A state change is the core's, one transaction (issue 12): changes of different fields at once all land.
    @Test func concurrentStateChangesOfDifferentFieldsAllLand() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            _ = try await client.send(.post, "/api/tenants", json: ["name": "example"])
            let token = try await Self.token("ada", admin: ["example"])
            for round in 0..<5 {
                let fields = ["trigger_queue_discarding", "trigger_queue_paused", "result_queue_paused"]
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for field in fields {
                        group.addTask {
                            try await client.send(.post, "/api/tenant/example/state", token: token, json: [field: round % 2 == 0]).status
                        }
                    }
                    for try await status in group { #expect(status == .ok) }
                }
                let state = try await client.send(.get, "/api/tenant/example/state", token: nil).object
                for field in fields { #expect(state[field] as? Bool == (round % 2 == 0), "round \(round): \(state)") }
            }
        }
    }

    @Test func authenticationRefusals() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            _ = try await client.send(.post, "/api/tenants", json: ["name": "example"])
            let state = ["trigger_queue_paused": true, "reason": "maintenance"] as [String: Any]
            let missing = try await client.send(.post, "/api/tenant/example/state", token: nil, json: state)
            #expect(missing.status == .unauthorized && missing.object["error"] as? String == "MissingAuthError")
            #expect(missing.object["realm"] as? String == "warden" && missing.headers[.wwwAuthenticate]?.contains("realm=\"warden\"") == true)
            let expired = try await client.send(
                .post, "/api/tenant/example/state", token: try await Self.token("ada", admin: ["example"], expires: -60), json: state)
            #expect(expired.status == .unauthorized && expired.object["error"] as? String == "TokenExpiredError")
            let forged = try await client.send(
                .post, "/api/tenant/example/state", token: try await Self.token("ada", admin: ["*"], secret: String(repeating: "x", count: 40)),
                json: state)
            #expect(forged.status == .unauthorized && forged.object["error"] as? String == "AuthTokenInvalidSignatureError")
            let issuer = try await client.send(
                .post, "/api/tenant/example/state", token: try await Self.token("ada", admin: ["*"], issuer: "elsewhere"), json: state)
            #expect(issuer.status == .unauthorized && issuer.object["error"] as? String == "IssuerUnknownError")
            let other = try await client.send(.post, "/api/tenant/example/state", token: try await Self.token("eve", admin: ["alpha"]), json: state)
            #expect(other.status == .forbidden && other.text.isEmpty)
            #expect(
                try await client.send(.post, "/api/tenant/example/state", token: try await Self.token("eve", admin: nil), json: state).status
                    == .forbidden)
            #expect(try await client.send(.post, "/api/tenant/example/state", token: Harness.user, json: state).status == .forbidden)
            #expect(try await client.send(.post, "/api/tenant/example/state", token: "not-a-token", json: state).status == .unauthorized)
            // Nothing changed by the refusals; a tenant admin's JWT and the Warden admin token both work.
            #expect((try await client.send(.get, "/api/tenant/example/state", token: nil).object["trigger_queue_paused"] as? Bool) == false)
            let set = try await client.send(.post, "/api/tenant/example/state", token: try await Self.token("ada", admin: ["example"]), json: state)
            #expect(set.status == .ok && set.text == "null")
            #expect(try await client.send(.get, "/api/tenant/example/state", token: nil).object["reason"] as? String == "maintenance")
            #expect(try await client.send(.post, "/api/tenant/example/state", json: ["trigger_queue_paused": "sometimes"]).status == .badRequest)
            let authorizations = try await client.send(.get, "/api/authorizations", token: try await Self.token("ada", admin: ["example"]))
            #expect((authorizations.object["zuul"] as? [String: Any])?["admin"] as? [String] == ["example"])
        }
    }

    @Test func buildsAutoholdNodesKeysAndJobGraphOverRealRuns() async throws {
        let harness = try await Harness()
        let admin = try await Self.token("ada", admin: ["example"])
        try await harness.session { client in
            _ = try await client.send(.post, "/api/tenants", json: ["name": "example"])
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app", "tenant": "example"])
            let stages: [[String: Any]] = [
                ["name": "lint", "image": "debian:12", "script": ["echo lint %change%"]],
                ["name": "unit", "image": "debian:12", "environment": ["MODE=fast"], "script": ["test '%change%' != '13'"]],
            ]
            #expect(
                try await client.send(
                    .post, "/api/pipelines", json: ["project": "root/app", "name": "check", "public": true, "plan": ["stages": stages]]
                ).status == .created)

            // Refusals before any run.
            @Sendable func enqueue(_ body: [String: Any], token: String?) async throws -> Harness.Reply {
                try await client.send(.post, "/api/tenant/example/project/root/app/enqueue", token: token, json: body)
            }
            #expect(try await enqueue(["pipeline": "check", "change": "12,1", "ref": "refs/heads/main"], token: admin).status == .badRequest)
            #expect(try await enqueue(["pipeline": "check"], token: admin).status == .badRequest)
            #expect(try await enqueue(["change": "12,1"], token: admin).object["description"] as? String == "pipeline: is required")
            #expect(try await enqueue(["pipeline": "gate", "change": "12,1"], token: admin).status == .badRequest)
            #expect(try await enqueue(["pipeline": "check", "change": "x,1"], token: admin).status == .badRequest)
            #expect(
                try await client.send(
                    .post, "/api/tenant/example/project/root/none/enqueue", token: admin, json: ["pipeline": "check", "change": "1"]
                ).status == .notFound)
            let noRunner = try await enqueue(["pipeline": "check", "change": "12,1"], token: admin)
            #expect(noRunner.status == .badRequest && (noRunner.object["description"] as? String)?.contains("no healthy runner") == true)
            let autohold = "/api/tenant/example/project/root/app/autohold"
            #expect(try await client.send(.post, autohold, token: admin, json: ["job": "unit", "reason": "r", "count": 0]).status == .badRequest)
            #expect(try await client.send(.post, autohold, token: admin, json: ["reason": "r"]).status == .badRequest)
            #expect(try await client.send(.post, autohold, token: admin, json: ["job": "unit", "reason": "r", "count": 1.5]).status == .badRequest)
            #expect(try await client.send(.post, autohold, token: nil, json: ["job": "unit", "reason": "r"]).status == .unauthorized)
            let hold = try await client.send(
                .post, autohold, token: admin, json: ["job": "unit", "change": 13, "reason": "look at it", "count": 1, "node_hold_expiration": 3600])
            #expect(hold.status == .ok && hold.text == "true")
            let holds = try await client.send(.get, "/api/tenant/example/autohold", token: nil).json as? [[String: Any]]
            #expect(holds?.first?["ref_filter"] as? String == "refs/changes/13/13/.*" && holds?.first?["max_count"] as? Int == 1)
            let holdID = try #require(holds?.first?["id"] as? String)

            try await CandorAPITests().runnerApplication().test(.live) { runnerClient in
                let port = try #require(runnerClient.port)
                let registration = try #require(try await client.send(.post, "/api/v4/runners/reset_registration_token").object["token"] as? String)
                _ = try await client.send(
                    .post, "/api/v4/runners", token: nil,
                    json: [
                        "token": registration, "url": "http://127.0.0.1:\(port)", "control_token": CandorAPITests.runnerToken, "run_untagged": true,
                        "tag_list": ["zuul"],
                    ])
                @Sendable func waitForRuns(_ count: Int) async throws -> [[String: Any]] {
                    try await Harness.eventually(every: .milliseconds(100)) {
                        let sets =
                            try await client.send(.get, "/api/tenant/example/buildsets?complete=true", token: nil).json as? [[String: Any]] ?? []
                        return sets.count >= count ? sets : nil
                    } ?? []
                }
                #expect(try await enqueue(["pipeline": "check", "change": "12,1"], token: admin).text == "true")
                #expect(try await waitForRuns(1).first?["result"] as? String == "SUCCESS")
                #expect(try await enqueue(["pipeline": "check", "change": 13], token: admin).status == .ok)
                let sets = try await waitForRuns(2)
                #expect(sets.map { $0["result"] as? String } == ["FAILURE", "SUCCESS"])
                #expect(sets.first?["ref"] as? String == "refs/changes/13/13/1" && sets.first?["change"] as? Int == 13)

                // Builds: newest first, filters, the held one, shapes.
                let builds = try #require(try await client.send(.get, "/api/tenant/example/builds", token: nil).json as? [[String: Any]])
                #expect(
                    builds.map { "\($0["job_name"] ?? ""):\($0["result"] ?? "")" } == [
                        "unit:FAILURE", "lint:SUCCESS", "unit:SUCCESS", "lint:SUCCESS",
                    ])
                let held = try await client.send(.get, "/api/tenant/example/builds?held=True", token: nil).json as? [[String: Any]]
                #expect(held?.map { $0["job_name"] as? String } == ["unit"])
                #expect((try await client.send(.get, "/api/tenant/example/builds?change=12&job_name=lint", token: nil).json as? [Any])?.count == 1)
                #expect((try await client.send(.get, "/api/tenant/example/builds?change=abc", token: nil).json as? [Any])?.isEmpty == true)
                #expect((try await client.send(.get, "/api/tenant/example/buildsets?change=99", token: nil).json as? [Any])?.isEmpty == true)
                #expect((try await client.send(.get, "/api/tenant/example/buildsets?change=13", token: nil).json as? [Any])?.count == 1)
                #expect(
                    (try await client.send(.get, "/api/tenant/example/builds?limit=1&skip=1", token: nil).json as? [[String: Any]])?.first?[
                        "job_name"] as? String == "lint")
                #expect((try await client.send(.get, "/api/tenant/example/builds?result=FAILURE", token: nil).json as? [Any])?.count == 1)
                #expect((try await client.send(.get, "/api/tenant/example/builds?exclude_result=SUCCESS", token: nil).json as? [Any])?.count == 1)
                #expect(try await client.send(.get, "/api/tenant/example/builds?final=maybe", token: nil).status == .badRequest)
                #expect(try await client.send(.get, "/api/tenant/example/builds?limit=-1", token: nil).status == .badRequest)
                let build = try #require(held?.first)
                let uuid = try #require(build["uuid"] as? String)
                let detail = try await client.send(.get, "/api/tenant/example/build/\(uuid)", token: nil).object
                #expect(detail["held"] as? Bool == true && detail["final"] as? Bool == true && detail["voting"] as? Bool == true)
                #expect((detail["start_time"] as? String)?.count == 19 && (detail["ref"] as? [String: Any])?["project"] as? String == "root/app")
                let logURL = try #require(detail["log_url"] as? String)
                let logPath = String(logURL.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })
                let output = try await client.send(.get, logPath + "job-output.txt", token: nil)
                #expect(
                    output.status == .ok && output.text.contains("[2/2]") && output.text.contains("Process exited with status code 1")
                        && !output.text.contains("lint"))
                #expect(try await client.send(.get, logPath + "zuul-info/inventory.yaml", token: nil).text.contains("tenant: \"example\""))
                #expect(
                    try await client.send(.get, "/api/tenant/example/build/nope", token: nil).object["description"] as? String == "Build not found")
                let buildset = try await client.send(
                    .get, "/api/tenant/example/buildset/\(detail["buildset"].flatMap { ($0 as? [String: Any])?["uuid"] } ?? "")", token: nil
                ).object
                #expect((buildset["builds"] as? [Any])?.count == 2 && (buildset["events"] as? [Any])?.count == 1)
                #expect(try await client.send(.get, "/api/tenant/example/buildset/nope", token: nil).status == .notFound)

                // The autohold held the runner: it is a node in hold, and the pipeline has nowhere to run.
                let info = try await client.send(.get, "/api/tenant/example/autohold/\(holdID)", token: nil).object
                #expect(info["current_count"] as? Int == 1 && ((info["nodes"] as? [[String: Any]])?.first?["build"] as? String) == uuid)
                let nodes = try #require(try await client.send(.get, "/api/tenant/example/nodes", token: nil).json as? [[String: Any]])
                #expect(nodes.map { $0["state"] as? String } == ["hold"])
                let node = try #require(nodes.first?["id"] as? String)
                #expect(
                    try await client.send(.put, "/api/tenant/example/nodes/\(node)", token: admin, json: ["state": "broken"]).status == .badRequest)
                #expect(try await client.send(.put, "/api/tenant/example/nodes/runner-99", token: admin, json: ["state": "used"]).status == .notFound)
                // Deleting the request lets its runner run again.
                #expect(try await client.send(.delete, "/api/tenant/example/autohold/\(holdID)", token: admin).status == .noContent)
                #expect(try await client.send(.delete, "/api/tenant/example/autohold/\(holdID)", token: admin).status == .notFound)
                #expect(
                    ((try await client.send(.get, "/api/tenant/example/nodes", token: nil).json as? [[String: Any]])?.first?["state"] as? String)
                        == "ready")
                let put = try await client.send(.put, "/api/tenant/example/nodes/\(node)", token: admin, json: ["state": "hold"])
                #expect(put.status == .created && put.text == "null")
                #expect(try await client.send(.put, "/api/tenant/example/nodes/\(node)", token: admin, json: ["state": "used"]).status == .created)

                // A hold with node_hold_expiration lets its runner go by itself.
                let short = try await client.send(
                    .post, autohold, token: admin, json: ["job": "unit", "change": "13", "reason": "brief", "count": 1, "node_hold_expiration": 1])
                #expect(short.status == .ok)
                #expect(try await enqueue(["pipeline": "check", "change": "13,2"], token: admin).status == .ok)
                _ = try await waitForRuns(3)
                // The hold itself lasts a second, which a poll under a loaded machine may miss: what proves it is the
                // request's count and expiry, and the node back to ready.
                var states: [String?] = []
                var expired: [[String: Any]]?
                _ = try await Harness.eventually { () -> Bool? in
                    let nodes = try await client.send(.get, "/api/tenant/example/nodes", token: nil).json as? [[String: Any]] ?? []
                    states.append(nodes.first?["state"] as? String)
                    expired = try await client.send(.get, "/api/tenant/example/autohold", token: nil).json as? [[String: Any]]
                    return states.last == "ready" && expired?.first?["expired"] is Double ? true : nil
                }
                #expect(states.last == "ready", "\(states)")
                #expect(expired?.first?["current_count"] as? Int == 1 && expired?.first?["expired"] is Double)

                // The badge of the public pipeline's last buildset.
                let badge = try await client.send(.get, "/api/tenant/example/badge?project=root/app", token: nil)
                #expect(badge.status == .ok && badge.headers[.contentType] == "image/svg+xml" && badge.text.contains("failing"))
                #expect(try await client.send(.get, "/api/tenant/example/badge?project=root/none", token: nil).status == .notFound)
                // Dequeue: a change that is not running is not in the pipeline.
                let dequeue = try await client.send(
                    .post, "/api/tenant/example/project/root/app/dequeue", token: admin, json: ["pipeline": "check", "change": "12,1"])
                #expect(dequeue.status == .badRequest && (dequeue.object["description"] as? String)?.contains("not in pipeline") == true)
                // The running one is stopped on its runner.
                let slowStages: [[String: Any]] = [
                    ["name": "wait", "image": "debian:12", "script": ["sleep 30"]], ["name": "after", "image": "debian:12"],
                ]
                _ = try await client.send(
                    .post, "/api/pipelines", json: ["project": "root/app", "name": "slow", "public": true, "plan": ["stages": slowStages]])
                let slow = try await enqueue(["pipeline": "slow", "change": "70,1"], token: admin)
                #expect(slow.status == .ok, "\(slow.text)")
                let other = try await client.send(
                    .post, "/api/tenant/example/project/root/app/dequeue", token: admin, json: ["pipeline": "slow", "change": "7,1"])
                #expect(other.status == .badRequest)
                let stop = try await client.send(
                    .post, "/api/tenant/example/project/root/app/dequeue", token: admin, json: ["pipeline": "slow", "change": "70,1"])
                #expect(stop.status == .ok && stop.text == "true", "\(stop.text)")
                let dequeued = try await waitForRuns(4).first
                #expect(dequeued?["result"] as? String == "DEQUEUED" && dequeued?["pipeline"] as? String == "slow")
                let stoppedBuilds = try await client.send(.get, "/api/tenant/example/builds?pipeline=slow", token: nil).json as? [[String: Any]]
                #expect(stoppedBuilds?.map { "\($0["job_name"] ?? ""):\($0["result"] ?? "")" } == ["after:SKIPPED", "wait:CANCELED"])
                #expect(
                    try await client.send(.post, "/api/tenant/example/promote", token: admin, json: ["pipeline": "check", "changes": []]).status
                        == .badRequest)
                #expect(
                    try await client.send(.post, "/api/tenant/example/promote", token: admin, json: ["pipeline": "check", "changes": ["12,1"]]).text
                        == "true")
            }

            // Keys: one RSA key per project (the same each time), OpenSSH keys for projects and the tenant.
            let key = try await client.send(.get, "/api/tenant/example/key/root/app.pub", token: nil)
            #expect(key.status == .ok && key.text.hasPrefix("-----BEGIN PUBLIC KEY-----"))
            #expect(try await client.send(.get, "/api/tenant/example/key/root/app.pub", token: nil).text == key.text)
            #expect(try await client.send(.get, "/api/tenant/example/key/root/none.pub", token: nil).status == .notFound)
            #expect(
                try await client.send(.get, "/api/tenant/example/project-ssh-key/root/app.pub", token: nil).text.hasPrefix(
                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"))
            #expect(try await client.send(.get, "/api/tenant/example/tenant-ssh-key/ssh.pub", token: nil).text.hasSuffix(" tenant-example\n"))

            // The job graph and a frozen job.
            let graph =
                try await client.send(.get, "/api/tenant/example/pipeline/check/project/root/app/branch/main/freeze-jobs", token: nil).json
                as? [[String: Any]]
            #expect(graph?.map { $0["name"] as? String } == ["lint", "unit"])
            #expect(((graph?.last?["dependencies"] as? [[String: Any]])?.first?["name"] as? String) == "lint")
            let frozen = try await client.send(.get, "/api/tenant/example/pipeline/check/project/root/app/branch/main/freeze-job/unit", token: nil)
                .object
            #expect(((frozen["vars"] as? [String: Any])?["environment"] as? [String: String]) == ["MODE": "fast"])
            #expect((frozen["nodeset"] as? [String: Any])?["name"] != nil)
            #expect(
                try await client.send(.get, "/api/tenant/example/pipeline/check/project/root/app/branch/main/freeze-job/deploy", token: nil).status
                    == .notFound)
            #expect(
                try await client.send(.get, "/api/tenant/example/pipeline/gate/project/root/app/branch/main/freeze-jobs", token: nil).status
                    == .notFound)
            #expect(
                (try await client.send(.get, "/api/tenant/example/jobs", token: nil).json as? [[String: Any]])?.compactMap { $0["name"] as? String }
                    .sorted() == ["after", "lint", "unit", "wait"])
            #expect(
                (try await client.send(.get, "/api/tenant/example/pipelines", token: nil).json as? [[String: Any]])?.map { $0["name"] as? String }
                    == ["check", "slow"])
            #expect(
                (try await client.send(.get, "/api/tenant/example/labels", token: nil).json as? [[String: Any]])?.map { $0["name"] as? String } == [
                    "zuul"
                ])
            #expect((try await client.send(.get, "/api/tenant/example/status", token: nil).object["pipelines"] as? [Any])?.count == 2)
        }
    }
}
