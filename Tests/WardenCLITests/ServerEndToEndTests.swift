import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("warden serve and the worker client, end to end", .serialized)
struct ServerEndToEndTests {
    /// Runs `warden worker …` in `folder` against `server`.
    func worker(_ arguments: [String], in folder: URL, server: LiveServer, input: String? = nil) async throws -> CLI.Output {
        try await server.cli(["worker"] + arguments, in: folder, input: input)
    }

    @Test func initDryRunDeployListExecuteHistoryUndeploy() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-e2e-data"))
        defer { server.stop() }
        let folder = try temporaryFolder("warden-e2e-worker")
        #expect(try await worker(["list-event"], in: folder, server: server).stdout.contains("GENERIC_EVENT"))
        let created = try await worker(["init", "GENERIC_EVENT", "e2e-worker"], in: folder, server: server)
        #expect(created.status == 0, "\(created.stderr)")
        for file in ["worker.ts", "types.ts", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path))
        }
        #expect(try await worker(["init", "GENERIC_EVENT", "e2e-worker"], in: folder, server: server).status != 0)
        try """
        import { PlatformContext } from 'jfrog-workers';
        export default async (context: PlatformContext, data: any) => {
          console.log('got', data.n);
          return { doubled: data.n * 2, keyOK: context.secrets.get('apiKey') === 'k-123' };
        };
        """.write(to: folder.appendingPathComponent("worker.ts"), atomically: true, encoding: .utf8)
        let manifestURL = folder.appendingPathComponent("manifest.json")
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
        manifest["enabled"] = true
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        #expect(try await worker(["add-secret", "apiKey"], in: folder, server: server).status != 0)  // no value on empty stdin
        #expect(try await worker(["add-secret", "apiKey"], in: folder, server: server, input: "k-123\n").status == 0)
        #expect(try await worker(["add-secret", "apiKey", "--value", "other"], in: folder, server: server).status != 0)  // exists already
        let dry = try await worker(["dry-run", #"{"n": 4}"#], in: folder, server: server)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains(#""doubled" : 8"#))
        #expect(dry.stdout.contains(#""keyOK" : true"#))
        #expect(try await worker(["deploy"], in: folder, server: server).stdout.contains("created worker e2e-worker"))
        #expect(try await worker(["deploy"], in: folder, server: server).stdout.contains("updated worker e2e-worker"))
        let listed = try await worker(["list", "--format", "json"], in: folder, server: server)
        let workers = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(workers.first?["key"] as? String == "e2e-worker")
        #expect(workers.first?["secrets"] as? [[String: String]] == [["key": "apiKey"]])
        #expect(try await worker(["dry-run", #"{"n": 1}"#], in: folder, server: server).status == 0)
        let executed = try await worker(["execute", #"{"n": 21}"#], in: folder, server: server)
        #expect(executed.status == 0, "\(executed.stderr)")
        #expect(executed.stdout.contains(#""doubled" : 42"#))
        #expect(executed.stdout.contains(#""keyOK" : true"#))
        let history = try await worker(["execution-history", "--format", "json", "--with-test-runs"], in: folder, server: server)
        #expect(history.stdout.contains("STATUS_SUCCESS"))
        #expect(history.stdout.contains(#""testRun" : true"#))
        #expect(try await worker(["undeploy"], in: folder, server: server).status == 0)
        let again = try await worker(["undeploy"], in: folder, server: server)
        #expect(again.status == 1)
        #expect(again.stderr.contains("worker 'e2e-worker' does not exist"))
        let badToken = try await worker(["list", "--access-token", "wrong"], in: folder, server: server)
        #expect(badToken.status == 1)
        #expect(badToken.stderr.contains("401"))
    }

    @Test func acknowledgedWorkersSurviveKillNine() async throws {
        let data = try temporaryFolder("warden-crash-data")
        let server = try await LiveServer.launch(data: data)
        let acknowledged = await withTaskGroup(of: Int?.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let body: [String: Any] = [
                        "key": "crash-\(index)", "action": "GENERIC_EVENT", "enabled": true,
                        "sourceCode": "export default async (context) => context.secrets.get('s') === 'value-\(index)';",
                        "secrets": [["key": "s", "value": "value-\(index)"]],
                    ]
                    guard let reply = try? await server.request("POST", "/worker/api/v1/workers", json: body) else { return nil }
                    return reply.status == 201 ? index : nil
                }
            }
            var done: [Int] = []
            for await index in group {
                if let index { done.append(index) }
                if done.count == 60 { server.crash() }  // kill -9 while the rest are in flight
            }
            return done
        }
        #expect(acknowledged.count >= 60)
        let restarted = try await LiveServer.launch(data: data)
        defer { restarted.stop() }
        for index in acknowledged {
            let reply = try await restarted.request("POST", "/worker/api/v1/execute/crash-\(index)")
            #expect(reply.status == 200, "crash-\(index) after restart: \(String(describing: reply.body))")
            #expect((reply.body as? [String: Any])?["data"] as? Bool == true, "crash-\(index): \(String(describing: reply.body))")
        }
    }

    @Test func workersCallTheServersOwnRoutesThroughPlatformHttpWithAShortLivedToken() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-platform"))
        defer { server.stop() }
        let echo: [String: Any] = [
            "key": "echo", "action": "GENERIC_EVENT", "enabled": true, "shared": true,
            "sourceCode": "export default async (c, d) => ({ echoed: d.x });",
        ]
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: echo).status == 201)
        let caller: [String: Any] = [
            "key": "caller", "action": "GENERIC_EVENT", "enabled": true,
            "sourceCode": """
            export default async (context) => {
              const echoed = await context.clients.platformHttp.post('/worker/api/v1/execute/echo', { x: 41 });
              let listStatus = 0;
              try { await context.clients.platformHttp.get('/worker/api/v1/workers'); } catch (e) { listStatus = e.status; }
              // Without its leading slash, as the reference takes it; another host never.
              const bare = await context.clients.platformHttp.get('artifactory/api/system/ping');
              let hostStatus = 0, hostMessage = '';
              try { await context.clients.platformHttp.get('http://example.com/x'); } catch (e) { hostStatus = e.status; hostMessage = e.message; }
              return { echoed: echoed.data.data.echoed, status: echoed.status, listStatus, token: context.platformToken, baseUrl: context.baseUrl,
                       bare: bare.status, hostStatus, hostMessage };
            };
            """,
        ]
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: caller).status == 201)
        let reply = try await server.request("POST", "/worker/api/v1/execute/caller")
        #expect(reply.status == 200)
        let data = try #require((reply.body as? [String: Any])?["data"] as? [String: Any], "\(String(describing: reply.body))")
        #expect(data["echoed"] as? Int == 41)
        #expect(data["status"] as? Int == 200)
        #expect(data["listStatus"] as? Int == 403)  // the worker's token is a plain user's: no management
        #expect(data["bare"] as? Int == 200)
        #expect((data["hostMessage"] as? String)?.contains("a path on this server") == true, "\(data)")
        #expect(data["baseUrl"] as? String == server.url)  // the bound port, although the server was asked for port 0
        let token = try #require(data["token"] as? String)
        // the worker's token ended with its run
        var request = URLRequest(url: URL(string: server.url + "/worker/api/v1/execute/echo")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 401)
    }

    @Test func configurationFileSetsLimitsAndBadValuesStopTheServerNamingTheKey() async throws {
        let data = try temporaryFolder("warden-config")
        let file = data.appendingPathComponent("custom.json")
        try #"{"warden": {"limits": {"cpuMillis": 50}, "history": {"recordSuccess": false}}}"#.write(to: file, atomically: true, encoding: .utf8)
        let server = try await LiveServer.launch(data: data, arguments: ["--config", file.path])
        defer { server.stop() }
        let loop = try await server.request(
            "POST", "/worker/api/v1/test", json: ["action": "GENERIC_EVENT", "code": "export default async () => { for (;;) {} };"])
        let body = try #require((loop.body as? [String: Any])?["genericEvent"] as? [String: Any])
        #expect((body["error"] as? [String: Any])?["message"] as? String == "Worker used too much cpu time")

        for (json, key) in [
            (#"{"warden": {"limits": {"wallMillis": 0}}}"#, "warden.limits.wallMillis"),
            (#"{"warden": {"failPolicy": "sometimes"}}"#, "warden.failPolicy"),
            (#"{"warden": {"history": {"recordSuccess": "perhaps"}}}"#, "warden.history.recordSuccess"), (#"{"warden": "#, "--config"),
            // A key the server does not read stops it too, with the nearest one as a hint.
            (#"{"warden": {"prot": 8081}}"#, "'warden.prot' is not a setting of warden serve; did you mean 'warden.port'?"),
            (#"{"warden": {"limits": {"cpuMilis": 5}}}"#, "did you mean 'warden.limits.cpuMillis'?"), (#"{"other": 1}"#, "'other'"),
        ] {
            let bad = data.appendingPathComponent("bad.json")
            try json.write(to: bad, atomically: true, encoding: .utf8)
            let output = try await CLI.run(["serve", "--port", "0", "--data", data.path, "--config", bad.path])
            #expect(output.status == 2, "\(json): \(output.stderr)")
            #expect(output.stderr.contains(key), "\(json): \(output.stderr)")
        }
    }

    /// The list of known keys (which refuses unknown ones) and the keys the configuration reads are the same.
    @Test func everyKeyTheConfigurationReadsIsKnown() throws {
        let text = try String(contentsOf: CLI.repository.appendingPathComponent("Sources/warden/ServerConfiguration.swift"), encoding: .utf8)
        func keys(_ pattern: String, in text: some StringProtocol) throws -> Set<String> {
            let regex = try NSRegularExpression(pattern: pattern)
            let string = String(text)
            return Set(
                regex.matches(in: string, range: NSRange(string.startIndex..., in: string)).compactMap {
                    Range($0.range(at: 1), in: string).map { String(string[$0]) }
                })
        }
        let start = try #require(text.range(of: "static let knownKeys"))
        let end = try #require(text.range(of: "\n    ]", range: start.upperBound..<text.endIndex))
        let listed = try keys(#""(warden\.[A-Za-z.]+)""#, in: text[start.lowerBound..<end.upperBound])
        let read = try keys(#"\(config, "(warden\.[A-Za-z.]+)""#, in: text)
        #expect(!read.isEmpty && read.isSubset(of: listed), "read but not known: \(read.subtracting(listed))")
        #expect(listed.subtracting(read).subtracting(["warden.config"]).isEmpty, "known but never read: \(listed.subtracting(read))")
    }

    /// What the operating system or Foundation says reaches the user as one line naming what and why, never as an
    /// error dump or an enum name (issue 16).
    @Test func errorsAtTheEdgesAreOneHumanLine() async throws {
        func expectHuman(_ output: CLI.Output, _ wanted: String, _ what: String) {
            #expect(output.status != 0, "\(what)")
            let line = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(line.contains(wanted), "\(what): \(line)")
            for dump in ["Domain=", "UserInfo", "errno", "notFound", "bind(descriptor"] {
                #expect(!line.contains(dump), "\(what): \(line)")
            }
        }
        let data = try temporaryFolder("warden-edges")
        let server = try await LiveServer.launch(data: data)
        defer { server.stop() }
        let taken = try await CLI.run(["serve", "--port", "\(server.port)", "--data", try temporaryFolder("warden-edges-2").path])
        expectHuman(taken, "cannot listen on 127.0.0.1:\(server.port): another process uses that address; choose another port with --port", "port")
        expectHuman(
            try await CLI.run(["serve", "--port", "0", "--data", "/proc/warden"]),
            "--data: cannot use '/proc/warden' as the data folder: No such file or directory", "data folder")
        let file = try temporaryFolder("warden-edges-3").appendingPathComponent("plain-file")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        expectHuman(
            try await CLI.run(["serve", "--port", "0", "--data", file.appendingPathComponent("data").path]),
            "cannot use '\(file.path)/data' as the data folder: Not a directory", "data under a file")
        expectHuman(
            try await CLI.run(["worker", "list", "--server-url", "http://127.0.0.1:1", "--access-token", "x"]),
            "cannot reach http://127.0.0.1:1/worker/api/v1/workers: ", "unreachable server")
        expectHuman(try await CLI.run(["token", "revoke", "no-such-id", "--data", data.path]), "token 'no-such-id' does not exist", "revoke")
    }

    /// HTTPS without a proxy: a certificate the test makes, the server on it, a client that trusts it (issue 16).
    @Test func tlsServesHTTPSWithTheGivenCertificate() async throws {
        let folder = try temporaryFolder("warden-tls")
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let made = try await offThePool { () -> Int32 in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(made == 0)
        let server = try await LiveServer.launch(
            data: folder.appendingPathComponent("data"), arguments: ["--tls-cert", certificate, "--tls-key", key])
        defer { server.stop() }
        let secure = try await curl(["-s", "--cacert", certificate, "https://127.0.0.1:\(server.port)/worker/api/v1/system/liveness"])
        #expect(secure == #"{"code":"OK"}"#, "\(secure)")
        // With the admin token over HTTPS, and workers are told the https URL.
        let created = try await curl([
            "-s", "--cacert", certificate, "-H", "Authorization: Bearer \(server.token)", "-H", "Content-Type: application/json", "-d",
            #"{"code": "export default async (context) => ({ base: context.baseUrl })", "action": "GENERIC_EVENT"}"#,
            "https://127.0.0.1:\(server.port)/worker/api/v1/test",
        ])
        #expect(created.contains("https://127.0.0.1:\(server.port)"), "\(created)")
        // Plain HTTP on the same port is not served; an untrusted client refuses the certificate.
        #expect(try await curl(["-s", "-m", "5", "http://127.0.0.1:\(server.port)/worker/api/v1/system/liveness"]).isEmpty)
        #expect(try await curl(["-s", "-m", "5", "https://127.0.0.1:\(server.port)/worker/api/v1/system/liveness"]).isEmpty)
        // A missing or unreadable file, or one option without the other, stops the server naming it.
        for (arguments, wanted) in [
            (["--tls-cert", folder.appendingPathComponent("none.pem").path, "--tls-key", key], "no such file"),
            (["--tls-cert", key, "--tls-key", key], "holds no PEM certificate"), (["--tls-key", key], "--tls-cert"),
        ] {
            let output = try await CLI.run(["serve", "--port", "0", "--data", folder.appendingPathComponent("other").path] + arguments)
            #expect(output.status != 0 && output.stderr.contains(wanted), "\(arguments): \(output.stderr)")
        }
    }

    @Test func axiosReachesAllowedHostsOnly() async throws {
        // The server allows 127.0.0.1 on any port, as an internal address too, and calls itself: an outside host
        // that is on the list.
        let server = try await LiveServer.launch(
            data: try temporaryFolder("warden-axios"), arguments: ["--allow-hosts", "127.0.0.1:*"],
            environment: ["WARDEN_EGRESS_PRIVATE_HOSTS": "127.0.0.1:*"])
        defer { server.stop() }
        let code = """
            export default async (context) => {
              const live = await context.clients.axios.get('http://127.0.0.1:\(server.port)/worker/api/v1/system/liveness');
              let unauthorized = 0, refused = '';
              try { await context.clients.axios.get('http://127.0.0.1:\(server.port)/worker/api/v1/workers'); } catch (e) { unauthorized = e.response.status; }
              try { await context.clients.axios.get('http://localhost:\(server.port)/worker/api/v1/system/liveness'); } catch (e) { refused = e.message; }
              return { live: live.data.code, unauthorized, refused };
            };
            """
        let reply = try await server.request("POST", "/worker/api/v1/test", json: ["action": "GENERIC_EVENT", "code": code])
        let data = try #require(
            ((reply.body as? [String: Any])?["genericEvent"] as? [String: Any])?["data"] as? [String: Any], "\(String(describing: reply.body))")
        #expect(data["live"] as? String == "OK")
        #expect(data["unauthorized"] as? Int == 401)
        #expect((data["refused"] as? String)?.contains("not on this server's egress allow-list") == true)
    }
}
