import Foundation
import Testing
import WardenCore
import WardenTestSupport

@testable import WardenStorage

/// The databases the store contract runs on: an SQLite file, and a new database of a PostgreSQL server the tests
/// start themselves (`scripts/test-postgres.sh`, stopped when the test process ends).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a new, empty store of this kind, closed after.
    func withFreshStore<T: Sendable>(_ body: (any Stores) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(try SQLiteStorage(path: try temporaryDatabasePath("warden-contract")))
        case .postgres:
            let storage = try await TestPostgres.shared.freshStorage()
            do {
                let result = try await body(storage)
                await storage.shutdown()
                return result
            } catch {
                await storage.shutdown()
                throw error
            }
        }
    }
}

extension TestPostgres {
    /// A store on a new database of the tests' server (its schema made by `connect`).
    func freshStorage(maximumConnections: Int = 4) async throws -> PostgresStorage {
        try await Self.connect(try freshDatabase(), maximumConnections: maximumConnections)
    }

    /// A new, empty database of the tests' server.
    func freshDatabase() async throws -> DatabaseURL.PostgresLocation {
        let url = try await newDatabaseURL()
        guard case .postgres(let location) = try DatabaseURL.parse(url) else { throw Failure("not a PostgreSQL URL: \(url)") }
        return location
    }

    /// A store on `location`: what one more server on the same database would open.
    static func connect(_ location: DatabaseURL.PostgresLocation, maximumConnections: Int = 4) async throws -> PostgresStorage {
        // A long wait limit: the whole test suite shares two cores, and a slow answer is not what these tests check.
        try await PostgresStorage.connect(location, maximumConnections: maximumConnections, waitLimit: .seconds(120))
    }
}
