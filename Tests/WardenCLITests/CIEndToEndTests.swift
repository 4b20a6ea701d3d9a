import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server and a real `warden runner`: a triggered two-stage pipeline runs on the runner, its log and archive come
/// back through the Candor dialect, its jobs show through v4 and the agents API, and the archived file fires an
/// AFTER_CREATE worker.
@Suite("CI end to end: warden serve + warden runner", .serialized)
struct CIEndToEndTests {
    final class RunnerProcess: @unchecked Sendable {
        let process = Process()

        init(server: LiveServer, registrationToken: String?, tags: String, stageTimeout: Int, work: URL) throws {
            process.executableURL = URL(fileURLWithPath: CLI.warden)
            process.arguments =
                ["runner", "--server", server.url, "--port", "0", "--tags", tags, "--work", work.path]
                + ["--stage-timeout", "\(stageTimeout)", "--description", "e2e-runner"]
                + (registrationToken.map { ["--registration-token", $0] } ?? [])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    func json(_ server: LiveServer, _ method: String, _ path: String, _ body: [String: Any]? = nil, headers: [String: String] = [:]) async throws
        -> (status: Int, object: Any?)
    {
        let reply = try await server.send(method, path, body: try body.map { try JSONSerialization.data(withJSONObject: $0) }, headers: headers)
        return (reply.status, try? JSONSerialization.jsonObject(with: reply.data, options: [.fragmentsAllowed]))
    }

    @Test func triggerRunLogArchiveJobsAndAfterCreate() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-ci"))
        defer { server.stop() }
        let group = try #require((try await json(server, "POST", "/api/v4/groups", ["name": "acme"]).object as? [String: Any])?["id"] as? Int)
        _ = try await json(server, "POST", "/api/v4/projects", ["name": "app", "namespace_id": group])
        let agentHeaders = ["Authorization": "token \(server.token)"]
        let info = try await json(server, "GET", "/project/acme/app/runners/registration-info", headers: agentHeaders)
        let registration = try #require((info.object as? [String: Any])?["registrationToken"] as? String)
        try await server.deployWorker(
            key: "archive-watch", action: "AFTER_CREATE",
            source: "export default async (context, data) => ({ message: 'archived ' + data.metadata.repoPath.path });",
            repos: ["ci-archives"])
        let created = try await json(
            server, "POST", "/api/pipelines",
            [
                "project": "acme/app", "name": "build", "tags": ["linux"], "parameters": ["greeting"],
                "constraints": ["headers": ["X-Event": "push"]],
                "plan": [
                    "stages": [
                        ["name": "compile", "image": "debian:12", "script": ["echo compiling %greeting%", "mkdir -p out"]],
                        ["name": "package", "image": "debian:12", "environment": ["WHO=ci"], "script": ["echo packaged by $WHO > out/result.txt"]],
                    ],
                    "archive": ["out/result.txt"],
                ],
            ])
        #expect(created.status == 201, "\(String(describing: created.object))")
        let pipeline = try #require(created.object as? [String: Any])
        let pipelineID = try #require(pipeline["id"] as? Int)
        let trigger = try #require(pipeline["triggerToken"] as? String)

        // No runner yet: the pipeline cannot run.
        #expect(try await server.send("POST", "/trigger/\(trigger)?greeting=hi", headers: ["X-Event": "push"]).status == 400)
        let runner = try RunnerProcess(
            server: server, registrationToken: registration, tags: "linux,amd64", stageTimeout: 30, work: try temporaryFolder("warden-runner"))
        defer { runner.stop() }
        try await server.eventually("the runner to register") {
            ((try await json(server, "GET", "/api/v4/runners/all?status=online").object as? [Any])?.count ?? 0) == 1
        }
        // Constraints not met: 204 and no run; unknown token: 404.
        #expect(try await server.send("POST", "/trigger/\(trigger)", headers: ["X-Event": "tag"]).status == 204)
        #expect(try await server.send("POST", "/trigger/not-a-token").status == 404)
        let started = try await server.send("POST", "/trigger/\(trigger)?greeting=hello", headers: ["X-Event": "push"])
        #expect(started.status == 200, "\(String(decoding: started.data, as: UTF8.self))")
        var status = ""
        try await server.eventually("the run to finish") {
            let detail = try await json(server, "GET", "/api/pipelines/\(pipelineID)").object as? [String: Any]
            status = ((detail?["runs"] as? [[String: Any]])?.last?["status"] as? String) ?? ""
            return status != "Running" && !status.isEmpty
        }
        let log = try await server.text("GET", "/api/runs/\(pipelineID)/last/log")
        #expect(status == "Passed", "\(log.text)")
        #expect(log.status == 200)
        #expect(log.text.contains("**************** [1/2] ****************") && log.text.contains("compiling hello"))
        #expect(log.text.contains("**************** [2/2] ****************") && log.text.contains("Process exited with status code 0"))
        let archive = try await server.send("GET", "/api/runs/\(pipelineID)/last/archive?file=out%2Fresult.txt&mode=file")
        #expect(archive.status == 200 && String(decoding: archive.data, as: UTF8.self) == "packaged by ci\n")
        #expect(archive.headers["content-disposition"]?.contains("result.txt") == true)
        #expect(try await server.send("GET", "/api/runs/\(pipelineID)/last/archived?file=out%2Fresult.txt").status == 200)
        #expect(try await server.send("GET", "/api/runs/\(pipelineID)/last/archive?file=nope.txt").status == 404)
        #expect(try await server.send("GET", "/api/runs/\(pipelineID)/last/archive").status == 400)
        #expect(try await server.send("GET", "/api/runs/\(pipelineID)/last/archive?file=out%2Fresult.txt&mode=zip").status == 400)
        #expect(try await server.send("GET", "/api/runs/\(pipelineID)/99/log").status == 404)

        // The jobs through v4 and through the agents API.
        let runnerID = try #require(((try await json(server, "GET", "/api/v4/runners/all").object as? [[String: Any]])?.first)?["id"] as? Int)
        let v4Jobs = try #require(try await json(server, "GET", "/api/v4/runners/\(runnerID)/jobs?sort=asc").object as? [[String: Any]])
        #expect(v4Jobs.map { "\($0["name"] ?? ""):\($0["status"] ?? "")" } == ["compile:success", "package:success"])
        let agentJobs = try await json(server, "GET", "/project/acme/app/runners/all/jobs?jobStatus=SUCCESS", headers: agentHeaders)
        let embedded = ((agentJobs.object as? [String: Any])?["_embedded"] as? [String: Any])?["restPipelineJobModelList"] as? [[String: Any]]
        #expect(embedded?.map { $0["stageName"] as? String } == ["compile", "package"])
        // The archived file fired the AFTER_CREATE worker.
        try await server.eventually("the AFTER_CREATE run") {
            try await server.history("archive-watch").contains {
                (($0["executionResult"] as? [String: Any])?["result"] as? [String: Any])?["message"] as? String
                    == "archived \(pipelineID)/1/out/result.txt"
            }
        }
    }

    @Test func aRestartedRunnerIsTheSameRunnerAtItsNewAddress() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-ci"))
        defer { server.stop() }
        _ = try await json(server, "POST", "/api/v4/projects", ["name": "app"])
        let registration = try #require(
            (try await json(server, "POST", "/api/v4/runners/reset_registration_token").object as? [String: Any])?["token"] as? String)
        let work = try temporaryFolder("warden-runner")
        let first = try RunnerProcess(server: server, registrationToken: registration, tags: "", stageTimeout: 30, work: work)
        try await server.eventually("the runner to register") {
            ((try await json(server, "GET", "/api/v4/runners/all").object as? [[String: Any]])?.first?["online"] as? Bool) == true
        }
        first.stop()
        let state = try FileManager.default.attributesOfItem(atPath: work.appendingPathComponent("runner.json").path)
        #expect((state[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // Started again without a registration token: the same runner (one record), reachable at its new port.
        let second = try RunnerProcess(server: server, registrationToken: nil, tags: "", stageTimeout: 30, work: work)
        defer { second.stop() }
        _ = try await json(server, "PUT", "/api/v4/runners/1", ["run_untagged": true])
        let created = try await json(
            server, "POST", "/api/pipelines",
            ["project": "root/app", "name": "hello", "plan": ["stages": [["name": "s", "image": "x", "script": ["echo again"]]]]])
        let trigger = try #require((created.object as? [String: Any])?["triggerToken"] as? String)
        try await server.eventually("the restarted runner to take the run") {
            try await server.send("POST", "/trigger/\(trigger)").status == 200
        }
        try await server.eventually("the run to pass on it") { try await server.text("GET", "/api/runs/1/last/log").text.contains("again") }
        #expect((try await json(server, "GET", "/api/v4/runners/all").object as? [Any])?.count == 1)
        second.stop()
        // A deleted runner's saved token is refused: without a registration token the runner says so and stops.
        #expect(try await server.send("DELETE", "/api/v4/runners/1").status == 204)
        let third = try RunnerProcess(server: server, registrationToken: nil, tags: "", stageTimeout: 30, work: work)
        third.process.waitUntilExit()
        #expect(third.process.terminationStatus == 1)
    }

    @Test func aRunnerWaitsForItsServerThenGivesUpNamingIt() async throws {
        // A port nothing listens on: the one a stopped server had.
        let gone = try await LiveServer.launch(data: try temporaryFolder("warden-ci"))
        gone.stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.warden)
        process.arguments = [
            "runner", "--server", gone.url, "--registration-token", "x", "--port", "0", "--work", try temporaryFolder("warden-runner").path,
            "--connect-timeout", "2",
        ]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let (status, text) = try await offThePool {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        #expect(status == 1 && text.contains("cannot be reached"), "\(text)")
    }

    @Test func failingStagesSkipTheRestTimeLimitsAndOneRunAtATime() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-ci"))
        defer { server.stop() }
        _ = try await json(server, "POST", "/api/v4/projects", ["name": "app"])
        let registration = try #require(
            (try await json(server, "POST", "/api/v4/runners/reset_registration_token").object as? [String: Any])?["token"] as? String)
        let runner = try RunnerProcess(
            server: server, registrationToken: registration, tags: "", stageTimeout: 2, work: try temporaryFolder("warden-runner"))
        defer { runner.stop() }
        try await server.eventually("the runner to register") {
            ((try await json(server, "GET", "/api/v4/runners/all").object as? [Any])?.count ?? 0) == 1
        }
        _ = try await json(server, "PUT", "/api/v4/runners/1", ["run_untagged": true])
        func pipeline(_ name: String, _ stages: [[String: Any]]) async throws -> (Int, String) {
            let reply = try await json(server, "POST", "/api/pipelines", ["project": "root/app", "name": name, "plan": ["stages": stages]])
            let object = try #require(reply.object as? [String: Any], "\(String(describing: reply.object))")
            return (try #require(object["id"] as? Int), try #require(object["triggerToken"] as? String))
        }
        let (failing, failToken) = try await pipeline(
            "failing", [["name": "a", "image": "x", "script": ["exit 3"]], ["name": "b", "image": "x", "script": ["echo never"]]])
        #expect(try await server.send("POST", "/trigger/\(failToken)").status == 200)
        try await server.eventually("the failing run") {
            ((try await json(server, "GET", "/api/pipelines/\(failing)").object as? [String: Any])?["runs"] as? [[String: Any]])?.last?["status"]
                as? String == "Failed"
        }
        let failLog = try await server.text("GET", "/api/runs/\(failing)/last/log").text
        #expect(failLog.contains("Process exited with status code 3") && !failLog.contains("never"))
        let (slow, slowToken) = try await pipeline("slow", [["name": "sleepy", "image": "x", "script": ["sleep 30"]]])
        #expect(try await server.send("POST", "/trigger/\(slowToken)").status == 200)
        let again = try await server.text("POST", "/trigger/\(slowToken)")
        #expect(again.status == 400 && again.text.contains("already running"))
        try await server.eventually("the time limit") {
            ((try await json(server, "GET", "/api/pipelines/\(slow)").object as? [String: Any])?["runs"] as? [[String: Any]])?.last?["status"]
                as? String == "Failed"
        }
        #expect(try await server.text("GET", "/api/runs/\(slow)/last/log").text.contains("Process exited with status code -3"))
        // A malformed plan is refused and nothing is stored.
        let bad = try await json(
            server, "POST", "/api/pipelines", ["project": "root/app", "name": "bad", "plan": ["stages": [["name": "", "image": "x"]]]])
        #expect(bad.status == 400)
        #expect((try await json(server, "GET", "/api/pipelines").object as? [Any])?.count == 2)
        // A run the server was waiting for when it died ends as Error at the next start.
        #expect(try await server.send("POST", "/trigger/\(slowToken)").status == 200)
        server.crash()
        let restarted = try await LiveServer.launch(data: server.data)
        defer { restarted.stop() }
        let runs = (try await json(restarted, "GET", "/api/pipelines/\(slow)").object as? [String: Any])?["runs"] as? [[String: Any]]
        #expect(runs?.last?["status"] as? String == "Error")
        #expect(try await restarted.text("GET", "/api/runs/\(slow)/last/log").text.contains("the server restarted"))
    }

    @Test func dashboardLoginSessionsAndPipelineReads() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-ci"))
        defer { server.stop() }
        _ = try await json(server, "POST", "/api/v4/projects", ["name": "app"])
        let plan: [String: Any] = ["stages": [["name": "a", "image": "x", "script": ["true"]]]]
        _ = try await json(server, "POST", "/api/pipelines", ["project": "root/app", "name": "private", "plan": plan])
        _ = try await json(server, "POST", "/api/pipelines", ["project": "root/app", "name": "open", "plan": plan, "public": true])
        // Users are created by an admin; passwords are checked, sessions are cookies.
        #expect(try await json(server, "POST", "/api/users", ["username": "ada", "password": "short"]).status == 400)
        #expect(try await json(server, "POST", "/api/users", ["username": "ada", "password": "correct horse"]).status == 201)
        #expect(try await json(server, "POST", "/api/users", ["username": "ada", "password": "correct horse"]).status == 409)
        let team = try await json(server, "POST", "/api/pipelines", ["project": "root/app", "name": "team", "plan": plan, "readers": ["ada"]])
        #expect(team.status == 201)
        let anonymous = try await server.send("POST", "/api/users", body: Data(#"{"username":"eve","password":"12345678"}"#.utf8), token: .some(nil))
        #expect(anonymous.status == 401)
        #expect(try await server.send("POST", "/login", body: Data(#"{"username":"ada"}"#.utf8), token: .some(nil)).status == 400)
        #expect(
            try await server.send("POST", "/login", body: Data(#"{"username":"ada","password":"wrong one"}"#.utf8), token: .some(nil)).status == 401)
        let login = try await server.send("POST", "/login", body: Data(#"{"username":"ada","password":"correct horse"}"#.utf8), token: .some(nil))
        #expect(login.status == 200)
        let cookie = try #require(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        #expect(cookie.hasPrefix("candor_session=") && login.headers["set-cookie"]?.contains("HttpOnly") == true)
        let me = try await server.send("GET", "/me", headers: ["Cookie": cookie], token: .some(nil))
        let meObject = try JSONSerialization.jsonObject(with: me.data) as? [String: Any]
        #expect(me.status == 200 && meObject?["name"] as? String == "ada")
        #expect(try await server.send("GET", "/me", token: .some(nil)).status == 401)
        // Anonymous readers see public pipelines only; a session also those it reads.
        let publicOnly =
            try JSONSerialization.jsonObject(with: try await server.send("GET", "/api/pipelines", token: .some(nil)).data) as? [[String: Any]]
        #expect(publicOnly?.map { $0["name"] as? String } == ["open"])
        let all =
            try JSONSerialization.jsonObject(
                with: try await server.send("GET", "/api/pipelines", headers: ["Cookie": cookie], token: .some(nil)).data) as? [[String: Any]]
        #expect(all?.map { $0["name"] as? String } == ["open", "team"])
        #expect(try await server.send("GET", "/api/pipelines/1", token: .some(nil)).status == 401)
        #expect(try await server.send("GET", "/api/pipelines/1", headers: ["Cookie": cookie], token: .some(nil)).status == 403)
        #expect(try await server.send("GET", "/api/pipelines/3", headers: ["Cookie": cookie], token: .some(nil)).status == 200)
        #expect(try await server.send("GET", "/api/pipelines/2", token: .some(nil)).status == 200)
        #expect(try await server.send("GET", "/api/pipelines/99").status == 404)
        #expect(try await server.send("GET", "/api/runs/2/last/log", token: .some(nil)).status == 404)
        // Logging out ends the session.
        #expect(try await server.send("POST", "/logout", headers: ["Cookie": cookie], token: .some(nil)).status == 200)
        #expect(try await server.send("GET", "/me", headers: ["Cookie": cookie], token: .some(nil)).status == 401)
        // Bad pipeline bodies name the field.
        let noPlan = try await server.text("POST", "/api/pipelines", body: #"{"project":"root/app","name":"x"}"#)
        #expect(noPlan.status == 400 && noPlan.text.contains("plan"))
        let noProject = try await server.text("POST", "/api/pipelines", body: #"{"project":"root/none","name":"x","plan":{"stages":[]}}"#)
        #expect(noProject.status == 404)
        let badArchive = try await server.text(
            "POST", "/api/pipelines", body: #"{"project":"root/app","name":"x","plan":{"stages":[],"archive":["../etc/passwd"]}}"#)
        #expect(badArchive.status == 400 && badArchive.text.contains("plan.archive"))
    }
}

/// `warden ci …` against a live server: what the README's CI walk does with the admin commands.
@Suite("warden ci admin commands")
struct CIAdminCommandTests {
    @Test func tenantsProjectsTokensPipelinesUsersAndRunners() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-ci-cli"))
        defer { server.stop() }
        let folder = try temporaryFolder("warden-ci-cli-work")
        func ci(_ arguments: [String], input: String? = nil) async throws -> CLI.Output {
            try await server.cli(["ci"] + arguments, in: folder, input: input)
        }

        let tenant = try await ci(["tenant", "create", "example"])
        #expect(tenant.status == 0 && tenant.stdout.contains("tenant example created"), "\(tenant.stderr)")
        let again = try await ci(["tenant", "create", "example"])
        #expect(again.status == 1 && again.stderr.contains("409") && again.stderr.contains("exists already"), "\(again.stderr)")
        let badName = try await ci(["tenant", "create", "no spaces"])
        #expect(badName.status == 1 && badName.stderr.contains("name:"), "\(badName.stderr)")
        #expect(try await ci(["group", "create", "acme"]).stdout.contains("group acme created with id 1"))
        let project = try await ci(["project", "create", "app", "--group", "acme", "--tenant", "example"])
        #expect(project.status == 0 && project.stdout.contains("project acme/app created"), "\(project.stderr)")
        let noTenant = try await ci(["project", "create", "web", "--tenant", "missing"])
        #expect(noTenant.status == 1 && noTenant.stderr.contains("tenant: no tenant is named 'missing'"), "\(noTenant.stderr)")
        #expect(try await ci(["project", "create", "web"]).status == 0)
        #expect(try await ci(["tenant", "add-project", "example", "root/web"]).status == 0)
        let tenants = try await ci(["tenant", "list", "--format", "json"])
        let listed = try JSONSerialization.jsonObject(with: Data(tenants.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.map { "\($0["name"] ?? ""):\($0["projects"] ?? "")" } == ["example:2"])

        let registration = try await ci(["registration-token", "--project", "acme/app"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!registration.isEmpty)
        #expect(try await ci(["registration-token", "--project", "acme/app", "--group", "acme"]).status == 2)

        #expect(try await ci(["user", "create", "ada"], input: "correct horse\n").stdout.contains("user ada created"))
        let shortPassword = try await ci(["user", "create", "bob"], input: "short\n")
        #expect(shortPassword.status == 1 && shortPassword.stderr.contains("password"), "\(shortPassword.stderr)")
        let pipelineFile = folder.appendingPathComponent("pipeline.json")
        try Data(
            #"{"project": "acme/app", "name": "hello", "tags": ["cli"], "assignees": ["ada"], "plan": {"stages": [{"name": "greet", "image": "debian:12", "script": ["echo hello from the cli"]}]}}"#
                .utf8
        ).write(to: pipelineFile)
        let pipeline = try await ci(["pipeline", "create", "@pipeline.json"])
        #expect(pipeline.status == 0, "\(pipeline.stderr)")
        let trigger = try #require(
            pipeline.stdout.components(separatedBy: "trigger token (shown once): ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let badPlan = try await ci(["pipeline", "create", #"{"project": "acme/app", "name": "x", "plan": {"stages": [{"name": "s"}]}}"#])
        #expect(badPlan.status == 1 && badPlan.stderr.contains("plan"), "\(badPlan.stderr)")
        #expect(try await ci(["pipeline", "list"]).stdout.contains("hello"))

        let runner = try CIEndToEndTests.RunnerProcess(
            server: server, registrationToken: registration, tags: "cli", stageTimeout: 30, work: try temporaryFolder("warden-ci-cli-runner"))
        defer { runner.stop() }
        try await server.eventually("the runner to register") { try await ci(["runners"]).stdout.contains("project_type") }
        #expect(try await server.send("POST", "/trigger/\(trigger)").status == 200)
        try await server.eventually("the run to pass") {
            try await server.text("GET", "/api/runs/1/last/log").text.contains("hello from the cli")
        }
    }
}
