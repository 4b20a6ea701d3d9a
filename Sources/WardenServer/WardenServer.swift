import Foundation
import Logging
import ServiceLifecycle
import WardenCore
import WardenHTTP
import WardenStorage
import WorkerRuntime

/// The server's object graph, built in one place: `warden serve` (and the benchmark, which starts it) and the tests'
/// harness start from here, so that what the tests drive is what is served.
public struct WardenServer: Sendable {
    /// What differs between a served instance and a test's.
    public struct Options: Sendable {
        public var workers: WorkerSettings
        public var failPolicy: FailPolicy
        /// Asynchronous (AFTER_*) runs at once; `nil`: half the executors, at least one.
        public var asyncConcurrency: Int?
        /// Where the content-addressed blobs live.
        public var blobsFolder: String
        /// This server among several sharing a database and a blob folder (PostgreSQL; `nil` when alone): its folder
        /// under `<blobs>/tmp` for uploads under way, and the driver of the CI runs it starts. Beside other servers,
        /// a server's start leaves their claimed runs and their uploads in progress alone.
        public var replicaID: String?
        /// How long a claimed asynchronous run is held before another server may take it.
        public var runLease: Duration
        public var tenantAuth: TenantAuthSettings
        /// Seconds a CI stage may run on a runner.
        public var stageTimeout: Double
        public var runnerTransport: any RunnerTransport
        /// How remote repositories fetch from their upstreams (held to the egress allow-list); none by default.
        public var upstream: (any UpstreamClient)?
        public var logger: Logger
        /// What `GET /api/version` answers.
        public var build: BuildInfo
        /// The metrics backend's text (Prometheus's form): with it the server serves `/metrics`, its figures read
        /// at each scrape first; `metricsAccess` says who may read it.
        public var metrics: (@Sendable () -> String)?
        public var metricsAccess: MetricsAccess = .open

        public init(
            workers: WorkerSettings = WorkerSettings(), failPolicy: FailPolicy = .open, asyncConcurrency: Int? = nil, blobsFolder: String,
            tenantAuth: TenantAuthSettings = TenantAuthSettings(), stageTimeout: Double = 600,
            runnerTransport: any RunnerTransport = HTTPRunnerTransport(), replicaID: String? = nil,
            runLease: Duration = .seconds(30), upstream: (any UpstreamClient)? = nil, logger: Logger = Logger(label: "warden"),
            build: BuildInfo = .unstamped, metrics: (@Sendable () -> String)? = nil, metricsAccess: MetricsAccess = .open
        ) {
            self.build = build
            self.metrics = metrics
            self.metricsAccess = metricsAccess
            self.upstream = upstream
            self.replicaID = replicaID
            self.runLease = runLease
            self.workers = workers
            self.failPolicy = failPolicy
            self.asyncConcurrency = asyncConcurrency
            self.blobsFolder = blobsFolder
            self.tenantAuth = tenantAuth
            self.stageTimeout = stageTimeout
            self.runnerTransport = runnerTransport
            self.logger = logger
        }
    }

    public let storage: any Stores
    /// The URL every service puts in what it hands out; updated once the port is bound.
    public let address: ServerAddress
    /// Workers' platformHttp calls, answered by this server's own router.
    public let platform: InProcessPlatform
    /// Tokens of runs (workers' and runners'), known to the authenticator.
    public let workerTokens: WorkerTokens
    public let workers: WorkerService
    public let dispatcher: EventDispatcher
    public let scheduler: WorkerScheduler
    public let permissions: PermissionService
    public let artifacts: ArtifactService
    public let builds: BuildService
    public let runners: RunnerService
    public let dashboardUsers: DashboardUserService
    public let pipelines: PipelineService
    public let tenants: TenantService
    /// CI runs' executions and autohold timers: ended when the server stops.
    public let background: BackgroundTasks
    /// What the HTTP dialects are built over.
    public let services: WardenServices
    /// What this server keeps in memory of another server's changes; the router makes each forget them.
    let changeRouter: StoreChangeRouter?
    let logger: Logger
    let sharedDatabase: Bool

    /// `runner` runs the workers; `platform` is the one its host calls are answered by (this server's router is
    /// attached to it when the HTTP service is made); `engineReady` answers the readiness probe.
    public init(
        storage: any Stores, vault: SecretVault, runner: any ScriptRunner, platform: InProcessPlatform, options: Options,
        engineReady: @escaping @Sendable () -> Bool
    ) async throws {
        let logger = options.logger
        self.logger = logger
        sharedDatabase = options.replicaID != nil
        self.storage = storage
        // The platform's service id (in userContext.id): made by the first server on the database, kept by all.
        let serviceID = try await storage.setting("service-id", ifAbsent: Data(RandomID.serviceID().utf8))
        address = ServerAddress(options.workers.baseURL, serviceID: String(decoding: serviceID, as: UTF8.self))
        self.platform = platform
        workerTokens = WorkerTokens()
        workers = WorkerService(
            workers: storage, history: storage, states: storage, vault: vault, runner: runner, settings: options.workers,
            workerTokens: workerTokens, address: address, logger: logger)
        dispatcher = EventDispatcher(
            service: workers, queue: storage, failPolicy: options.failPolicy,
            asyncConcurrency: options.asyncConcurrency ?? max(1, options.workers.executors / 2), lease: options.runLease, logger: logger)
        scheduler = WorkerScheduler(workers: storage, claims: storage, events: dispatcher, logger: logger)
        // Verified tokens from memory: what this server makes or revokes is seen at once, what another process
        // changes in the database within a second.
        let tokens = CachedTokenStore(storage)
        permissions = PermissionService(store: storage, tokens: tokens, dashboardUsers: storage)
        // Items from memory too: a download of a known file costs no storage read.
        let items = CachedArtifactStore(storage)
        artifacts = ArtifactService(
            store: items, blobs: try FileBlobStore(root: options.blobsFolder, staging: options.replicaID), events: dispatcher,
            permissions: permissions,
            address: address, upstream: options.upstream,
            logger: logger)
        builds = BuildService(store: storage, permissions: permissions, events: dispatcher, address: address, artifacts: artifacts, logger: logger)
        runners = RunnerService(store: storage, vault: vault)
        // Dashboard sessions from memory, as tokens.
        let sessions = CachedDashboardUserStore(storage)
        dashboardUsers = DashboardUserService(store: sessions, permissions: permissions)
        background = BackgroundTasks(logger: logger)
        pipelines = PipelineService(
            store: storage, runners: runners, artifacts: artifacts, transport: options.runnerTransport, uploadTokens: workerTokens,
            address: address, stageTimeout: options.stageTimeout, users: dashboardUsers, tenants: storage, background: background,
            driver: options.replicaID, builds: builds, logger: logger)
        tenants = TenantService(
            store: storage, runners: runners, pipelines: pipelines, vault: vault,
            auth: try await TenantAuthenticator(settings: options.tenantAuth, wardenTokens: Authenticator(tokens: tokens)))
        var services = WardenServices(
            workers: workers, events: dispatcher, artifacts: artifacts, runners: runners,
            authenticator: Authenticator(tokens: tokens, workerTokens: workerTokens),
            tokens: TokenService(tokens: tokens, permissions: permissions, events: dispatcher, address: address), health: storage,
            engineReady: engineReady, pipelines: pipelines,
            dashboardUsers: dashboardUsers, tenants: tenants, builds: builds, build: options.build)
        if let export = options.metrics {
            let gauges = ServerGauges(workers: workers, dispatcher: dispatcher, pool: runner as? ExecutorPool, logger: logger)
            services.metrics = {
                await gauges.refresh()
                return export()
            }
            services.metricsAccess = options.metricsAccess
        }
        self.services = services
        // Several servers over one database: each forgets what the others change.
        changeRouter = (storage as? any StoreChangeFeed).map { [workers, artifacts, permissions, dispatcher] feed in
            StoreChangeRouter(
                feed: feed,
                forgetters: [
                    workers.forget, tokens.forget, items.forget, sessions.forget, permissions.forget, artifacts.forget, dispatcher.forget,
                ])
        }
    }

    /// Before serving: removes the blobs an interrupted upload left (beside other servers too: each under its lock),
    /// restarts the autohold timers, and ends the CI runs a previous process left running (beside other servers,
    /// those it followed); alone on its database, it also ends the leases of the asynchronous runs
    /// its previous process held, so that they run now. Each finding is logged.
    public func recover() async throws {
        if !sharedDatabase {
            try await storage.releaseLeases()
        }
        let orphans = try await artifacts.removeUnreferencedBlobs()
        if orphans > 0 { logger.warning("removed \(orphans) stored blob(s) no artifact refers to (left by an interrupted upload)") }
        for problem in await tenants.resumeHoldExpiries() { logger.warning("\(problem)") }
        // Beside other servers, only the runs this one followed before it stopped (the others' are theirs).
        let abandoned = try await pipelines.abandonRunsOfAPreviousProcess()
        if abandoned > 0 { logger.warning("\(abandoned) CI run(s) of a previous server process ended as Error") }
    }

    /// The HTTP server on `host:port` and every long-lived service in one group. On SIGTERM or SIGINT they stop in
    /// reverse order: the HTTP server first (in-flight requests end), then the scheduler (a tick under way ends),
    /// then the asynchronous runs (those in flight end and are recorded), then the background tasks (CI runs in
    /// flight are recorded as stopped, autohold timers end), then `runtime` (the executors), and last the writers of
    /// history entries and download statistics, which write what is still queued.
    /// `onBound` is told the port once the server listens; `address` follows it first.
    public func serviceGroup(
        runtime: any Service, host: String, port: Int, connections: ConnectionLimits = ConnectionLimits(),
        onBound: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        let address = self.address
        let scheme = connections.scheme
        let http = try httpService(services, platform: platform, host: host, port: port, logger: logger, connections: connections) { bound in
            address.update(Self.url(host: host, port: bound, scheme: scheme))
            await onBound(bound)
        }
        // Stopped from the last: the writers behind the answers go after everything that may still queue for them.
        var services: [any Service] = [artifacts.downloads, workers.historyWriter, runtime, background, dispatcher, scheduler]
        if let changeRouter { services.append(changeRouter) }
        services.append(http)
        return ServiceGroup(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    }

    /// The URL clients and workers reach a server listening on `host` at: loopback for a wildcard address.
    public static func url(host: String, port: Int, scheme: String = "http") -> String {
        "\(scheme)://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
    }
}
