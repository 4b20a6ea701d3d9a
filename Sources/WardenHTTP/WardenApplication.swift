import Hummingbird
import Logging
import ServiceLifecycle
import WardenCore

/// What the HTTP layer needs from the rest of the server.
public struct WardenServices: Sendable {
    public var workers: WorkerService
    /// Where an execute and a rerun run, as every event's runs do.
    public var events: EventDispatcher
    public var artifacts: ArtifactService
    public var runners: RunnerService
    /// Candor pipelines, when the server runs them (needs a runner transport).
    public var pipelines: PipelineService?
    public var dashboardUsers: DashboardUserService?
    /// The tenant dialect, when the server serves it.
    public var tenants: TenantService?
    public var authenticator: Authenticator
    public var tokens: TokenService
    /// The builds API, when the server keeps build info.
    public var builds: BuildService?
    public var health: any StorageHealth
    /// False while the script engine cannot run workers (readiness answers 503).
    public var engineReady: @Sendable () -> Bool
    /// What `GET /api/version` answers.
    public var build: BuildInfo
    /// The metrics' text at `/metrics` (none: no such route), and who may read it.
    public var metrics: (@Sendable () async -> String)?
    public var metricsAccess: MetricsAccess = .open

    public init(
        workers: WorkerService, events: EventDispatcher, artifacts: ArtifactService, runners: RunnerService, authenticator: Authenticator,
        tokens: TokenService,
        health: any StorageHealth,
        engineReady: @escaping @Sendable () -> Bool, pipelines: PipelineService? = nil, dashboardUsers: DashboardUserService? = nil,
        tenants: TenantService? = nil, builds: BuildService? = nil, build: BuildInfo = .unstamped
    ) {
        self.build = build
        self.builds = builds
        self.tenants = tenants
        self.dashboardUsers = dashboardUsers
        self.pipelines = pipelines
        self.workers = workers
        self.events = events
        self.artifacts = artifacts
        self.runners = runners
        self.authenticator = authenticator
        self.tokens = tokens
        self.health = health
        self.engineReady = engineReady
    }
}

/// The router with every dialect mounted; tests drive it with `app.test(.router)`.
public func buildRouter(_ services: WardenServices, accessLog: Logger = Logger(label: "warden.access")) -> Router<WardenRequestContext> {
    let router = Router(context: WardenRequestContext.self)
    // First: it wraps every route and the not-found answer.
    router.add(middleware: RequestLogMiddleware(logger: accessLog))
    WorkerAPI<WardenRequestContext>(
        service: services.workers, events: services.events, tokens: services.tokens,
        auth: RequestAuthenticator(authenticator: services.authenticator),
        health: services.health,
        engineReady: services.engineReady
    ).register(on: router)
    SystemAPI<WardenRequestContext>(
        build: services.build, auth: RequestAuthenticator(authenticator: services.authenticator), metrics: services.metrics,
        metricsAccess: services.metricsAccess
    ).register(on: router)
    AccessAPI<WardenRequestContext>(tokens: services.tokens, auth: RequestAuthenticator(authenticator: services.authenticator)).register(
        on: router)
    ArtifactAPI<WardenRequestContext>(
        service: services.artifacts, auth: RequestAuthenticator(authenticator: services.authenticator), builds: services.builds
    ).register(on: router)
    RunnersV4API<WardenRequestContext>(service: services.runners, auth: RequestAuthenticator(authenticator: services.authenticator)).register(
        on: router)
    AgentsAPI<WardenRequestContext>(service: services.runners, auth: RequestAuthenticator(authenticator: services.authenticator)).register(
        on: router)
    if let tenants = services.tenants {
        TenantAPI<WardenRequestContext>(
            runners: services.runners, service: tenants, auth: RequestAuthenticator(authenticator: services.authenticator)
        ).register(on: router)
    }
    if let pipelines = services.pipelines, let users = services.dashboardUsers {
        CandorAPI<WardenRequestContext>(
            service: pipelines, artifacts: services.artifacts, users: users, auth: RequestAuthenticator(authenticator: services.authenticator)
        ).register(on: router)
    }
    // Last: it wraps only the not-found answer (a middleware applies to the routes added after it).
    router.add(middleware: UnmatchedRouteMiddleware<WardenRequestContext>())
    return router
}

/// The HTTP server on `host:port`, as a service of the server's group; `platform`, when given, serves workers'
/// platformHttp calls through the same router.
public func httpService(
    _ services: WardenServices, platform: InProcessPlatform? = nil, host: String, port: Int, logger: Logger,
    connections: ConnectionLimits = ConnectionLimits(), onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> any Service {
    let router = buildRouter(services)
    platform?.attach(router)
    return Application(
        router: router, server: try connections.server(),
        configuration: connections.applicationConfiguration(host: host, port: port, serverName: "warden"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
}
