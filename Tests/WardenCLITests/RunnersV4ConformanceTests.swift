import Foundation
import Testing

/// python-gitlab (installed into .venv-clients by `make test`) drives a live server through the runners API v4.
@Suite("python-gitlab against the runners API v4", .serialized)
struct RunnersV4ConformanceTests {
    @Test func pythonGitlabLibraryAndCLI() async throws {
        let python = CLI.repository.appendingPathComponent(".venv-clients/bin/python").path
        try #require(
            FileManager.default.isExecutableFile(atPath: python), "python-gitlab is not installed: run make test (scripts/python-clients.sh)")
        let server = try LiveServer.start(data: try temporaryFolder("warden-gitlab"))
        defer { server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [CLI.repository.appendingPathComponent("Tests/WardenCLITests/Clients/gitlab_conformance.py").path]
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_URL"] = server.url
        environment["WARDEN_TOKEN"] = server.token
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
