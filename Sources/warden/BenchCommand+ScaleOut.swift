import Foundation
import Logging
import WardenStorage

extension BenchCommand {
    /// Two replicas over one PostgreSQL (a throwaway server of scripts/test-postgres.sh) on this machine: history
    /// entries/s on PostgreSQL; hooked 1 KiB downloads/s against one replica and spread over two (the same two cores
    /// serve both, so the figure tells the database's share, not a speed-up); and the p99 of hooked downloads from
    /// one replica while the other is killed and started again.
    func scaleOutRows() async throws -> [Row] {
        guard let wrk = BenchServer.wrk else { return [Row(name: "scale-out (wrk)", value: "wrk not installed", goal: "", met: nil)] }
        guard let postgres = try BenchPostgres.start() else {
            return [Row(name: "scale-out (PostgreSQL)", value: "Debian's postgresql not installed", goal: "", met: nil)]
        }
        defer { postgres.stop() }
        var rows: [Row] = []
        guard case .postgres(let location) = try DatabaseURL.parse(try postgres.newDatabase()) else {
            throw CommandFailure("scripts/test-postgres.sh answered no PostgreSQL URL")
        }
        let storage = try await PostgresStorage.connect(location, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        do {
            rows += try await historyRows(storage, database: "PostgreSQL")
            await storage.shutdown()
        } catch {
            await storage.shutdown()
            throw error
        }

        let blobs = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-blobs-\(getpid())")
        defer { try? FileManager.default.removeItem(at: blobs) }
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let environment = ["WARDEN_DATABASE_URL": try postgres.newDatabase(), "WARDEN_BLOBS": blobs.path, "WARDEN_MASTER_KEY": key]
        let a = try await BenchServer(environment: environment)
        defer { a.stop() }
        let b = try await BenchServer(environment: environment, token: a.token)
        defer { b.stop() }
        try await a.call("PUT", "/artifactory/api/repositories/hooked", #"{"rclass":"local","packageType":"generic"}"#)
        try await a.call("PUT", "/artifactory/hooked/file.bin", String(repeating: "x", count: 1_024))
        try await a.call(
            "POST", "/worker/api/v1/workers",
            Self.worker("bench-download", "BEFORE_DOWNLOAD", "export default async () => ({ status: 1, message: 'ok' });", include: "file.bin"))
        let duration = max(2, seconds * 2)
        let path = "/artifactory/hooked/file.bin"
        _ = try b.load(wrk: wrk, path: path, duration: 1, connections: 8)  // B's caches and executors warm
        let one = try a.load(wrk: wrk, path: path, duration: duration, connections: 32)
        let (portA, portB, token) = (a.port, b.port, a.token)
        async let onA = Task.detached { try BenchServer.load(wrk: wrk, port: portA, token: token, path: path, duration: duration, connections: 16) }
            .value
        async let onB = Task.detached { try BenchServer.load(wrk: wrk, port: portB, token: token, path: path, duration: duration, connections: 16) }
            .value
        let (spreadA, spreadB) = try await (onA, onB)
        let spread = spreadA.requestsPerSecond + spreadB.requestsPerSecond
        rows += [
            Row(
                name: "hooked 1 KiB downloads/s / p99 on PostgreSQL, one replica (32 connections)", value: "\(one.rate) / \(one.p99)", goal: "",
                met: nil),
            Row(
                name: "  spread over two replicas on this machine (16 + 16 connections)",
                value: String(format: "%.0f (%.2f× one)", spread, one.requestsPerSecond > 0 ? spread / one.requestsPerSecond : 0), goal: "",
                met: nil),
        ]

        // B is loaded while A is killed after a second and started again on its data folder a second later.
        let steady = try b.load(wrk: wrk, path: path, duration: 3, connections: 16)
        async let underRestart = Task.detached {
            try BenchServer.load(wrk: wrk, port: portB, token: token, path: path, duration: 4, connections: 16)
        }.value
        try await Task.sleep(for: .seconds(1))
        a.kill()
        try await Task.sleep(for: .seconds(1))
        let restarted = try await BenchServer(environment: environment, data: a.data, token: a.token)
        defer { restarted.stop() }
        let report = try await underRestart
        let errors = Int(report.errors) ?? -1
        rows.append(
            Row(
                name: "hooked download p99 on replica B while A is killed and restarted (steady p99)",
                value: "\(report.p99) (\(steady.p99)), \(report.rate)/s, \(report.errors) errors", goal: "0 errors", met: errors == 0))
        return rows
    }
}

/// A throwaway PostgreSQL server for the benchmark (scripts/test-postgres.sh, as the tests use): stopped with the
/// benchmark.
final class BenchPostgres {
    let process = Process()
    let commands = Pipe()
    let answers = Pipe()

    static var script: String? { NodePeer.repositoryFile("scripts/test-postgres.sh") }

    /// The running server, or `nil` when the script or Debian's server is missing.
    static func start() throws -> BenchPostgres? {
        guard let script, FileManager.default.fileExists(atPath: "/usr/lib/postgresql") else { return nil }
        let server = BenchPostgres()
        server.process.executableURL = URL(fileURLWithPath: script)
        server.process.standardInput = server.commands
        server.process.standardOutput = server.answers
        server.process.standardError = FileHandle.nullDevice
        try server.process.run()
        _ = try server.line()
        return server
    }

    /// The URL of a new, empty database.
    func newDatabase() throws -> String {
        commands.fileHandleForWriting.write(Data("new\n".utf8))
        return try line()
    }

    func line() throws -> String {
        var bytes: [UInt8] = []
        while let byte = try answers.fileHandleForReading.read(upToCount: 1)?.first {
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        throw CommandFailure("scripts/test-postgres.sh ended: \(String(decoding: bytes, as: UTF8.self))")
    }

    func stop() {
        try? commands.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
