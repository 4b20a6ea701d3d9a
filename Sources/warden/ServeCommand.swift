import ArgumentParser
import Configuration
import Foundation
import Logging
import ServiceLifecycle
import WardenCore
import WardenServer
import WardenHTTP
import WardenStorage
import JavaScriptSandbox
import RunModel
import WorkerRuntime

/// `warden serve`: the worker service on SQLite, or on PostgreSQL for several servers over one database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the worker API.",
        discussion: """
            Example:
              warden serve --host 127.0.0.1 --port 8080 --data ./data

            Every setting is read from, highest first: flags, environment variables, a JSON file (--config, WARDEN_CONFIG,
            else <data>/warden.json when it exists). Keys: warden.host (WARDEN_HOST), warden.port, warden.data,
            warden.databaseUrl, warden.database.maxConnections (PostgreSQL), warden.blobs (WARDEN_BLOBS, default <data>/blobs),
            warden.events.leaseSeconds (how long a claimed asynchronous run is held, default 30), warden.executors, warden.allowHosts (comma-separated; name, *.suffix, each with :port or :*),
            warden.egress.privateHosts (allowed hosts that may resolve to internal addresses), warden.http.maxConnections,
            warden.http.idleTimeoutSeconds, warden.limits.cpuMillis,
            warden.limits.wallMillis, warden.limits.memoryMegabytes, warden.limits.maxOutputBytes, warden.limits.maxLogBytes,
            warden.limits.maxQueueWaitSeconds, warden.history.perWorker, warden.history.recordSuccess, warden.failPolicy
            (open|closed), warden.tls.certificate and warden.tls.key (--tls-cert, --tls-key: HTTPS), warden.log.level and
            warden.log.format (--log-level, --log-format), warden.metrics.access (open|token; default open on loopback), warden.adminToken, warden.masterKey (base64, 32 bytes) or warden.masterKeyFile (a file of 32 bytes),
            and for the tenant dialect's admin JWTs
            warden.tenant.auth.secret (HS256), warden.tenant.auth.publicKeyFile (RS256, PEM), warden.tenant.auth.issuer,
            warden.tenant.auth.audience, warden.tenant.auth.realm (each default "warden"). In the file they nest:
            {"warden": {"limits": {"cpuMillis": 500}}}; in the environment: WARDEN_LIMITS_CPU_MILLIS=500.
            On first start an admin token is generated, stored hashed and written to <data>/admin.token (mode 0600), which
            the log names; warden.adminToken (WARDEN_ADMIN_TOKEN) sets it instead.
            """)

    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (default 8080).") var port: Int?
    @Option(help: "Data folder (default ./data).") var data: String?
    @Option(
        help:
            "Database: sqlite:///path/warden.sqlite (or a file path), or postgres://USER:PASSWORD@HOST:PORT/DATABASE (default <data>/warden.sqlite)."
    )
    var databaseURL: String?
    @Option(help: "Folder of the stored files (default <data>/blobs); every server of one database must share it.") var blobs: String?
    @Option(help: "Executor processes (default: the number of cores).") var executors: Int?
    @Option(help: "Comma-separated hosts workers may reach with context.clients.axios (*.suffix, :port and :* allowed).")
    var allowHosts: String?
    @Option(help: "A JSON configuration file (default: WARDEN_CONFIG, else <data>/warden.json when it exists).") var config: String?
    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate chain (with --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "The lowest level logged: trace, debug, info (default), notice, warning, error or critical.") var logLevel: String?
    @Option(help: "The log's form on standard output: text (default) or json, one object per line.") var logFormat: String?

    /// Flags, then the environment, then the configuration file.
    func configuration() async throws -> ServerConfiguration {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        func put(_ key: String, _ value: String?) {
            if let value { flags[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: false) }
        }
        put("warden.host", host)
        put("warden.port", port.map(String.init))
        put("warden.data", data)
        put("warden.databaseUrl", databaseURL)
        put("warden.blobs", blobs)
        put("warden.executors", executors.map(String.init))
        put("warden.allowHosts", allowHosts)
        put("warden.tls.certificate", tlsCert)
        put("warden.tls.key", tlsKey)
        put("warden.log.level", logLevel)
        put("warden.log.format", logFormat)
        let environment = EnvironmentVariablesProvider()
        var providers: [any ConfigProvider] = [InMemoryProvider(name: "flags", values: flags), environment]
        let early = ConfigReader(providers: providers)
        let folder = data ?? early.string(forKey: "warden.data") ?? "./data"
        let file = config ?? early.string(forKey: "warden.config")
        let defaultFile = (folder as NSString).appendingPathComponent("warden.json")
        if let path = file ?? (FileManager.default.fileExists(atPath: defaultFile) ? defaultFile : nil) {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--config: no file at \(path)") }
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(path)))
            } catch {
                throw ValidationError("--config: \(path) is not a JSON configuration file (\(error))")
            }
            try ServerConfiguration.checkKeys(ofFile: path)
        }
        return try ServerConfiguration(reader: ConfigReader(providers: providers))
    }

    func run() async throws {
        let settings = try await configuration()
        let host = settings.host
        let port = settings.port
        let dataFolder = settings.dataFolder
        LogOutput.bootstrap(level: settings.logLevel, format: settings.logFormat)
        let metrics = ServerMetrics.bootstrap()
        let logger = Logger(label: "warden")
        try Self.prepareDataFolder(dataFolder)
        // One server per data folder; a restore into it is refused while it runs.
        let lock = try ServerLock.acquire(dataFolder: dataFolder)
        defer { lock.release() }
        let database = try await Self.openDatabase(
            settings.databaseURL, maximumConnections: settings.databaseConnections, dataFolder: dataFolder, logger: logger)
        let storage = database.stores
        let vault = try SecretVault(masterKey: try Self.masterKey(dataFolder: dataFolder, given: settings.masterKey, file: settings.masterKeyFile))
        do {
            try await vault.checkKey(against: storage)
        } catch let error as WardenError {
            throw CommandFailure(error.message)
        }
        if let path = try await Self.ensureAdminToken(storage: storage, dataFolder: dataFolder, given: settings.adminToken) {
            // Its value stays out of the log (logs are kept and shipped): it is in the file, for its owner only.
            logger.notice("first start: an admin token was made; it is in \(path) (mode 0600)")
        }
        // Workers' axios and remote repositories' upstreams reach the same hosts.
        let egress = EgressPolicy(allowedHosts: settings.allowHosts, privateHosts: settings.privateHosts)
        let platform = InProcessPlatform(logger: logger)
        var poolConfiguration = ExecutorPool.Configuration(
            executorCommand: [SelfExecutable.path, "executor"], executors: settings.executors, maxQueueWait: .seconds(settings.maxQueueWaitSeconds))
        let poolLog = PoolEventLog(logger: Logger(label: "warden.executors"))
        poolConfiguration.observer = { poolLog.observe($0) }
        let pool = try ExecutorPool(
            configuration: poolConfiguration,
            handler: ServerHostCallHandler(
                outbound: OutboundHTTP(egress: egress),
                platform: platform))
        defer { pool.shutdown() }
        let server: WardenServer
        do {
            server = try await WardenServer(
                storage: storage, vault: vault, runner: pool, platform: platform,
                options: .init(
                    workers: settings.workerSettings(
                        baseURL: WardenServer.url(host: host, port: port, scheme: settings.connections.scheme)),
                    failPolicy: FailPolicy(rawValue: settings.failPolicy) ?? .open,
                    blobsFolder: settings.blobsFolder ?? (dataFolder as NSString).appendingPathComponent("blobs"), tenantAuth: settings.tenantAuth,
                    replicaID: database.isShared ? try Self.replicaID(dataFolder: dataFolder) : nil,
                    runLease: .seconds(settings.runLeaseSeconds),
                    upstream: UpstreamHTTP(egress: egress),
                    logger: logger, build: .this, metrics: { metrics.emitToString() }, metricsAccess: settings.effectiveMetricsAccess),
                engineReady: { ScriptEngine.isSupported && pool.isReady })
        } catch let error as WardenError {
            // The tenant dialect's authentication settings (a key that does not parse).
            throw ValidationError(error.message)
        }
        try await server.recover()
        let group = try server.serviceGroup(runtime: ExecutorPoolService(pool: pool), host: host, port: port, connections: settings.connections) {
            bound in
            let url = "\(settings.connections.scheme)://\(host):\(bound)"
            logger.notice(
                "serving the worker API on \(url)", metadata: ["data": .string(dataFolder), "version": .string(BuildInfo.this.version)])
        }
        do {
            try await group.run()
        } catch  where HumanError.isAddressInUse(error) {
            await database.close()
            throw CommandFailure("cannot listen on \(host):\(port): another process uses that address; choose another port with --port")
        }
        await database.close()
    }

    /// Makes the data folder (0700) when missing, and checks this process may write in it; refuses naming the path
    /// and the reason.
    static func prepareDataFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure("--data: cannot use '\(path)' as the data folder: \(HumanError.reason(error as NSError))")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw CommandFailure("--data: cannot use '\(path)' as the data folder: \(String(cString: strerror(errno)))")
        }
    }

    /// The server's database (`--database-url`, default `<data>/warden.sqlite`); what is wrong with it stops the
    /// server with a message naming the part (scheme, host, port, user or password, database).
    static func openDatabase(_ text: String?, maximumConnections: Int = 20, dataFolder: String, logger: Logger) async throws -> OpenDatabase {
        do {
            return try await OpenDatabase.open(
                try DatabaseURL.resolve(text, dataFolder: dataFolder), maximumConnections: maximumConnections, logger: logger)
        } catch let error as WardenError {
            throw CommandFailure("--database-url: \(error.message)")
        }
    }

    /// This server's name among those sharing a database and a blob folder: kept in `<data>/replica.id`, made on
    /// first start.
    static func replicaID(dataFolder: String) throws -> String {
        let path = (dataFolder as NSString).appendingPathComponent("replica.id")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            !existing.isEmpty, existing.allSatisfy({ $0.isHexDigit || $0 == "-" })
        {
            return existing
        }
        let id = UUID().uuidString.lowercased()
        try writePrivate(Data((id + "\n").utf8), to: path)
        return id
    }

    /// The 32-byte master key: from WARDEN_MASTER_KEY, else the file of warden.masterKeyFile, else
    /// <data>/master.key, created (0600) on first start.
    static func masterKey(dataFolder: String, given: String?, file: String? = nil) throws -> Data {
        if let encoded = given {
            guard let key = Data(base64Encoded: encoded), key.count == 32 else {
                throw ValidationError("WARDEN_MASTER_KEY must be the base64 of 32 bytes")
            }
            return key
        }
        if let file {
            guard let key = FileManager.default.contents(atPath: file) else {
                throw ValidationError("warden.masterKeyFile: cannot read '\(file)'")
            }
            guard key.count == 32 else { throw ValidationError("warden.masterKeyFile: '\(file)' must hold 32 bytes, it holds \(key.count)") }
            return key
        }
        let path = (dataFolder as NSString).appendingPathComponent("master.key")
        if let existing = FileManager.default.contents(atPath: path) {
            guard existing.count == 32 else { throw ValidationError("\(path) must hold 32 bytes, it holds \(existing.count)") }
            return existing
        }
        let key = SecretVault.generateMasterKey()
        try writePrivate(key, to: path)
        return key
    }

    /// Makes sure an admin token exists; returns the file its value was written to when one was generated now. Several servers starting
    /// together on one database may race here: a create that fails because another server made the token is fine.
    static func ensureAdminToken(storage: any Stores, dataFolder: String, given: String?) async throws -> String? {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if let given, !given.isEmpty {
            let hash = TokenRecord.hash(of: given)
            if try await storage.token(hash: hash) == nil {
                _ = try await storage.revoke(id: "admin")
                do {
                    try await storage.create(TokenRecord(id: "admin", name: "admin", hash: hash, scope: .admin, createdAt: now))
                } catch {
                    guard try await storage.token(hash: hash) != nil else { throw error }
                }
            }
            return nil
        }
        func adminExists() async throws -> Bool { try await (storage as any TokenStore).all().contains { $0.id == "admin" } }
        if try await adminExists() { return nil }
        let value = TokenRecord.generateValue()
        do {
            try await storage.create(TokenRecord(id: "admin", name: "admin", hash: TokenRecord.hash(of: value), scope: .admin, createdAt: now))
        } catch {
            // Another server made it a moment ago: its value is in its data folder.
            guard try await adminExists() else { throw error }
            return nil
        }
        let path = (dataFolder as NSString).appendingPathComponent("admin.token")
        try writePrivate(Data((value + "\n").utf8), to: path)
        return path
    }

    static func writePrivate(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot create \(path)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
    }
}

/// A failure of a server-side helper (outbound HTTP, the benchmark), told as a sentence.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Host calls of workers run by the server: `platformHttp` goes through the server's own router in process, as the
/// worker; `axios` goes out to the hosts of the egress allow-list.
struct ServerHostCallHandler: HostCallHandler {
    var outbound: OutboundHTTP
    var platform: InProcessPlatform

    func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse {
        switch call.kind {
        case .platformHttp: return try await platform.perform(call, token: origin.platformToken)
        case .axios: return try await outbound.perform(call)
        }
    }
}

/// The executor pool in the server's service group: it lives until the group shuts down, after every service that
/// runs workers has stopped.
struct ExecutorPoolService: Service {
    let pool: ExecutorPool

    func run() async throws {
        // Cancelled rather than shut down gracefully: the executors go at once all the same.
        try? await gracefulShutdown()
        pool.shutdown()
    }
}
