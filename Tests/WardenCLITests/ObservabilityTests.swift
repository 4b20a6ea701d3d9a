import Foundation
import Testing

/// The server's log and metrics (issue 16): a request id per request, echoed and kept as its runs' traceId; one
/// access line per request; a failing asynchronous run is one structured line; no token or secret value is ever
/// written; /metrics moves with real traffic.
@Suite("logs and metrics, end to end")
struct ObservabilityTests {
    @Test func aFailingAfterCreateRunIsOneLineWithItsRequestAndNoSecretIsLogged() async throws {
        let secret = "s3cr3t-\(UUID().uuidString)"
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-logs"), arguments: ["--log-format", "json"])
        defer { server.stop() }
        try await server.createRepository("observed")
        try await server.deployWorker(
            key: "loud-failure", action: "AFTER_CREATE",
            source: "export default async (context, data) => { throw new Error('refused with ' + context.secrets.get('key')); };",
            repos: ["observed"], secrets: ["key": secret])
        // A user token, made and used: its value must not reach the log either.
        let made = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "observer", "scope": "user"])
        let userToken = try #require((made.body as? [String: Any])?["token"] as? String, "\(made)")

        let upload = try await server.send("PUT", "/artifactory/observed/a.txt", body: Data("content".utf8), headers: ["X-Request-Id": "obs-1"])
        #expect(upload.status == 201)
        #expect(upload.headers["x-request-id"] == "obs-1")
        // A request without an id, or with one that is not plain, gets a new one.
        let plain = try await server.send("GET", "/artifactory/observed/a.txt", token: .some(userToken))
        let fresh = try #require(plain.headers["x-request-id"])
        #expect(fresh.count == 32 && fresh != "obs-1")
        let odd = try await server.send("GET", "/worker/api/v1/system/liveness", headers: ["X-Request-Id": "a b\"c"])
        #expect(odd.headers["x-request-id"]?.count == 32)

        // The run's line: its worker, action, outcome and error, with the request that queued it.
        var failure: [String: Any] = [:]
        try await server.eventually("the failed run's log line") {
            failure = Self.lines(server.log).first { $0["message"] as? String == "an asynchronous run failed" } ?? [:]
            return !failure.isEmpty
        }
        #expect(failure["level"] as? String == "warning")
        #expect(failure["worker"] as? String == "loud-failure" && failure["action"] as? String == "AFTER_CREATE")
        #expect(failure["request"] as? String == "obs-1")
        #expect((failure["error"] as? String)?.contains("refused with ***") == true, "\(failure)")
        // The history keeps the request id as the run's traceId.
        try await server.eventually("the failed run's history entry") { try await !server.history("loud-failure").isEmpty }
        #expect(try await server.history("loud-failure").first?["traceId"] as? String == "obs-1")

        // One access line per request: method, path, status, duration, caller, request.
        let log = server.log
        let lines = Self.lines(log)
        let access = lines.filter { $0["logger"] as? String == "warden.access" }
        let put = try #require(access.first { $0["request"] as? String == "obs-1" })
        #expect(put["method"] as? String == "PUT" && put["path"] as? String == "/artifactory/observed/a.txt")
        #expect(put["status"] as? Int == 201 && put["caller"] as? String == "admin" && put["ms"] is Double, "\(put)")
        #expect(access.first { $0["request"] as? String == fresh }?["caller"] as? String == "observer")

        // Every line is JSON; no line holds a token or a secret.
        #expect(log.split(separator: "\n").count == lines.count, "a line is not JSON")
        for value in [secret, server.token, userToken] {
            #expect(!log.contains(value), "a log line holds a secret or a token")
        }
    }

    /// `--log-level warning` keeps the access lines out; a level or form that does not exist stops the server.
    @Test func theLevelAndTheFormAreChosenAndCheckedAtStart() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-quiet"), arguments: ["--log-level", "notice"])
        defer { server.stop() }
        #expect(try await server.text("GET", "/worker/api/v1/system/liveness").status == 200)
        #expect(server.log.contains("notice warden: serving the worker API on http://127.0.0.1:\(server.port)"), "\(server.log)")
        #expect(!server.log.contains("warden.access"), "\(server.log)")
        for (arguments, wanted) in [
            (["--log-level", "loud"], "warden.log.level: 'loud' is not a level"),
            (["--log-format", "xml"], "warden.log.format: 'xml' is neither text nor json"),
        ] {
            let output = try await CLI.run(["serve", "--port", "0", "--data", try temporaryFolder("warden-bad-log").path] + arguments)
            #expect(output.status != 0 && output.stderr.contains(wanted), "\(output.stderr)")
        }
    }

    /// /metrics after real traffic: requests by dialect, route and status; worker runs by worker, action and outcome
    /// with their histograms; compiles; the executors; a killed executor's respawn. Who may read it.
    @Test func theMetricsMoveWithRealTrafficAndWorkersCannotReadThem() async throws {
        let server = try await LiveServer.launch(
            data: try temporaryFolder("warden-metrics"), environment: ["WARDEN_METRICS_ACCESS": "token"])
        defer { server.stop() }
        func scrape() async throws -> [String: Double] {
            let answer = try await server.send("GET", "/metrics")
            #expect(answer.status == 200 && answer.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            var samples: [String: Double] = [:]
            for line in String(decoding: answer.data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
                samples[String(line[..<space])] = value
            }
            return samples
        }
        let before = try await scrape()
        try await server.createRepository("counted")
        for index in 0..<3 { #expect(try await server.text("PUT", "/artifactory/counted/\(index).txt", body: "x").status == 201) }
        #expect(try await server.text("GET", "/artifactory/counted/missing.txt").status == 404)
        try await server.deployWorker(key: "counted-ok", action: "GENERIC_EVENT", source: "export default async () => ({ fine: true });")
        try await server.deployWorker(key: "counted-bad", action: "GENERIC_EVENT", source: "export default async () => { throw new Error('no'); };")
        for key in ["counted-ok", "counted-ok", "counted-bad"] {
            _ = try await server.request("POST", "/worker/api/v1/execute/\(key)", json: [:])
        }
        // An executor killed from outside is replaced (the lowest pid: one started with the server, not the compiler).
        let executors = try childProcesses(of: server.process.processIdentifier).sorted()
        #expect(!executors.isEmpty)
        if let victim = executors.first { kill(victim, SIGKILL) }
        try await server.eventually("the executor's replacement") { server.log.contains("an executor was started in a dead one's place") }

        let after = try await scrape()
        func moved(_ name: String, by amount: Double) {
            #expect((after[name] ?? 0) - (before[name] ?? 0) == amount, "\(name): \(before[name] ?? 0) → \(after[name] ?? 0)")
        }
        moved(#"warden_http_requests_total{dialect="artifactory",route="/artifactory/{repo}/**",method="PUT",status="201"}"#, by: 3)
        moved(#"warden_http_requests_total{dialect="artifactory",route="/artifactory/{repo}/**",method="GET",status="404"}"#, by: 1)
        moved(#"warden_http_request_duration_seconds_count{dialect="artifactory",route="/artifactory/{repo}/**",method="PUT"}"#, by: 3)
        moved(#"warden_worker_runs_total{worker="counted-ok",action="GENERIC_EVENT",outcome="success"}"#, by: 2)
        moved(#"warden_worker_runs_total{worker="counted-bad",action="GENERIC_EVENT",outcome="threw"}"#, by: 1)
        moved(#"warden_worker_run_duration_seconds_count{action="GENERIC_EVENT"}"#, by: 3)
        moved(#"warden_worker_run_cpu_seconds_count{action="GENERIC_EVENT"}"#, by: 3)
        moved(#"warden_compiles_total{result="ok"}"#, by: 2)
        moved("warden_executor_respawns_total", by: 1)
        #expect(after[#"warden_executors{state="idle"}"#] != nil && after["warden_executor_queue"] == 0)
        #expect(after["warden_history_write_queue"] != nil && after["warden_async_backlog"] == 0)

        // warden.metrics.access=token: no token, no metrics; a worker's run token neither, nor any platformHttp call.
        #expect(try await server.text("GET", "/metrics", token: .some(nil)).status == 401)
        let peek = try await server.request(
            "POST", "/worker/api/v1/test",
            json: [
                "action": "GENERIC_EVENT",
                "code":
                    "export default async (context) => { try { await context.clients.platformHttp.get('/metrics'); return 200; } catch (e) { return e.response.status; } };",
            ])
        let status = ((peek.body as? [String: Any])?["genericEvent"] as? [String: Any])?["data"]
        #expect(status as? Int == 403, "\(String(describing: peek.body))")
    }

    /// The processes whose parent is `pid` (the server's executors), from /proc.
    func childProcesses(of pid: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
                return false
            }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    static func lines(_ log: String) -> [[String: Any]] {
        log.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}
