import Foundation

/// The tests' PostgreSQL server (`scripts/test-postgres.sh`: Debian's server in a temporary folder, on a free
/// loopback port): started on first use, one per test process, and stopped when the process ends (however it ends:
/// the script stops it when its input closes).
public actor TestPostgres {
    public static let shared = TestPostgres()

    /// A server of its own (for a test that stops it); `shared` is the one every other test uses.
    public init() {}

    private var server: (process: Process, commands: FileHandle, answers: FileHandle)?

    /// The URL of a new, empty database: `postgres://warden:PASSWORD@127.0.0.1:PORT/warden<n>`.
    public func newDatabaseURL() throws -> String { try ask("new") }

    /// A fast shutdown of the server (`start` brings it back on the same port, with its data).
    public func stop() throws { try expectOK(ask("stop")) }
    public func start() throws { try expectOK(ask("start")) }

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

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}
