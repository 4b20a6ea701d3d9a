import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Limits of the sandbox that need the whole server: a worker whose writes fire itself, and platformHttp answers
/// the server has to hold in memory (issue 10, findings 18 and 19).
@Suite("sandbox limits, end to end", .serialized)
struct SandboxLimitsEndToEndTests {
    @Test func aWorkerThatFiresItselfStopsAtTheEventDepthLimit() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-depth"))
        defer { server.stop() }
        try await server.createRepository("loop")
        let source = """
            export default async (context, data) => {
              const path = data.metadata.repoPath.path;
              await context.clients.platformHttp.put('/artifactory/loop/again-' + path, 'x');
              return { message: 'wrote again-' + path };
            };
            """
        try await server.deployWorker(key: "echo-upload", action: "AFTER_CREATE", source: source, repos: ["loop"])
        #expect(try await server.text("PUT", "/artifactory/loop/a.txt", body: "x").status == 201)
        try await server.eventually("the depth limit to stop the chain") {
            try await server.history("echo-upload").contains {
                ($0["executionResult"] as? [String: Any]).map { "\($0)" }?.contains("EventDepthError") == true
            }
        }
        try await Task.sleep(for: .seconds(1))
        let runs = try await server.history("echo-upload")
        #expect(runs.count == 5, "\(runs.count) runs")
        #expect(runs.filter { $0["executionStatus"] as? String == "STATUS_SUCCESS" }.count == 4)
        let listed = try await server.request("GET", "/artifactory/api/storage/loop/")
        let children = ((listed.body as? [String: Any])?["children"] as? [[String: Any]]) ?? []
        #expect(children.count == 5, "\(children)")
    }

    @Test func platformHttpAnswersAreBoundedInTheServer() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-platform-answers"))
        defer { server.stop() }
        try await server.createRepository("libs")
        #expect(try await server.text("PUT", "/artifactory/libs/big.txt", body: String(repeating: "a", count: 9 << 20)).status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/small.txt", body: String(repeating: "b", count: 1 << 20)).status == 201)
        let source = """
            export default async (context, data) => {
              try {
                const answer = await context.clients.platformHttp.get('/artifactory/libs/' + data.name);
                return { size: answer.data.length };
              } catch (e) {
                return { error: String(e.message) };
              }
            };
            """
        try await server.deployWorker(
            key: "reader", action: "GENERIC_EVENT", source: source, platformAccess: ["repositories": ["libs"], "actions": ["read"]])
        let small = try await server.request("POST", "/worker/api/v1/execute/reader", json: ["name": "small.txt"])
        #expect(((small.body as? [String: Any])?["data"] as? [String: Any])?["size"] as? Int == 1 << 20, "\(String(describing: small.body))")
        let big = try await server.request("POST", "/worker/api/v1/execute/reader", json: ["name": "big.txt"])
        let error = ((big.body as? [String: Any])?["data"] as? [String: Any])?["error"] as? String
        #expect(error?.contains("larger than") == true, "\(String(describing: big.body))")
    }

    @Test func aSlowWorkerThatExecutesAnotherOfItsProjectIsNotHeldBackByItsOwnShare() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-nested"))
        defer { server.stop() }
        for (key, code) in [
            ("inner", "export default async () => ({ inner: true });"),
            (
                "outer",
                "export default async (context) => { await context.wait(400); const r = await context.clients.platformHttp.post('/worker/api/v1/execute/inner', {}); return { got: r.data.data }; };"
            ),
        ] {
            let reply = try await server.request(
                "POST", "/worker/api/v1/workers",
                json: ["key": key, "action": "GENERIC_EVENT", "sourceCode": code, "enabled": true, "projectKey": "p1", "shared": true])
            #expect(reply.status == 201, "\(String(describing: reply.body))")
        }
        let token = try #require(
            (try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "p1", "scope": "project-admin", "projectKey": "p1"]).body
                as? [String: Any])?["token"] as? String)
        // Run as p1's admin: the outer run counts against p1's share, and after 400 ms it is slow; the inner run its
        // call starts must not wait for it (it would, until the queue wait, were it counted against p1 too).
        var request = URLRequest(url: URL(string: server.url + "/worker/api/v1/execute/outer")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data("{}".utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(((body?["data"] as? [String: Any])?["got"] as? [String: Any])?["inner"] as? Bool == true, "\(String(decoding: data, as: UTF8.self))")
    }
}
