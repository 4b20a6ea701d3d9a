import Foundation
import Logging
import WardenCore

/// Where Warden keeps its data: `sqlite:///path/to/warden.sqlite` (or a plain file path) or
/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE`, read strictly: a wrong part is named with the reason, and the
/// password never appears in a message.
public enum DatabaseURL: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// A PostgreSQL server and database. `tls`: `disable` (plain), `prefer` (TLS when the server offers it, the
    /// default) or `require` (from the URL's `sslmode`).
    public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
        public enum TLSMode: String, Sendable { case disable, prefer, require }

        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        public var tls: TLSMode

        public init(host: String, port: Int = 5432, user: String, password: String?, database: String, tls: TLSMode = .prefer) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.tls = tls
        }

        /// The URL without its password: what messages and logs show.
        public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
    }

    /// The database of a server: `text` when given (a URL, or a file path for SQLite), else `<data>/warden.sqlite`.
    public static func resolve(_ text: String?, dataFolder: String) throws -> DatabaseURL {
        guard let text, !text.isEmpty else { return .sqlite(path: (dataFolder as NSString).appendingPathComponent("warden.sqlite")) }
        return try parse(text)
    }

    public static func parse(_ text: String) throws -> DatabaseURL {
        func invalid(_ reason: String) -> WardenError {
            WardenError(.badRequest, reason)
        }
        if !text.contains("://") { return .sqlite(path: text) }
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw invalid("sqlite:// needs a file path, as in sqlite:///var/lib/warden/warden.sqlite") }
            return .sqlite(path: path)
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            let scheme = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? text
            throw invalid("unknown scheme '\(scheme.prefix(40))': use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let components = URLComponents(string: text) else { throw invalid("not a URL (a password with '@', '/' or ':' must be %-encoded)") }
        guard let host = components.host, !host.isEmpty else { throw invalid("the host is missing, as in postgres://warden@db.example:5432/warden") }
        guard let user = components.user, !user.isEmpty else { throw invalid("the user is missing, as in postgres://warden@\(host)/warden") }
        let port: Int
        if let given = components.port {
            guard (1...65_535).contains(given) else { throw invalid("port \(given) is not between 1 and 65535") }
            port = given
        } else {
            port = 5432
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else {
            throw invalid("the database name is missing, as in postgres://\(user)@\(host):\(port)/warden")
        }
        var tls = PostgresLocation.TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw invalid("sslmode '\(item.value ?? "")' is not one of disable, prefer, require")
                }
            default:
                throw invalid("unknown parameter '\(item.name.prefix(40))' (the one known is sslmode)")
            }
        }
        return .postgres(
            PostgresLocation(host: host, port: port, user: user, password: components.password, database: path, tls: tls))
    }
}

/// An open database: every store on it, and how to close it.
public struct OpenDatabase: Sendable {
    public let stores: any Stores
    public let url: DatabaseURL
    let closing: @Sendable () async -> Void

    /// Opens the database, bringing its schema up to date. An SQLite file is created when missing, unless
    /// `mustExist` (the admin commands, which must not make an empty database beside the server's). A PostgreSQL
    /// server that cannot be reached, or refuses the user or the database, is an `unavailable` error naming which.
    public static func open(_ url: DatabaseURL, mustExist: Bool = false, maximumConnections: Int = 20, logger: Logger) async throws -> OpenDatabase {
        switch url {
        case .sqlite(let path):
            if mustExist, !FileManager.default.fileExists(atPath: path) {
                throw WardenError(.notFound, "no Warden database at \(path); start `warden serve` once first")
            }
            return OpenDatabase(stores: try SQLiteStorage(path: path), url: url, closing: {})
        case .postgres(let location):
            let storage = try await PostgresStorage.connect(location, maximumConnections: maximumConnections, logger: logger)
            return OpenDatabase(stores: storage, url: url, closing: { await storage.shutdown() })
        }
    }

    public func close() async { await closing() }

    /// Whether other servers may use this database at the same time (PostgreSQL).
    public var isShared: Bool {
        if case .postgres = url { return true }
        return false
    }
}
