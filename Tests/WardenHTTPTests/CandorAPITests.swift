import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenHTTP

/// The Candor dialect through the router: the runner's routes (seed 002, "Runner") and the dashboard's, with a real
/// runner (`buildRunnerApplication` over a `StageRunner` with the local shell) listening on loopback for dispatch.
@Suite("Candor API contract")
struct CandorAPITests {
    static let runnerToken = "runner-control-token"

    /// The runner's HTTP application on a fresh work folder.
    func runnerApplication() throws -> some ApplicationProtocol {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("warden-candor-runner-\(UUID().uuidString)")
        let runner = try StageRunner(workFolder: work.path, stageTimeout: 30, engine: nil)
        return buildRunnerApplication(
            runner: runner, token: Self.runnerToken, host: "127.0.0.1", port: 0, logger: Logger(label: "test-runner"), onServerRunning: { _ in })
    }

    func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = runnerToken,
        contentType: String? =
            "application/json", body: String? = nil
    ) async throws -> (status: HTTPResponse.Status, text: String) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            ($0.status, String(buffer: $0.body))
        }
    }

    @Test func runnerRoutesAndTheirErrorRules() async throws {
        try await runnerApplication().test(.router) { client in
            let root = try await send(client, .get, "/", token: nil, contentType: nil)
            #expect(root.status == .ok && root.text == "OK")
            let plan =
                #"{"runId": "r1", "plan": {"stages": [{"name": "one", "image": "debian:12", "script": ["echo first", "exit 3"]}, {"name": "two", "image": "debian:12", "script": ["echo never"]}]}}"#
            #expect(try await send(client, .post, "/run", token: nil, body: plan).status == .badRequest)
            #expect(try await send(client, .post, "/run", token: "wrong", body: plan).status == .unauthorized)
            #expect(try await send(client, .post, "/run", contentType: "text/plain", body: plan).status == .unsupportedMediaType)
            #expect(try await send(client, .post, "/run", body: "{not json").status == .badRequest)
            let noStages = try await send(client, .post, "/run", body: #"{"plan": {"stages": []}}"#)
            #expect(noStages.status == .badRequest && noStages.text.contains("stages"))
            let noImage = try await send(client, .post, "/run", body: #"{"plan": {"stages": [{"name": "x"}]}}"#)
            #expect(noImage.status == .badRequest)
            let blankImage = try await send(client, .post, "/run", body: #"{"plan": {"stages": [{"name": "x", "image": " "}]}}"#)
            #expect(blankImage.status == .badRequest && blankImage.text.contains("plan.stages[0].image"))

            // A failing stage: Failed with its exit code, the rest Skipped with -1.
            let ran = try await send(client, .post, "/run", body: plan)
            #expect(ran.status == .ok)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(ran.text.utf8)) as? [String: Any])
            #expect(answer["status"] as? String == "Failed")
            let stages = answer["stages"] as? [[String: Any]]
            #expect(stages?.map { "\($0["name"] ?? ""):\($0["status"] ?? ""):\($0["exitCode"] ?? "")" } == ["one:Failed:3", "two:Skipped:-1"])

            // The log, by GET and by POST (the seed says POST); the runner-token rules; paths outside the log folder.
            for method in [HTTPRequest.Method.get, .post] {
                let log = try await send(client, method, "/logs/r1", contentType: nil)
                #expect(log.status == .ok && log.text.contains("**************** [1/2] ****************"))
                #expect(log.text.contains("first") && log.text.contains("Process exited with status code 3") && !log.text.contains("never"))
            }
            #expect(try await send(client, .get, "/logs/r1", token: nil, contentType: nil).status == .badRequest)
            #expect(try await send(client, .get, "/logs/r1", token: "wrong", contentType: nil).status == .unauthorized)
            #expect(try await send(client, .get, "/logs/..%2F..%2Fetc%2Fpasswd", contentType: nil).status == .badRequest)
            #expect(try await send(client, .get, "/logs/unknown-run", contentType: nil).status == .notFound)
            // Cancel: the runner-token rules; a run going on stops with its whole stage, the rest skipped.
            #expect(try await send(client, .post, "/cancel/r1", token: nil, contentType: nil).status == .badRequest)
            #expect(try await send(client, .post, "/cancel/r1", token: "wrong", contentType: nil).status == .unauthorized)
            #expect(try await send(client, .post, "/cancel/r1", contentType: nil).status == .notFound)
            let slowPlan =
                #"{"runId": "slow", "plan": {"stages": [{"name": "wait", "image": "i", "script": ["sleep 30"]}, {"name": "after", "image": "i"}]}}"#
            async let slow = send(client, .post, "/run", body: slowPlan)
            let canceled = try await Harness.eventually(every: .milliseconds(25)) {
                let reply = try await send(client, .post, "/cancel/slow", contentType: nil)
                return reply.status == .ok ? reply : nil
            }
            #expect(canceled?.status == .ok)
            let stopped = try #require(try JSONSerialization.jsonObject(with: Data(try await slow.text.utf8)) as? [String: Any])
            #expect(stopped["status"] as? String == "Canceled")
            #expect(
                (stopped["stages"] as? [[String: Any]])?.map { "\($0["name"] ?? ""):\($0["status"] ?? ""):\($0["exitCode"] ?? "")" }
                    == ["wait:Canceled:-4", "after:Skipped:-1"])
            #expect(try await send(client, .get, "/logs/slow", contentType: nil).text.contains("Stage wait was canceled"))

            // Without a runId the runner picks a random hex one.
            let unnamed = try await send(client, .post, "/run", body: #"{"plan": {"stages": [{"name": "a", "image": "i", "script": ["true"]}]}}"#)
            let runID = try #require((try JSONSerialization.jsonObject(with: Data(unnamed.text.utf8)) as? [String: Any])?["runId"] as? String)
            #expect(runID.count == 16 && runID.allSatisfy(\.isHexDigit))
        }
    }

    /// A plan for `POST /api/pipelines`.
    static func pipeline(_ name: String, stages: [[String: Any]], extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = ["project": "root/app", "name": name, "plan": ["stages": stages]]
        body.merge(extra) { _, new in new }
        return body
    }

    @Test func dashboardPipelinesTriggersRunsAndReaders() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app"])
            for name in ["ada", "bob"] {
                #expect(try await client.send(.post, "/api/users", json: ["username": name, "password": "correct horse"]).status == .created)
            }
            let stage: [String: Any] = [
                "name": "greet", "image": "debian:12", "environment": ["GREETING=s3cret"], "script": ["echo hello %who%", "sleep 1"],
            ]

            // Bad pipelines: each refused with the field named, and nothing stored.
            let refusals: [([String: Any], String?, HTTPResponse.Status, String)] = [
                (["name": "x", "plan": ["stages": [stage]]], Harness.admin, .badRequest, "project"),
                (Self.pipeline("", stages: [stage]), Harness.admin, .badRequest, "name"),
                (Self.pipeline("x", stages: [["name": "s"]]), Harness.admin, .badRequest, "plan"),
                (Self.pipeline("x", stages: [["name": "s", "image": ""]]), Harness.admin, .badRequest, "plan.stages[0].image"),
                (Self.pipeline("x", stages: [["name": "s", "image": "i", "environment": ["NOVALUE"]]]), Harness.admin, .badRequest, "environment"),
                (Self.pipeline("x", stages: [stage], extra: ["parameters": ["bad name"]]), Harness.admin, .badRequest, "parameters[0]"),
                (Self.pipeline("x", stages: [stage], extra: ["assignees": ["ada", "nobody"]]), Harness.admin, .badRequest, "assignees[1]"),
                (Self.pipeline("x", stages: [stage], extra: ["readers": ["user", "nobody"]]), Harness.admin, .badRequest, "readers[1]"),
                (Self.pipeline("x", stages: [stage], extra: ["archive": ["out"]]), Harness.admin, .badRequest, "archive: is not a field"),
                (
                    ["project": "root/app", "name": "x", "plan": ["stages": [stage], "archive": ["../out"]]], Harness.admin, .badRequest,
                    "plan.archive"
                ),
                (["project": "root/app", "name": "x", "plan": ["stages": [stage], "artifacts": []]], Harness.admin, .badRequest, "plan.artifacts"),
                (
                    Self.pipeline("x", stages: [stage], extra: ["constraints": ["headers": ["X": 1]]]), Harness.admin, .badRequest,
                    "constraints.headers"
                ),
                (Self.pipeline("x", stages: [stage], extra: ["project": "root/none"]), Harness.admin, .notFound, "Project Not Found"),
                (Self.pipeline("x", stages: [stage]), Harness.user, .forbidden, "admin"),
                (Self.pipeline("x", stages: [stage]), nil, .unauthorized, "credentials"),
            ]
            for (body, token, status, named) in refusals {
                let reply = try await client.send(.post, "/api/pipelines", token: token, json: body)
                #expect(reply.status == status && reply.text.contains(named), "\(body): \(reply.status) \(reply.text)")
            }
            #expect((try await client.send(.get, "/api/pipelines").json as? [Any])?.isEmpty == true)

            let created = try await client.send(
                .post, "/api/pipelines",
                json: Self.pipeline(
                    "greet", stages: [stage],
                    extra: [
                        "parameters": ["who"], "assignees": ["ada"], "readers": ["user"],
                        "constraints": ["headers": ["X-Event": "push"], "body": ["ref": "main"]],
                    ]))
            #expect(created.status == .created, "\(created.text)")
            let pipelineID = try #require(created.object["id"] as? Int)
            let trigger = try #require(created.object["triggerToken"] as? String)
            #expect(created.object["assignees"] as? [String] == ["ada"])
            let open = try await client.send(.post, "/api/pipelines", json: Self.pipeline("open", stages: [stage], extra: ["public": true]))
            let openID = try #require(open.object["id"] as? Int)

            // Readers: anonymous sees the public one; ada (an assignee) both; bob only the public one; tokens all.
            func login(_ name: String) async throws -> String {
                let reply = try await client.send(.post, "/login", token: nil, json: ["username": name, "password": "correct horse"])
                return try #require(reply.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            }
            let ada = try await login("ada")
            let bob = try await login("bob")
            func names(_ token: String?, cookie: String? = nil) async throws -> [String] {
                let reply = try await client.send(.get, "/api/pipelines", token: token, headers: cookie.map { ["Cookie": $0] } ?? [:])
                return (reply.json as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
            }
            #expect(try await names(nil) == ["open"])
            #expect(try await names(nil, cookie: ada) == ["greet", "open"])
            #expect(try await names(nil, cookie: bob) == ["open"])
            #expect(try await names(Harness.user) == ["greet", "open"])
            #expect(try await names(Harness.projectAdmin) == ["open"])
            #expect(try await names(Harness.admin) == ["greet", "open"])
            // Environment values are write-only for all but admins.
            func environment(_ token: String?, cookie: String? = nil) async throws -> [String]? {
                let reply = try await client.send(.get, "/api/pipelines/\(pipelineID)", token: token, headers: cookie.map { ["Cookie": $0] } ?? [:])
                return (((reply.object["plan"] as? [String: Any])?["stages"] as? [[String: Any]])?.first?["environment"]) as? [String]
            }
            #expect(try await environment(Harness.admin) == ["GREETING=s3cret"])
            #expect(try await environment(Harness.user) == ["GREETING=********"])
            #expect(try await environment(nil, cookie: ada) == ["GREETING=********"])
            #expect(try await client.send(.get, "/api/pipelines", token: "wrong").status == .unauthorized)
            #expect(try await client.send(.get, "/api/pipelines/\(pipelineID)", token: nil, headers: ["Cookie": bob]).status == .forbidden)
            #expect(try await client.send(.get, "/api/pipelines/\(pipelineID)", token: nil).status == .unauthorized)
            #expect(try await client.send(.get, "/api/pipelines/\(pipelineID)", token: nil, headers: ["Cookie": ada]).status == .ok)
            #expect(try await client.send(.get, "/api/pipelines/\(openID)", token: nil).status == .ok)
            #expect(try await client.send(.get, "/api/pipelines/999").status == .notFound)
            #expect(try await client.send(.get, "/api/pipelines/abc").status == .notFound)

            // Triggers before any runner: 404 unknown token, 204 constraints not met, 400 no runner fits.
            let push = ["X-Event": "push"]
            #expect(try await client.send(.post, "/trigger/nope", token: nil, json: ["ref": "main"], headers: push).status == .notFound)
            #expect(try await client.send(.post, "/trigger/\(trigger)", token: nil, json: ["ref": "main"]).status == .noContent)
            #expect(try await client.send(.post, "/trigger/\(trigger)", token: nil, json: ["ref": "dev"], headers: push).status == .noContent)
            #expect(try await client.send(.post, "/trigger/\(trigger)", token: nil, raw: "[1]", headers: push).status == .badRequest)
            let noRunner = try await client.send(.post, "/trigger/\(trigger)", token: nil, json: ["ref": "main"], headers: push)
            #expect(noRunner.status == .badRequest && noRunner.text.contains("no healthy runner"))
            #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/log").text.contains("No log could be found"))

            // A real runner on loopback, registered through v4 with its URL and control token.
            try await runnerApplication().test(.live) { runnerClient in
                let port = try #require(runnerClient.port)
                let registration = try #require(
                    try await client.send(.post, "/api/v4/runners/reset_registration_token").object["token"] as? String)
                let registered = try await client.send(
                    .post, "/api/v4/runners", token: nil,
                    json: ["token": registration, "url": "http://127.0.0.1:\(port)", "control_token": Self.runnerToken, "description": "loopback"])
                let runnerID = try #require(registered.object["id"] as? Int)
                let started = try await client.send(
                    .post, "/trigger/\(trigger)?who=query", token: nil, json: ["ref": "main", "who": "body"], headers: push)
                #expect(started.status == .ok, "\(started.text)")
                #expect(started.object["status"] as? String == "Running" && started.object["pipelineId"] as? Int == pipelineID)
                let again = try await client.send(.post, "/trigger/\(trigger)", token: nil, json: ["ref": "main"], headers: push)
                #expect(again.status == .badRequest && again.text.contains("already running"))

                _ = try await Harness.endedRunStatus(client, pipeline: pipelineID)
                let runs = try await client.send(.get, "/api/pipelines/\(pipelineID)").object["runs"] as? [[String: Any]] ?? []
                #expect(runs.map { $0["status"] as? String } == ["Passed"])
                let log = try await client.send(.get, "/api/runs/\(pipelineID)/1/log")
                #expect(log.status == .ok && log.text.contains("hello body") && log.text.contains("**************** [1/1] ****************"))
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/log", token: nil, headers: ["Cookie": ada]).status == .ok)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/log", token: nil, headers: ["Cookie": bob]).status == .forbidden)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/2/log").status == .notFound)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/x/log").status == .notFound)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/archive").status == .badRequest)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/archived?file=a.txt&mode=zip").status == .badRequest)
                #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/archive?file=a.txt").status == .notFound)

                // The run's stage is a job of the runner, through v4 and through the agents API.
                let jobs = try await client.send(.get, "/api/v4/runners/\(runnerID)/jobs")
                let job = try #require((jobs.json as? [[String: Any]])?.first)
                #expect(job["name"] as? String == "greet" && job["status"] as? String == "success")
                #expect((job["pipeline"] as? [String: Any])?["id"] as? Int == 1)
                #expect((job["project"] as? [String: Any])?["path_with_namespace"] as? String == "root/app")
                #expect((try await client.send(.get, "/api/v4/runners/\(runnerID)/jobs?status=failed").json as? [Any])?.isEmpty == true)
            }
        }
    }
}
