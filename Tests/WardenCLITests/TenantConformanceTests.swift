import Foundation
import Testing

/// zuul-client (installed into .venv-clients by `make test`) drives a live server and a live `warden runner` through
/// the tenant API: every one of its 18 commands, and its REST class.
@Suite("zuul-client against the tenant API", .serialized)
struct TenantConformanceTests {
    @Test func zuulClientCommandsAndRESTClass() async throws {
        let python = CLI.repository.appendingPathComponent(".venv-clients/bin/python").path
        try #require(
            FileManager.default.isExecutableFile(atPath: CLI.repository.appendingPathComponent(".venv-clients/bin/zuul-client").path),
            "zuul-client is not installed: run make test (scripts/python-clients.sh)")
        let secret = "the-tenant-api-conformance-secret-0123456789"
        let server = try LiveServer.start(
            data: try temporaryFolder("warden-zuul"), environment: ["WARDEN_TENANT_AUTH_SECRET": secret])
        defer { server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [CLI.repository.appendingPathComponent("Tests/WardenCLITests/Clients/zuul_conformance.py").path]
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_URL"] = server.url
        environment["WARDEN_TOKEN"] = server.token
        environment["WARDEN_BIN"] = CLI.warden
        environment["JWT_SECRET"] = secret
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }
}
