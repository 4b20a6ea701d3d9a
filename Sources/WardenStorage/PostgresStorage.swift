import Foundation
import Logging
import NIOSSL
import PostgresNIO
import RunModel
import Synchronization
import WardenCore

/// Warden's data in a PostgreSQL database (postgres-nio's pooled client), for several servers over one database.
/// Implements every store protocol the SQLite store does, checked by the same contract tests. Each method is one
/// statement or one transaction; what SQLite gets from its single writer (a read-then-write that nothing else
/// interleaves) is taken here with row locks (`FOR UPDATE`), conflict clauses and transaction-scoped advisory locks
/// (one per repository for its tree and quota, one per blob for its file). A database that does not answer within
/// `waitLimit` makes the call fail as `unavailable` (a 503), never wait without end.
public final class PostgresStorage: Sendable {
    let client: PostgresClient
    let running: Task<Void, Never>
    let logger: Logger
    public let location: DatabaseURL.PostgresLocation
    let waitLimit: Duration
    /// This server among those sharing the database: the changes it tells the others carry it.
    let instance = RandomID.uuid()
    /// Per worker, below which history sequence this server has pruned already (`prune` starts there).
    let prunedBelow = Mutex<[String: Int64]>([:])
    /// The listeners of other servers' changes, ended at shutdown.
    let listeners = Mutex<[Task<Void, Never>]>([])

    init(client: PostgresClient, running: Task<Void, Never>, location: DatabaseURL.PostgresLocation, waitLimit: Duration, logger: Logger) {
        self.client = client
        self.running = running
        self.location = location
        self.waitLimit = waitLimit
        self.logger = logger
    }

    /// Connects, checks the server answers this user and database, and brings the schema up to date (once, even
    /// when several servers start together). Fails with a message naming the part that is wrong (host, port,
    /// user or password, database), never with the password.
    public static func connect(
        _ location: DatabaseURL.PostgresLocation, maximumConnections: Int = 20, waitLimit: Duration = .seconds(10),
        logger: Logger = Logger(label: "warden.postgres")
    ) async throws -> PostgresStorage {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
            tls: try tlsMode(location.tls))
        configuration.options.maximumConnections = max(1, maximumConnections)
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Task { await client.run() }
        let storage = PostgresStorage(client: client, running: running, location: location, waitLimit: waitLimit, logger: logger)
        do {
            try await storage.firstContact()
            try await storage.migrate()
        } catch {
            await storage.shutdown()
            throw error
        }
        return storage
    }

    static func tlsMode(_ mode: DatabaseURL.PostgresLocation.TLSMode) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }

    /// Closes every connection; calls made after fail.
    public func shutdown() async {
        let listening = listeners.withLock { $0 }
        for task in listening { task.cancel() }
        for task in listening { await task.value }
        running.cancel()
        await running.value
    }

    /// One connection of its own (the pool would retry a refused one without end), for a message that says what
    /// is wrong with the URL.
    func firstContact() async throws {
        let configuration = try connectionConfiguration()
        let quiet = Logger(label: "warden.postgres.first-contact", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            try? await connection.close()
        } catch let error as PSQLError {
            throw WardenError(.unavailable, Self.explain(error, at: location))
        } catch {
            throw WardenError(.unavailable, "cannot reach a PostgreSQL server at \(location.host):\(location.port): \(error)")
        }
    }

    /// A connection of its own (not the pool's) to the server: the first contact, the change feed's listener.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
            tls: try Self.connectionTLS(location.tls))
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    static func connectionTLS(_ mode: DatabaseURL.PostgresLocation.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// What a failure to connect says about the URL: the server (host, port), the user or password, the database.
    static func explain(_ error: PSQLError, at location: DatabaseURL.PostgresLocation) -> String {
        let server = "\(location.host):\(location.port)"
        switch error.serverInfo?[.sqlState] {
        case "28P01", "28000":
            return "PostgreSQL at \(server) refused user '\(location.user)': the user or its password is wrong"
        case "3D000":
            return "PostgreSQL at \(server) has no database '\(location.database)'"
        case let state?:
            return "PostgreSQL at \(server) refused the connection: \(error.serverInfo?[.message] ?? "SQLSTATE \(state)")"
        case nil:
            let underlying = error.underlying.map { String(describing: $0) } ?? ""
            let reason =
                if underlying.contains("refused") {
                    "the connection was refused (is PostgreSQL listening on that host and port?)"
                } else if underlying.isEmpty, error.code == .serverClosedConnection || error.code == .connectionError {
                    "no answer within 5 s"
                } else {
                    underlying.isEmpty ? String(describing: error.code) : underlying
                }
            return "cannot reach a PostgreSQL server at \(server): \(reason)"
        }
    }

    // MARK: Calls

    /// Runs `body` on a connection of the pool: one statement or several outside a transaction.
    @discardableResult
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await within(waitLimit, what: "a database read") {
            try await self.client.withConnection { connection in try await body(connection) }
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await within(waitLimit, what: "a database write") {
            try await self.client.withConnection { connection in
                try await connection.query("BEGIN", logger: self.logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return result
                } catch {
                    // A connection that broke is dropped by the pool; one that answered gets its transaction ended.
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        }
    }

    /// `body`, failing as `unavailable` when it takes longer than `limit` or the server went away under it.
    func within<T: Sendable>(_ limit: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withinUncounted(limit, what: what, body)
        } catch {
            StorageMetrics.failed(error, database: "postgresql")
            throw error
        }
    }

    func withinUncounted<T: Sendable>(_ limit: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw WardenError(.unavailable, "the database did not answer \(what) within \(limit.components.seconds) s")
                }
                return value
            }
        } catch let error as PSQLError where error.code != .server {
            throw WardenError(.unavailable, "the database is not reachable: \(error.code)")
        }
    }

    /// The rows of `query`, each read by column name.
    static func rows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [Columns] {
        try await connection.query(query, logger: logger).collect().map(Columns.init)
    }

    /// A row read by column name: `try row["key"]`.
    struct Columns {
        let cells: PostgresRandomAccessRow

        init(_ row: PostgresRow) { cells = row.makeRandomAccess() }

        subscript<T: PostgresDecodable>(_ column: String) -> T {
            get throws { try cells[column].decode(T.self) }
        }
    }

    /// A lock held until the transaction ends, on a name (`repo:<key>`, `blob:<sha256>`).
    static func lock(_ name: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))", logger: logger)
    }
}

extension PostgresStorage: SettingStore {
    public func setting(_ name: String, ifAbsent value: Data) async throws -> Data {
        try await write { connection in
            try await connection.query(
                "INSERT INTO warden_setting (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO NOTHING", logger: self.logger)
            return try await connection.query("SELECT value FROM warden_setting WHERE name = \(name)", logger: self.logger).collect().first?
                .decode(Data.self) ?? value
        }
    }
}

extension PostgresStorage: StorageHealth {
    /// One query, answered within 2 s (a readiness probe must not wait as long as a request may).
    public func check() async throws {
        try await within(.seconds(2), what: "a health check") {
            try await self.client.withConnection { connection in _ = try await connection.query("SELECT 1", logger: self.logger).collect() }
        }
    }
}
