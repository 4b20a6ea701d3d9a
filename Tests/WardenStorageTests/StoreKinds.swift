import Foundation
import Testing
import WardenCore

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

/// The tests' PostgreSQL server: started on first use, one per test process.
actor TestPostgres {
    static let shared = TestPostgres()

    private var server: (process: Process, commands: FileHandle, answers: FileHandle)?

    /// A store on a new database of the server (its schema made by `connect`).
    func freshStorage(maximumConnections: Int = 4) async throws -> PostgresStorage {
        try await Self.connect(try freshDatabase(), maximumConnections: maximumConnections)
    }

    /// A new, empty database of the server.
    func freshDatabase() throws -> DatabaseURL.PostgresLocation {
        let url = try ask("new")
        guard case .postgres(let location) = try DatabaseURL.parse(url) else { throw Failure("not a PostgreSQL URL: \(url)") }
        return location
    }

    /// A store on `location`: what one more server on the same database would open.
    static func connect(_ location: DatabaseURL.PostgresLocation, maximumConnections: Int = 4) async throws -> PostgresStorage {
        // A long wait limit: the whole test suite shares two cores, and a slow answer is not what these tests check.
        try await PostgresStorage.connect(location, maximumConnections: maximumConnections, waitLimit: .seconds(120))
    }

    /// A fast shutdown of the server (`start` brings it back on the same port, with its data).
    func stop() throws { try expectOK(ask("stop")) }
    func start() throws { try expectOK(ask("start")) }

    private func expectOK(_ answer: String) throws {
        guard answer == "ok" else { throw Failure("test-postgres answered '\(answer)'") }
    }

    /// Sends one command and reads its one-line answer (starting the server first when needed).
    private func ask(_ command: String) throws -> String {
        let server = try running()
        server.commands.write(Data((command + "\n").utf8))
        return try Self.line(from: server.answers)
    }

    private func running() throws -> (process: Process, commands: FileHandle, answers: FileHandle) {
        if let server { return server }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/test-postgres.sh")
        let process = Process()
        process.executableURL = script
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // The script's first line is the server's own URL; the server lives until this process closes its input.
        _ = try Self.line(from: output.fileHandleForReading)
        let started = (process, input.fileHandleForWriting, output.fileHandleForReading)
        server = started
        return started
    }

    /// Reads up to a newline, a byte at a time (the answers are short; nothing is read past the line).
    private static func line(from handle: FileHandle) throws -> String {
        var bytes: [UInt8] = []
        while true {
            guard let byte = try handle.read(upToCount: 1)?.first else {
                throw Failure("test-postgres ended without answering (is Debian's postgresql installed? make test installs it)")
            }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
