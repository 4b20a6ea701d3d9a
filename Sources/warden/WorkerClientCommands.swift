import ArgumentParser
import Foundation

/// `warden worker init <action> <name>`: a new worker folder from the server's action metadata.
struct WorkerInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write worker.ts, types.ts and manifest.json for a new worker.",
        discussion: "Example: warden worker init BEFORE_DOWNLOAD my-download-guard")

    @Argument(help: "The action, e.g. BEFORE_DOWNLOAD (see `warden worker list-event`).") var action: String
    @Argument(help: "The worker's key.") var name: String
    @Flag(help: "Overwrite existing files.") var force = false
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = try server.client()
        let metadata = try await client.expect([200], "GET", "worker/api/v2/actions").json as? [[String: Any]] ?? []
        guard
            let entry = metadata.first(where: { (($0["action"] as? [String: Any])?["name"] as? String) == action.uppercased() })
        else {
            throw ValidationError("action: '\(action)' is not one of the server's actions; see `warden worker list-event`")
        }
        let files = ["worker.ts", "types.ts", "manifest.json"]
        if !force, let existing = files.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw ValidationError("\(existing) exists already; use --force to overwrite")
        }
        let application = (entry["action"] as? [String: Any])?["application"] as? String ?? "artifactory"
        try (entry["sampleCode"] as? String ?? "").write(toFile: "worker.ts", atomically: true, encoding: .utf8)
        try (entry["typesDefinitions"] as? String ?? "").write(toFile: "types.ts", atomically: true, encoding: .utf8)
        var filter: Any?
        switch entry["filterType"] as? String {
        case "FILTER_REPO": filter = ["artifactFilterCriteria": ["repoKeys": ["example-repo-local"]]]
        case "SCHEDULE": filter = ["schedule": ["cron": "0 * * * *", "timezone": "UTC"]]
        default: filter = nil
        }
        let manifest = Manifest(
            name: name, description: "\(action.uppercased()) worker \(name)", sourceCodePath: "./worker.ts", action: action.uppercased(),
            enabled: false, debug: false, projectKey: "", secrets: [:], filterCriteria: filter.map(AnyJSON.init), application: application)
        try manifest.save()
        print("wrote worker.ts, types.ts and manifest.json for \(name) (\(action.uppercased()))")
    }
}

/// `warden worker dry-run [json|@file]`: the manifest's code run by the server's test endpoint.
struct WorkerDryRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run", abstract: "Run the worker of manifest.json on the server without deploying it.",
        discussion: "Example: warden worker dry-run @payload.json")

    @Argument(help: "The request data: JSON text or @file (default {}).") var payload: String = "{}"
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let (manifest, source) = try Manifest.load()
        let client = try server.client()
        let data = try readJSON(payload, argument: "payload")
        let staged = (manifest.secrets ?? [:]).sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
        let body: [String: Any] = ["code": source, "action": manifest.action, "data": data, "stagedSecrets": staged]
        var reply = try await client.send("POST", "worker/api/v1/test/\(manifest.name)", json: body, query: manifest.debug ? ["debug": "true"] : [:])
        if reply.status == 404 { reply = try await client.send("POST", "worker/api/v1/test", json: body) }
        guard reply.status == 200 else { throw ServerError(reply: reply) }
        Output.json(reply.json ?? [:])
        if reply.text.contains("STATUS_FAIL") { throw ExitCode.failure }
    }
}

/// `warden worker deploy`: creates or updates the worker of manifest.json.
struct WorkerDeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Create or update the worker described by manifest.json.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let (manifest, source) = try Manifest.load()
        let client = try server.client()
        let existing = try await client.send("GET", "worker/api/v1/workers/\(manifest.name)")
        guard existing.status == 200 || existing.status == 404 else { throw ServerError(reply: existing) }
        var secrets: [[String: Any]] = []
        if existing.status == 200 {
            // As the commercial CLI does: remove what is stored, then add what the manifest has.
            let stored = ((existing.json as? [String: Any])?["secrets"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
            secrets += stored.map { ["key": $0, "markedForRemoval": true] }
        }
        secrets += (manifest.secrets ?? [:]).sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
        var body: [String: Any] = [
            "key": manifest.name, "description": manifest.description, "enabled": manifest.enabled, "debug": manifest.debug, "sourceCode": source,
            "action": ["application": manifest.application ?? "artifactory", "name": manifest.action], "secrets": secrets,
        ]
        if let filter = manifest.filterCriteria?.value, !(filter is NSNull) { body["filterCriteria"] = filter }
        if let access = manifest.platformAccess?.value, !(access is NSNull) { body["platformAccess"] = access }
        if let project = manifest.projectKey, !project.isEmpty { body["projectKey"] = project }
        if existing.status == 404 {
            _ = try await client.expect([201], "POST", "worker/api/v2/workers", json: body)
            print("created worker \(manifest.name)")
        } else {
            _ = try await client.expect([204], "PUT", "worker/api/v2/workers", json: body)
            print("updated worker \(manifest.name)")
        }
    }
}

/// `warden worker list [action]`.
struct WorkerListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the workers on the server.")

    @Argument(help: "Only workers of this action.") var action: String?
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let reply = try await server.client().expect([200], "GET", "worker/api/v1/workers", query: action.map { ["action": $0] } ?? [:])
        let workers = (reply.json as? [String: Any])?["workers"] as? [[String: Any]] ?? []
        if server.format == .json { return Output.json(workers) }
        Output.table(
            ["KEY", "ACTION", "ENABLED", "DESCRIPTION"],
            workers.map {
                [$0["key"] as? String ?? "", $0["action"] as? String ?? "", "\($0["enabled"] as? Bool ?? false)", $0["description"] as? String ?? ""]
            })
    }
}

/// `warden worker list-event`.
struct WorkerListEventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-event", abstract: "List the actions workers can be bound to.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let names = try await server.client().expect([200], "GET", "worker/api/v1/system/actions").json as? [String] ?? []
        if server.format == .json { return Output.json(names) }
        names.forEach { print($0) }
    }
}

/// `warden worker execute [key] <json>`.
struct WorkerExecuteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execute", abstract: "Execute a GENERIC_EVENT worker.", discussion: "Example: warden worker execute my-worker '{\"a\": 1}'")

    @Argument(help: "The worker's key (default: the manifest's name) and the JSON data (text or @file).") var arguments: [String] = []
    @OptionGroup var server: ServerOptions

    func run() async throws {
        guard arguments.count <= 2 else { throw ValidationError("give at most a key and a JSON payload") }
        let key = arguments.count == 2 ? arguments[0] : try Manifest.load().0.name
        let data = try readJSON(arguments.last ?? "{}", argument: "payload")
        let reply = try await server.client().expect([200], "POST", "worker/api/v1/execute/\(key)", json: data)
        Output.json(reply.json ?? [:])
        if reply.text.contains("STATUS_FAIL") { throw ExitCode.failure }
    }
}

/// `warden worker undeploy [key]`.
struct WorkerUndeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undeploy", abstract: "Delete a worker from the server.")

    @Argument(help: "The worker's key (default: the manifest's name).") var key: String?
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let name = try key ?? Manifest.load().0.name
        _ = try await server.client().expect([204], "DELETE", "worker/api/v1/workers/\(name)")
        print("deleted worker \(name)")
    }
}

/// `warden worker execution-history [key] [--with-test-runs]`.
struct WorkerHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "execution-history", abstract: "Show a worker's recorded runs, newest first.")

    @Argument(help: "The worker's key (default: the manifest's name).") var key: String?
    @Flag(help: "Include test runs.") var withTestRuns = false
    @Option(help: "How many entries.") var limit: Int = 100
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let name = try key ?? Manifest.load().0.name
        let reply = try await server.client().expect(
            [200], "GET", "worker/api/v1/execution_history", query: ["workerKey": name, "showTestRun": "\(withTestRuns)", "limit": "\(limit)"])
        let entries = reply.json as? [[String: Any]] ?? []
        if server.format == .json { return Output.json(entries) }
        Output.table(
            ["START", "STATUS", "TRIGGERED BY", "TEST", "MS"],
            entries.map { entry in
                let start = Date(timeIntervalSince1970: Double(entry["startTimeMillis"] as? Int ?? 0) / 1000)
                let stats = (entry["executionResult"] as? [String: Any])?["workerStats"] as? [String: Any]
                return [
                    ISO8601DateFormatter().string(from: start), entry["executionStatus"] as? String ?? "", entry["triggeredBy"] as? String ?? "",
                    "\(entry["testRun"] as? Bool ?? false)", "\(stats?["executionDurationMillis"] as? Int ?? 0)",
                ]
            })
    }
}

/// `warden worker add-secret <name>`: adds a secret to manifest.json (value from --value or standard input).
struct WorkerAddSecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-secret", abstract: "Add a secret to manifest.json; `deploy` sends it.",
        discussion:
            "The value is read from standard input unless --value is given. manifest.json then holds it: keep that file out of version control.")

    @Argument(help: "The secret's name.") var name: String
    @Option(help: "The value (default: read from standard input).") var value: String?
    @Flag(help: "Replace an existing secret of that name.") var force = false

    func run() throws {
        var (manifest, _) = try Manifest.load()
        guard !name.isEmpty else { throw ValidationError("name: must not be empty") }
        if manifest.secrets?[name] != nil && !force { throw ValidationError("secret '\(name)' exists already; use --force to replace it") }
        let secret = value ?? readLine(strippingNewline: true) ?? ""
        guard !secret.isEmpty else { throw ValidationError("the secret's value is empty") }
        manifest.secrets = (manifest.secrets ?? [:]).merging([name: secret]) { _, new in new }
        try manifest.save()
        print("added secret \(name) to manifest.json")
    }
}

/// JSON text, or @path of a JSON file, parsed; errors name the argument.
func readJSON(_ text: String, argument: String) throws -> Any {
    var source = text
    if text.hasPrefix("@") {
        guard let contents = try? String(contentsOfFile: String(text.dropFirst()), encoding: .utf8) else {
            throw ValidationError("\(argument): cannot read '\(text.dropFirst())'")
        }
        source = contents
    }
    guard let value = try? JSONSerialization.jsonObject(with: Data(source.utf8), options: [.fragmentsAllowed]) else {
        throw ValidationError("\(argument): not valid JSON")
    }
    return value
}
