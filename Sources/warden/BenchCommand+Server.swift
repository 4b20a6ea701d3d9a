import Foundation
import WardenCore
import WardenStorage
import WorkerRuntime

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension BenchCommand {
    /// History entries appended concurrently to a fresh SQLite file, then counted: the rate and whether any was lost.
    func historyRows(entries: Int = 20_000, writers: Int = 8) async throws -> [Row] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let storage = try SQLiteStorage(path: folder.appendingPathComponent("bench.sqlite").path)
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in stride(from: writer, to: entries, by: writers) {
                        try await storage.append(
                            HistoryEntry(
                                id: "e\(index)", traceID: "t\(index)", workerKey: "w\(index % 10)", action: "GENERIC_EVENT", projectKey: "",
                                payloadJSON: #"{"n":\#(index)}"#, status: .success, resultJSON: "\(index)", error: nil,
                                logs: "[info ] - run \(index)",
                                stats: RunStats(cpuNanos: 1_000, wallNanos: 2_000), startMillis: 0, endMillis: 1, triggeredBy: "bench",
                                testRun: false,
                                executedVersion: "v"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (clock.now - start).seconds
        var stored = 0
        for worker in 0..<10 { stored += try await storage.entries(HistoryQuery(workerKey: "w\(worker)", limit: 1_000_000)).count }
        let rate = Double(entries) / seconds
        return [
            Row(
                name: "history entries recorded/s on SQLite (\(writers) writers, \(entries) entries)", value: String(format: "%.0f", rate),
                goal: "≥ 5,000/s",
                met: rate >= 5_000),
            Row(name: "  history entries dropped", value: "\(entries - stored)", goal: "0", met: stored == entries),
        ]
    }

    /// `POST /worker/api/v1/execute/{key}` of a trivial worker over loopback HTTP, driven by wrk, against a
    /// `warden serve` started for the purpose.
    func executeOverHTTPRows() async throws -> [Row] {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let wrk = paths.map({ "\($0)/wrk" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return [Row(name: "execute over HTTP (wrk)", value: "wrk not installed", goal: "", met: nil)]
        }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-serve-\(getpid())")
        defer { try? FileManager.default.removeItem(at: data) }
        let token = "bench-\(UUID().uuidString)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: SelfExecutable.path)
        server.arguments = ["serve", "--port", "0", "--data", data.path]
        server.environment = ["WARDEN_ADMIN_TOKEN": token, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var text = ""
        var port = 0
        while port == 0 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { throw CommandFailure("the server did not start: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last ?? "") ?? 0
            }
        }
        var create = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/worker/api/v1/workers")!)
        create.httpMethod = "POST"
        create.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        create.httpBody = Data(
            #"{"key":"bench-generic","action":"GENERIC_EVENT","enabled":true,"sourceCode":"export default async (context, data) => ({ n: data.n + 1 });"}"#
                .utf8)
        let (_, response) = try await URLSession.shared.data(for: create)
        guard (response as? HTTPURLResponse)?.statusCode == 201 else { throw CommandFailure("could not create the benchmark worker") }
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(getpid()).lua")
        try """
        wrk.method = "POST"
        wrk.body = '{"n": 1}'
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["Authorization"] = "Bearer \(token)"
        """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let load = Process()
        load.executableURL = URL(fileURLWithPath: wrk)
        load.arguments = [
            "-t2", "-c16", "-d\(Int(max(2, seconds * 2)))s", "--latency", "-s", script.path,
            "http://127.0.0.1:\(port)/worker/api/v1/execute/bench-generic",
        ]
        let wrkOut = Pipe()
        load.standardOutput = wrkOut
        try load.run()
        let report = String(decoding: wrkOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        load.waitUntilExit()
        func figure(_ pattern: String) -> String {
            guard let range = report.range(of: pattern, options: .regularExpression) else { return "?" }
            return String(report[range]).split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? "?"
        }
        let errors = report.contains("Non-2xx") ? figure(#"Non-2xx or 3xx responses: +\d+"#) : "0"
        return [
            Row(name: "execute over loopback HTTP (wrk, 16 connections), requests/s", value: figure(#"Requests/sec: +[\d.]+"#), goal: "", met: nil),
            Row(name: "  p50 / p99 latency", value: "\(figure(#"50% +[\d.]+[mu]?s"#)) / \(figure(#"99% +[\d.]+[mu]?s"#))", goal: "", met: nil),
            Row(name: "  non-2xx answers", value: errors, goal: "0", met: errors == "0"),
        ]
    }
}
