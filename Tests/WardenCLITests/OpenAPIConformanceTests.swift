import Foundation
import Testing

/// The OpenAPI document (issue 16): the server serves what docs/openapi.json keeps, and schemathesis (installed into
/// .venv-clients by `make test`) finds no server error, no undocumented status, no answer outside its schema and no
/// wrong content type, bounded: 50 examples per operation, a fixed seed, one request at a time (the suites beside it
/// share the machine's two cores).
@Suite("OpenAPI document and schemathesis", .serialized)
struct OpenAPIConformanceTests {
    @Test func theServedDocumentIsTheOneInTheRepository() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-openapi"))
        defer { server.stop() }
        let served = try await server.text("GET", "/openapi.json", token: .some(nil))
        #expect(served.status == 200)
        let kept = try String(contentsOf: CLI.repository.appendingPathComponent("docs/openapi.json"), encoding: .utf8)
        #expect(served.text == kept, "docs/openapi.json is not what the server serves: run make openapi")
    }

    @Test func schemathesisFindsNothing() async throws {
        let schemathesis = CLI.repository.appendingPathComponent(".venv-clients/bin/schemathesis").path
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "schemathesis is not installed: run make test")
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-schemathesis"), arguments: ["--log-level", "notice"])
        defer { server.stop() }
        try await Self.seed(server)
        let report = try temporaryFolder("warden-schemathesis-report")
        let run = try await CLI.run(
            program: schemathesis,
            [
                "run", "\(server.url)/openapi.json", "--header", "Authorization: Bearer \(server.token)",
                "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples", "50", "--seed", "1", "--workers", "1", "--no-color", "--request-timeout", "30",
                "--report", "junit", "--report-dir", report.path, "--generation-database", "none",
            ],
            // Its caches (.schemathesis, .hypothesis) go beside the report, not into the repository.
            in: report)
        #expect(run.status == 0, "\(run.stdout.suffix(20_000))\(run.stderr.suffix(4_000))")
    }

    /// What the document's path examples name: a repository, a worker, a permission target, a group and a build
    /// called `libs`, the file `docs/readme.txt`, and the tenant `example`.
    static func seed(_ server: LiveServer) async throws {
        try await server.createRepository("libs")
        #expect(try await server.text("PUT", "/artifactory/libs/docs/readme.txt", body: "read me").status == 201)
        try await server.deployWorker(key: "libs", action: "GENERIC_EVENT", source: "export default async (context, data) => ({ echo: data });")
        let target = try await server.request(
            "PUT", "/artifactory/api/v2/security/permissions/libs",
            json: ["name": "libs", "repo": ["repositories": ["libs"], "actions": ["users": ["admin": ["read"]]]]])
        #expect(target.status == 201 || target.status == 200, "\(target)")
        let group = try await server.request("PUT", "/artifactory/api/security/groups/libs", json: ["name": "libs"])
        #expect(group.status == 201 || group.status == 200, "\(group)")
        let build = try await server.request("PUT", "/artifactory/api/build", json: ["name": "libs", "number": "1", "modules": []])
        #expect(build.status == 204, "\(build)")
        #expect(try await server.request("POST", "/api/tenants", json: ["name": "example"]).status == 201)
    }
}
