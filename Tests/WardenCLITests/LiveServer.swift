import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `warden serve` on a free loopback port, started and stopped by the test.
final class LiveServer: @unchecked Sendable {  // the Process is only touched by the test that owns this server
    let process: Process
    let port: Int
    let data: URL
    let token: String
    var url: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, port: Int, data: URL, token: String) {
        self.process = process
        self.port = port
        self.data = data
        self.token = token
    }

    static func start(
        data: URL, token: String = "e2e-admin-token", arguments extra: [String] = [], environment settings: [String: String] = [:],
        program: String = CLI.warden
    ) throws -> LiveServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["serve", "--port", "0", "--data", data.path, "--executors", "2"] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_ADMIN_TOKEN"] = token
        environment.merge(settings) { _, new in new }
        process.environment = environment
        // The log (standard output) and standard error to files beside the data folder: a pipe nobody reads would fill
        // and stop the server; the tests read the log, and a server that does not start says why.
        let log = logFile(of: data)
        let errors = data.deletingLastPathComponent().appendingPathComponent(data.lastPathComponent + ".stderr")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"serving the worker API on https?://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last ?? "") ?? 0
                return LiveServer(process: process, port: port, data: data, token: token)
            }
            usleep(20_000)
        }
        process.terminate()
        let said = (try? String(contentsOf: errors, encoding: .utf8)).map { String($0.suffix(2_000)) } ?? ""
        throw CLIError("the server did not start: \(text)\(said)")
    }

    /// Where the server's log goes: beside its data folder.
    static func logFile(of data: URL) -> URL {
        data.deletingLastPathComponent().appendingPathComponent(data.lastPathComponent + ".log")
    }

    /// Everything the server has logged so far.
    var log: String { (try? String(contentsOf: Self.logFile(of: data), encoding: .utf8)) ?? "" }

    /// `start` on a thread of its own: it blocks while the server starts, and the tests share two cooperative
    /// threads on two cores.
    static func launch(
        data: URL, token: String = "e2e-admin-token", arguments extra: [String] = [], environment settings: [String: String] = [:],
        program: String = CLI.warden
    ) async throws -> LiveServer {
        try await offThePool { try start(data: data, token: token, arguments: extra, environment: settings, program: program) }
    }

    /// Runs `warden <arguments>` in `folder` as a client of this server (WARDEN_URL and WARDEN_TOKEN set), on a
    /// thread of its own.
    func cli(_ arguments: [String], in folder: URL, input: String? = nil) async throws -> CLI.Output {
        try await offThePool { try self.cliNow(arguments, in: folder, input: input) }
    }

    private func cliNow(_ arguments: [String], in folder: URL, input: String?) throws -> CLI.Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.warden)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_URL"] = url
        environment["WARDEN_TOKEN"] = token
        environment["HOME"] = folder.path
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `Tests/WardenCLITests/Clients/<script>` with the clients' Python (.venv-clients) against this server
    /// (WARDEN_URL, WARDEN_TOKEN and `environment` set); its exit status and everything it printed. On a thread of
    /// its own: a script runs for many seconds.
    func runClientScript(_ script: String, environment extra: [String: String] = [:]) async throws -> (status: Int32, text: String) {
        try await offThePool { try self.runClientScriptNow(script, environment: extra) }
    }

    private func runClientScriptNow(_ script: String, environment extra: [String: String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = CLI.repository.appendingPathComponent(".venv-clients/bin/python")
        process.arguments = [CLI.repository.appendingPathComponent("Tests/WardenCLITests/Clients/\(script)").path]
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_URL"] = url
        environment["WARDEN_TOKEN"] = token
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// SIGTERM and wait: a graceful stop.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        Self.waitForExit(process.processIdentifier)
    }

    /// SIGKILL: the crash.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        Self.waitForExit(process.processIdentifier)
    }

    /// Waits until the process has ended (gone, or a zombie not yet reaped), looking at /proc: Foundation's
    /// `waitUntilExit` waits for its own reaping, which needs a dispatch thread, and a test run that holds them all
    /// would wait for ever.
    static func waitForExit(_ pid: Int32) {
        while let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z", state != "X"
        {
            usleep(20_000)
        }
    }

    func target(_ path: String) throws -> URL {
        guard let target = URL(string: url + path) else { throw CLIError("'\(path)' does not make a URL") }
        return target
    }

    /// A JSON request with the admin token, or with `token`.
    func request(_ method: String, _ path: String, json: Any? = nil, token: String? = nil) async throws -> (status: Int, body: Any?) {
        var request = URLRequest(url: try target(path))
        request.httpMethod = method
        request.setValue("Bearer \(token ?? self.token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }
}

extension LiveServer {
    /// A session that neither keeps nor sends cookies: each request carries exactly the headers a test gives.
    static let cookieless: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return URLSession(configuration: configuration)
    }()

    /// A raw request: `token` nil sends no credentials; the answer's body is kept as bytes.
    func send(
        _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:], token: String?? = .none
    ) async throws -> (status: Int, data: Data, headers: [String: String]) {
        var request = URLRequest(url: try target(path))
        request.httpMethod = method
        let credential: String? = token ?? self.token
        if let credential { request.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await Self.cookieless.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return (http?.statusCode ?? 0, data, fields)
    }

    /// Text of a raw request's answer.
    func text(_ method: String, _ path: String, body: String? = nil, token: String?? = .none) async throws -> (status: Int, text: String) {
        let reply = try await send(method, path, body: body.map { Data($0.utf8) }, token: token)
        return (reply.status, String(decoding: reply.data, as: UTF8.self))
    }

    /// Creates a generic local repository.
    func createRepository(_ key: String, anonymousRead: Bool = false) async throws {
        let reply = try await request(
            "PUT", "/artifactory/api/repositories/\(key)", json: ["rclass": "local", "packageType": "generic", "anonymousRead": anonymousRead])
        guard reply.status == 200 else { throw CLIError("creating repository \(key): \(reply.status)") }
    }

    /// Deploys a worker from source, bound to `repos` (artifact actions), with properties and secrets.
    func deployWorker(
        key: String, action: String, source: String, repos: [String] = [], include: [String] = [], properties: [String: String] = [:],
        secrets: [String: String] = [:], platformAccess: Any? = nil
    ) async throws {
        var body: [String: Any] = [
            "key": key, "action": action, "sourceCode": source, "enabled": true,
            "properties": properties.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
            "secrets": secrets.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
        ]
        if !repos.isEmpty { body["filterCriteria"] = ["artifactFilterCriteria": ["repoKeys": repos, "includePatterns": include]] }
        if let platformAccess { body["platformAccess"] = platformAccess }
        let reply = try await request("POST", "/worker/api/v1/workers", json: body)
        guard reply.status == 201 || reply.status == 200 else {
            throw CLIError("deploying \(key): \(reply.status) \(String(describing: reply.body))")
        }
    }

    /// The recorded runs of a worker, newest first.
    func history(_ key: String) async throws -> [[String: Any]] {
        try await request("GET", "/worker/api/v1/execution_history?workerKey=\(key)&limit=100").body as? [[String: Any]] ?? []
    }

    /// Waits (up to 90 s: the whole test run shares 2 loaded cores in CI) until `condition` holds.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("timed out waiting for \(what)")
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking work (a process to wait for, a server to start) on a thread of its own: Swift Testing runs the
/// tests on the cooperative threads, two on two cores, and one blocked for seconds holds back every other test.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    // A thread of its own, not a dispatch queue's: those share the dispatch threads the cooperative ones come from.
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

func temporaryFolder(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
