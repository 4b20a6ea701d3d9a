import Foundation
import Testing

/// python-gitlab (installed into .venv-clients by `make test`) drives a live server through the runners API v4.
@Suite("python-gitlab against the runners API v4", .serialized)
struct RunnersV4ConformanceTests {
    @Test func pythonGitlabLibraryAndCLI() async throws {
        let python = CLI.repository.appendingPathComponent(".venv-clients/bin/python").path
        try #require(
            FileManager.default.isExecutableFile(atPath: python), "python-gitlab is not installed: run make test (scripts/python-clients.sh)")
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-gitlab"))
        defer { server.stop() }
        let (status, text) = try await server.runClientScript("gitlab_conformance.py")
        #expect(status == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }
}
