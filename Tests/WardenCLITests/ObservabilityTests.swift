import Foundation
import Testing

/// The server's log (issue 16): a request id per request, echoed and kept as its runs' traceId; one access line per
/// request; a failing asynchronous run is one structured line; no token or secret value is ever written.
@Suite("logs, end to end")
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

    static func lines(_ log: String) -> [[String: Any]] {
        log.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}
