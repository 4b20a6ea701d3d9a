import Foundation
import Testing

/// Runs the built `warden` binary the way a user does and checks what it prints and how it exits.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var warden: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("warden").path
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) async throws -> Output {
        try await offThePool { try runNow(warden, arguments) }
    }

    /// Another program (make, git, systemd-analyze), from the repository's folder or `folder`.
    static func run(program: String, _ arguments: [String], in folder: URL = repository) async throws -> Output {
        try await offThePool { try runNow(program, arguments, in: folder) }
    }

    private static func runNow(_ program: String, _ arguments: [String], in folder: URL = repository) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func json(_ text: String) -> NSDictionary? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? NSDictionary
    }
}

@Suite("warden worker run")
struct WorkerRunCommandTests {
    static let hooks = [
        "block-anonymous-release-downloads", "audit-downloads", "upload-naming-policy", "sign-new-artifacts", "token-policy", "keep-pinned-tokens",
    ]

    @Test(arguments: hooks)
    func readyMadeHookGivesItsExpectedEnvelope(_ hook: String) async throws {
        let folder = CLI.repository.appendingPathComponent("hooks/\(hook)")
        let settings = try #require(CLI.json(try String(contentsOf: folder.appendingPathComponent("hook.json"), encoding: .utf8)))
        var arguments = [
            "worker", "run", "hooks/\(hook)/worker.ts", "--action", settings["action"] as! String, "--data", "@hooks/\(hook)/payload.json",
        ]
        for (key, value) in settings["secrets"] as? [String: String] ?? [:] { arguments += ["--secret", "\(key)=\(value)"] }
        for (key, value) in settings["properties"] as? [String: String] ?? [:] { arguments += ["--property", "\(key)=\(value)"] }
        let output = try await CLI.run(arguments)
        #expect(output.status == 0, "\(output.stderr)")
        let expected = try #require(CLI.json(try String(contentsOf: folder.appendingPathComponent("expected.json"), encoding: .utf8)))
        #expect(CLI.json(output.stdout) == expected, "got \(output.stdout)")
    }

    @Test func eachSeedActionHasAHook() throws {
        var actions: Set<String> = []
        for hook in Self.hooks {
            let settings = try #require(
                CLI.json(try String(contentsOf: CLI.repository.appendingPathComponent("hooks/\(hook)/hook.json"), encoding: .utf8)))
            actions.insert(settings["action"] as! String)
        }
        #expect(actions.isSuperset(of: ["BEFORE_DOWNLOAD", "AFTER_DOWNLOAD", "BEFORE_UPLOAD", "AFTER_CREATE"]))
    }

    @Test func aFailingRunExitsWithOneAndShowsTheError() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("failing-\(UUID().uuidString).ts")
        try "export default async (context, data) => {\n  throw new Error('no ' + data.what);\n};\n".write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await CLI.run(["worker", "run", file.path, "--action", "GENERIC_EVENT", "--data", #"{"what":"luck"}"#])
        #expect(output.status == 1)
        let envelope = try #require(CLI.json(output.stdout))
        let generic = try #require(envelope["genericEvent"] as? NSDictionary)
        #expect(generic["executionStatus"] as? String == "STATUS_FAIL")
        #expect((generic["error"] as? NSDictionary)?["line"] as? Int == 2)
        #expect((envelope["logs"] as? String)?.contains("[error] - Error: no luck (line 2)") == true)
    }

    @Test func aCompileErrorExitsWithOneAndNamesTheLine() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).ts")
        try "export default async () => {\n  return ;;; )\n};\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await CLI.run(["worker", "run", file.path, "--action", "GENERIC_EVENT"])
        #expect(output.status == 1)
        #expect(output.stderr.contains("\(file.path):2:"))
    }

    @Test(arguments: [
        (["worker", "run", "hooks/audit-downloads/worker.ts", "--action", "NOT_AN_ACTION"], "--action"),
        (["worker", "run", "hooks/audit-downloads/worker.ts", "--action", "AFTER_DOWNLOAD", "--data", "{not json"], "--data"),
        (["worker", "run", "hooks/audit-downloads/worker.ts", "--action", "AFTER_DOWNLOAD", "--data", "@missing.json"], "--data"),
        (["worker", "run", "hooks/audit-downloads/worker.ts", "--action", "AFTER_DOWNLOAD", "--secret", "novalue"], "--secret"),
        (["worker", "run", "no/such/file.ts", "--action", "AFTER_DOWNLOAD"], "FILE"),
        (["worker", "run", "hooks/audit-downloads/worker.ts"], "--action"),
    ])
    func badArgumentsExitWithTwoAndNameTheArgument(_ arguments: [String], _ named: String) async throws {
        let output = try await CLI.run(arguments)
        #expect(output.status == 2)
        #expect(output.stderr.contains(named), "stderr: \(output.stderr)")
    }
}
