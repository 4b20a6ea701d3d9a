import Foundation
import Testing

/// zuul-client (installed into .venv-clients by `make test`) drives a live server and a live `warden runner` through
/// the tenant API: every one of its 18 commands, and its REST class.
@Suite("zuul-client against the tenant API", .serialized)
struct TenantConformanceTests {
    @Test func zuulClientCommandsAndRESTClass() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: CLI.repository.appendingPathComponent(".venv-clients/bin/zuul-client").path),
            "zuul-client is not installed: run make test (scripts/python-clients.sh)")
        let secret = "the-tenant-api-conformance-secret-0123456789"
        let server = try await LiveServer.launch(
            data: try temporaryFolder("warden-zuul"), environment: ["WARDEN_TENANT_AUTH_SECRET": secret])
        defer { server.stop() }
        let (status, text) = try await server.runClientScript("zuul_conformance.py", environment: ["WARDEN_BIN": CLI.warden, "JWT_SECRET": secret])
        #expect(status == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }
}
