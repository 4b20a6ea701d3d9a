import ArgumentParser
import Foundation
import Logging
import WardenCore
import WardenHTTP

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `warden runner`: a Candor-style runner. It registers with a Warden server through the runners API v4 (with a
/// registration token), keeps itself online with `verify`, and serves `GET /`, `POST /run`, `GET|POST /logs/:runId`.
struct RunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Run a CI runner that registers with a Warden server and runs pipeline stages.",
        discussion: """
            Example:
              warden runner --server http://127.0.0.1:8080 --registration-token GR1348941... --tags linux --port 9090

            Stages run in a fresh work folder per run, with podman or docker when one works on this machine, else with
            /bin/sh. Each stage has --stage-timeout seconds. Archived files are uploaded to the pipeline's artifact
            repository, which fires AFTER_CREATE workers.
            """)

    @Option(help: "The Warden server's URL.") var server: String
    @Option(
        help: "A registration token (instance, group or project); not needed when the work folder holds this runner's token from an earlier start.")
    var registrationToken: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 9090
    @Option(help: "The URL the server reaches this runner at (default http://<host>:<port>).") var url: String?
    @Option(help: "Comma-separated tags.") var tags = ""
    @Option(help: "Description shown in the runner lists.") var description = "warden runner"
    @Option(help: "Work folder (runs and logs).") var work = "./runner-work"
    @Option(help: "Seconds a stage may run.") var stageTimeout = 600.0
    @Flag(help: "Run jobs without tags too.") var runUntagged = false
    @Option(help: "Seconds to keep trying while the server cannot be reached at start.") var connectTimeout = 60.0

    func validate() throws {
        guard URL(string: server)?.scheme?.hasPrefix("http") == true else { throw ValidationError("--server: '\(server)' is not an http(s) URL") }
        guard stageTimeout > 0 else { throw ValidationError("--stage-timeout: must be more than 0 seconds") }
        if registrationToken == nil, Self.savedToken(work: work, server: Self.trimmed(server)) == nil {
            throw ValidationError("--registration-token: required, since \(work) holds no token of a runner registered with \(server)")
        }
    }

    static func trimmed(_ server: String) -> String { server.hasSuffix("/") ? String(server.dropLast()) : server }

    /// Where the runner keeps its authentication token between starts (mode 0600), so that it stays one runner.
    static func statePath(work: String) -> String { (work as NSString).appendingPathComponent("runner.json") }

    static func savedToken(work: String, server: String) -> String? {
        guard let data = FileManager.default.contents(atPath: statePath(work: work)),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: String], object["server"] == server
        else { return nil }
        return object["token"]
    }

    static func save(token: String, server: String, work: String) throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: ["server": server, "token": token])
        guard FileManager.default.createFile(atPath: statePath(work: work), contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure("cannot write \(statePath(work: work))")
        }
    }

    func run() async throws {
        var logger = Logger(label: "warden-runner")
        logger.logLevel = .info
        let control = TokenRecord.generateValue()
        let runner = try StageRunner(workFolder: work, stageTimeout: stageTimeout, engine: StageRunner.detectEngine())
        let server = Self.trimmed(self.server)
        let registration = Registration()
        let app = buildRunnerApplication(runner: runner, token: control, host: host, port: port, logger: logger) { bound in
            let address = url ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(bound)"
            do {
                // The token of an earlier start: the same runner, now at this address with this control token.
                if let saved = Self.savedToken(work: work, server: server) {
                    let (status, data) = try await send(
                        server + "/api/v4/runners/verify", ["token": saved, "url": address, "control_token": control])
                    if status == 200 {
                        await registration.set(saved)
                        FileHandle.standardOutput.write(Data("warden runner: registered with \(server) before, listening on \(address)\n".utf8))
                        return
                    }
                    guard status == 403 else { throw CommandFailure("verify answered \(status): \(String(decoding: data, as: UTF8.self))") }
                }
                guard registrationToken != nil else {
                    throw CommandFailure("the server refused the saved runner token (the runner was deleted?); give --registration-token")
                }
                let token = try await register(server: server, address: address, control: control)
                try Self.save(token: token, server: server, work: work)
                await registration.set(token)
                FileHandle.standardOutput.write(Data("warden runner: registered with \(server), listening on \(address)\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("warden runner: registration failed: \(error)\n".utf8))
                Foundation.exit(1)
            }
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(60))
                if let token = await registration.token { _ = try? await post(server + "/api/v4/runners/verify", ["token": token]) }
            }
        }
        defer { heartbeat.cancel() }
        try await app.runService()
    }

    actor Registration {
        var token: String?
        func set(_ token: String) { self.token = token }
    }

    func register(server: String, address: String, control: String) async throws -> String {
        var info: [String: Any] = ["name": "warden-runner", "platform": "linux"]
        #if arch(x86_64)
            info["architecture"] = "amd64"
        #elseif arch(arm64)
            info["architecture"] = "arm64"
        #endif
        let body: [String: Any] = [
            "token": registrationToken ?? "", "description": description, "tag_list": tags, "run_untagged": runUntagged, "url": address,
            "control_token": control, "info": info,
        ]
        let data = try await post(server + "/api/v4/runners", body)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let token = object["token"] as? String else {
            throw CommandFailure("the server's answer to the registration has no token")
        }
        _ = try await post(server + "/api/v4/runners/verify", ["token": token])
        return token
    }

    /// POSTs JSON; while the server cannot be reached (it may be starting too) it tries again every 2 s for
    /// `--connect-timeout` seconds. The status and the body.
    func send(_ url: String, _ body: [String: Any]) async throws -> (Int, Data) {
        guard let target = URL(string: url) else { throw ValidationError("--server: '\(url)' does not make a URL") }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let deadline = Date().addingTimeInterval(connectTimeout)
        while true {
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            } catch {
                guard Date() < deadline else { throw CommandFailure("\(url) cannot be reached: \(error.localizedDescription)") }
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    @discardableResult
    func post(_ url: String, _ body: [String: Any]) async throws -> Data {
        let (status, data) = try await send(url, body)
        guard (200..<300).contains(status) else { throw CommandFailure("\(url) answered \(status): \(String(decoding: data, as: UTF8.self))") }
        return data
    }
}
