import Dispatch
import Foundation
import Synchronization

/// The tests' PostgreSQL server (`scripts/test-postgres.sh`: Debian's server in a temporary folder, on a free
/// loopback port): started on first use, one per test process, and stopped when the process ends (however it ends:
/// the script stops it when its input closes).
public final class TestPostgres: Sendable {
    public static let shared = TestPostgres()

    /// A server of its own (for a test that stops it); `shared` is the one every other test uses.
    public init() {}

    private let server = Mutex<(process: Process, commands: FileHandle, answers: FileHandle)?>(nil)

    /// The URL of a new, empty database: `postgres://warden:PASSWORD@127.0.0.1:PORT/warden<n>`.
    public func newDatabaseURL() async throws -> String { try await offThePool { try self.ask("new") } }

    /// A fast shutdown of the server (`start` brings it back on the same port, with its data).
    public func stop() async throws { try expectOK(try await offThePool { try self.ask("stop") }) }
    public func start() async throws { try expectOK(try await offThePool { try self.ask("start") }) }

    /// Runs blocking work (starting the server, waiting for an answer) on a thread of its own: the tests share
    /// Swift's few cooperative threads, and a blocked one holds back every other test.
    private func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    private func expectOK(_ answer: String) throws {
        guard answer == "ok" else { throw Failure("test-postgres answered '\(answer)'") }
    }

    /// Sends one command and reads its one-line answer (starting the server first when needed), one command at a time.
    private func ask(_ command: String) throws -> String {
        try server.withLock { server in
            if server == nil { server = try Self.launch() }
            guard let server else { throw Failure("test-postgres did not start") }
            server.commands.write(Data((command + "\n").utf8))
            return try Self.line(from: server.answers)
        }
    }

    private static func launch() throws -> (process: Process, commands: FileHandle, answers: FileHandle) {
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
        _ = try line(from: output.fileHandleForReading)
        return (process, input.fileHandleForWriting, output.fileHandleForReading)
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

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}
