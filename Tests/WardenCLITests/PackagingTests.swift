import Foundation
import Testing

/// `warden --version`, `GET /api/version` and `make install` into a temporary prefix (issue 16).
@Suite("version and packaging")
struct PackagingTests {
    /// The binary names the commit it was built from (the tests are built from this checkout) and the
    /// JavaScriptCore it loaded; the server answers the same to a caller with a token, and nothing to one without.
    @Test func theVersionNamesTheCommitTheBuildAndTheEngine() async throws {
        let printed = try await CLI.run(["--version"])
        #expect(printed.status == 0, "\(printed.stderr)")
        let line = printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let version = try String(contentsOf: CLI.repository.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("warden \(version) (commit "), "\(line)")
        #expect(line.range(of: #"JavaScriptCore \d+\.\d+\.\d+\)$"#, options: .regularExpression) != nil, "\(line)")

        let head = try await CLI.run(program: "/usr/bin/git", ["-c", "safe.directory=*", "rev-parse", "HEAD"])
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.status == 0 && commit.count == 40, "\(head.stderr)")
        #expect(line.contains("(commit \(commit.prefix(12))"), "\(line) is not built from \(commit)")

        let server = try await LiveServer.launch(data: try temporaryFolder("warden-version"))
        defer { server.stop() }
        let answer = try await server.request("GET", "/api/version")
        let body = try #require(answer.body as? [String: Any], "\(answer)")
        #expect(answer.status == 200)
        #expect(body["version"] as? String == version)
        #expect((body["commit"] as? String)?.hasPrefix(commit) == true, "\(body)")
        #expect(ISO8601DateFormatter().date(from: body["buildDate"] as? String ?? "") != nil, "\(body)")
        #expect(line.contains("JavaScriptCore \(body["javaScriptCore"] as? String ?? "?")"), "\(body)")
        #expect(try await server.text("GET", "/api/version", token: .some(nil)).status == 401)
    }

    /// `make install PREFIX=…` puts the binary, a unit systemd accepts and a configuration the server starts with
    /// under the prefix; a second install keeps the configuration an admin edited.
    @Test func makeInstallPutsABinaryAUnitAndAConfigurationUnderThePrefix() async throws {
        let prefix = try temporaryFolder("warden-prefix")
        let made = try await CLI.run(program: "/usr/bin/make", ["--no-print-directory", "install", "PREFIX=\(prefix.path)", "BINARY=\(CLI.warden)"])
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let binary = prefix.appendingPathComponent("bin/warden").path
        let unit = prefix.appendingPathComponent("lib/systemd/system/warden.service")
        let configuration = prefix.appendingPathComponent("etc/warden/warden.json")
        #expect(FileManager.default.isExecutableFile(atPath: binary))

        let text = try String(contentsOf: unit, encoding: .utf8)
        for line in [
            "ExecStart=\(binary) serve --config \(configuration.path) --data /var/lib/warden", "DynamicUser=yes", "StateDirectory=warden",
            "ProtectSystem=strict", "Restart=on-failure",
        ] {
            #expect(text.split(separator: "\n").contains(Substring(line)), "the unit lacks \(line)")
        }
        #expect(!text.contains("@"), "a placeholder is left in the unit")
        // systemd's own check: every directive known and well formed, the command executable.
        let verified = try await CLI.run(program: "/usr/bin/systemd-analyze", ["verify", unit.path])
        #expect(verified.status == 0 && verified.stderr.isEmpty && verified.stdout.isEmpty, "\(verified.stdout)\(verified.stderr)")

        // The installed binary serves with the installed configuration (the flags give it a free port and a folder).
        let server = try await LiveServer.launch(
            data: try temporaryFolder("warden-installed"), arguments: ["--config", configuration.path], program: binary)
        defer { server.stop() }
        #expect(try await server.text("GET", "/worker/api/v1/system/readiness").status == 200)

        // An edited configuration survives a second install; the sample lands beside it.
        try #"{"warden": {"port": 9999}}"#.write(to: configuration, atomically: true, encoding: .utf8)
        let again = try await CLI.run(program: "/usr/bin/make", ["--no-print-directory", "install", "PREFIX=\(prefix.path)", "BINARY=\(CLI.warden)"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOf: configuration, encoding: .utf8).contains("9999"))
        #expect(FileManager.default.fileExists(atPath: configuration.path + ".sample"))
    }
}
