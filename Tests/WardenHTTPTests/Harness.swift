import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenServer
import WardenHTTP
import WardenStorage
import RunModel
import WorkerRuntime

/// A worker service on a fresh SQLite file with a token per kind of caller; one executor pool for all tests.
struct Harness {
    static let pool: ExecutorPool = try! pool(executors: 2, maxQueueWait: .seconds(120))

    struct RefusingHandler: HostCallHandler {
        func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse {
            throw WardenError(.forbidden, "no host calls in tests")
        }
    }

    static let admin = "admin-token"
    static let projectAdmin = "p1-admin-token"
    static let otherProjectAdmin = "p2-admin-token"
    static let user = "user-token"

    let storage: SQLiteStorage
    let service: WorkerService
    let events: EventDispatcher
    let artifacts: ArtifactService
    let pipelines: PipelineService
    let tenants: TenantService
    /// The run tokens (workers', runners') the authenticator knows.
    let workerTokens: WorkerTokens
    static let jwtSecret = "a-tenant-jwt-secret-for-the-tests-of-warden"
    /// What the router is built over (the OpenAPI test builds its own router to list the routes).
    let services: WardenServices
    let app: Application<RouterResponder<WardenRequestContext>>

    /// A pool of its own, for tests that need few executors or a short queue wait.
    static func pool(executors: Int, maxQueueWait: Duration) throws -> ExecutorPool {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let warden = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("warden").path
        return try ExecutorPool(
            configuration: .init(executorCommand: [warden, "executor"], executors: executors, maxQueueWait: maxQueueWait),
            handler: RefusingHandler())
    }

    init(settings: WorkerSettings = WorkerSettings(), failPolicy: FailPolicy = .open, pool: ExecutorPool = Harness.pool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        storage = try SQLiteStorage(path: folder.appendingPathComponent("db.sqlite").path)
        for (id, value, scope) in [
            ("admin", Self.admin, Principal.Scope.admin), ("pa1", Self.projectAdmin, .projectAdmin("p1")),
            ("pa2", Self.otherProjectAdmin, .projectAdmin("p2")),
            ("user", Self.user, .user),
        ] {
            try await storage.create(TokenRecord(id: id, name: id, hash: TokenRecord.hash(of: value), scope: scope, createdAt: 0))
        }
        // Built as `warden serve` builds it, on the shared pool; the pool refuses host calls.
        let server = try await WardenServer(
            storage: storage, vault: try SecretVault(masterKey: SecretVault.generateMasterKey()), runner: pool,
            platform: InProcessPlatform(logger: Logger(label: "warden.tests")),
            options: .init(
                workers: settings, failPolicy: failPolicy, asyncConcurrency: 2, blobsFolder: folder.appendingPathComponent("blobs").path,
                tenantAuth: TenantAuthSettings(hs256Secret: Self.jwtSecret, issuer: "warden-tests", audience: "warden"), stageTimeout: 30,
                // A test's runner shares two loaded cores with the whole test run: a second is too short to answer.
                runnerTransport: HTTPRunnerTransport(probeSeconds: 10)),
            engineReady: { true })
        service = server.workers
        events = server.dispatcher
        artifacts = server.artifacts
        pipelines = server.pipelines
        tenants = server.tenants
        workerTokens = server.workerTokens
        services = server.services
        // Access lines are the live servers' business (ObservabilityTests); here they would only fill the output.
        app = Application(router: buildRouter(server.services, accessLog: Logger(label: "warden.access", factory: { _ in SwiftLogNoOpLogHandler() })))
    }

    struct Reply {
        var status: HTTPResponse.Status
        var text: String
        var headers: HTTPFields
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        /// The worker service's error message, when the body is one.
        var error: String? { ((object["errors"] as? [[String: Any]])?.first?["message"]) as? String }
    }

    /// Sends requests through the router (no socket) and hands back each reply.
    func session(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        try await app.test(.router) { client in try await body(Client(client: client)) }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol

        @discardableResult
        func send(
            _ method: HTTPRequest.Method, _ uri: String, token: String? = Harness.admin, json: Any? = nil, raw: String? = nil,
            headers extra: [String: String] = [:]
        ) async throws -> Reply {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let token { headers[.authorization] = "Bearer \(token)" }
            for (name, value) in extra {
                guard let field = HTTPField.Name(name) else { throw WardenError(.badRequest, "'\(name)' is not a header name") }
                headers[field] = value
            }
            var body: ByteBuffer?
            if let json { body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])) }
            if let raw { body = ByteBuffer(string: raw) }
            return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                Reply(status: response.status, text: String(buffer: response.body), headers: response.headers)
            }
        }
    }

    /// Asks `probe` every `every` until it has an answer, for up to `limit` (a bound that only a hung server reaches:
    /// the whole suite runs in parallel on a loaded machine, so waits are long, and end as soon as the answer is there).
    static func eventually<T>(
        limit: Duration = .seconds(120), every: Duration = .milliseconds(50), _ probe: () async throws -> T?
    ) async throws -> T? {
        let deadline = ContinuousClock.now + limit
        while true {
            if let answer = try await probe() { return answer }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: every)
        }
    }

    /// The status of a pipeline's last run once it has ended ("Running" when it has not within the wait).
    static func endedRunStatus(_ client: Client, pipeline: Int) async throws -> String {
        try await eventually {
            let runs = try await client.send(.get, "/api/pipelines/\(pipeline)").object["runs"] as? [[String: Any]]
            return (runs?.last?["status"] as? String).flatMap { $0 == "Running" ? nil : $0 }
        } ?? "Running"
    }

    /// Creates (or replaces) a permission target through the security API, as an admin.
    static func grant(
        _ client: Client, name: String, repositories: [String], include: [String] = ["**"], users: [String: [String]] = [:],
        groups: [String: [String]] = [:]
    ) async throws {
        let body: [String: Any] = [
            "name": name,
            "repo": ["repositories": repositories, "include-patterns": include, "actions": ["users": users, "groups": groups]],
        ]
        let reply = try await client.send(.put, "/artifactory/api/v2/security/permissions/\(name)", json: body)
        #expect(reply.status == .created || reply.status == .ok, "\(reply.text)")
    }

    static let generic = "export default async (context, data) => ({ seen: context.secrets.get('token') ?? null, echo: data });"

    static func genericWorker(_ key: String, project: String? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = ["key": key, "action": "GENERIC_EVENT", "sourceCode": generic, "enabled": true]
        if let project { body["projectKey"] = project }
        body.merge(extra) { _, new in new }
        return body
    }
}
