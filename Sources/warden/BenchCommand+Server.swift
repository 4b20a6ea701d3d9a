import Foundation
import WardenCore
import WardenStorage
import RunModel
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
        return try await historyRows(storage, database: "SQLite", entries: entries, writers: writers)
    }

    /// History entries appended one at a time by concurrent writers to `storage` (empty), then counted.
    func historyRows(_ storage: any HistoryStore, database: String, entries: Int = 20_000, writers: Int = 8) async throws -> [Row] {
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
                name: "history entries recorded/s on \(database) (\(writers) writers, \(entries) entries)", value: String(format: "%.0f", rate),
                goal: "≥ 5,000/s",
                met: rate >= 5_000),
            Row(name: "  history entries dropped", value: "\(entries - stored)", goal: "0", met: stored == entries),
        ]
    }

    /// `POST /worker/api/v1/execute/{key}` of a trivial worker over loopback HTTP, driven by wrk, against a
    /// `warden serve` started for the purpose.
    func executeOverHTTPRows() async throws -> [Row] {
        guard let wrk = BenchServer.wrk else { return [Row(name: "execute over HTTP (wrk)", value: "wrk not installed", goal: "", met: nil)] }
        let server = try await BenchServer()
        defer { server.stop() }
        try await server.call(
            "POST", "/worker/api/v1/workers",
            #"{"key":"bench-generic","action":"GENERIC_EVENT","enabled":true,"sourceCode":"export default async (context, data) => ({ n: data.n + 1 });"}"#
        )
        let report = try server.load(
            wrk: wrk, path: "/worker/api/v1/execute/bench-generic", method: "POST", body: #"{"n": 1}"#, duration: max(2, seconds * 2))
        return [
            Row(name: "execute over loopback HTTP (wrk, 16 connections), requests/s", value: report.rate, goal: "", met: nil),
            Row(name: "  p50 / p99 latency", value: "\(report.p50) / \(report.p99)", goal: "", met: nil),
            Row(name: "  non-2xx answers", value: report.errors, goal: "0", met: report.errors == "0"),
        ]
    }
}

extension BenchCommand {
    /// The tenant dialect's build list, computed from the runs and jobs of the tenant's pipelines: `runs` finished
    /// runs of two stages (with 2 KiB logs) are stored first, then `GET /api/tenant/bench/builds` (newest 50) and a
    /// narrowed `?change=` are driven by wrk.
    func tenantRows(runs: Int = 2_000) async throws -> [Row] {
        guard let wrk = BenchServer.wrk else { return [Row(name: "tenant builds (wrk)", value: "wrk not installed", goal: "", met: nil)] }
        let server = try await BenchServer { storage in
            guard let tenant = try await storage.createTenant(CITenant(name: "bench", createdAt: 0)) else { return }
            let project = try await storage.createProject(CIProject(tenantID: tenant.id, namespace: "root", path: "app", name: "app", createdAt: 0))
            let plan = PipelinePlan(stages: [PlanStage(name: "lint", image: "debian:12"), PlanStage(name: "unit", image: "debian:12")])
            let pipeline = try await storage.createPipeline(
                CIPipeline(projectID: project.id, name: "check", plan: plan, triggerTokenHash: "bench", isPublic: true, createdAt: 0))
            let log = String(repeating: "a line of a stage's output\n", count: 80)
            for index in 0..<runs {
                let millis = Int64(index) * 60_000
                guard
                    var run = try await storage.startRun(
                        CIRun(pipelineID: pipeline.id, event: RunEvent(change: index, patchset: "1"), startedAt: millis), stages: ["lint", "unit"],
                        projectID: project.id)
                else { continue }
                run.status = "Passed"
                run.log = log
                try await storage.finishRun(run, jobs: [("lint", "success"), ("unit", "success")], at: millis + 30_000)
            }
        }
        defer { server.stop() }
        let duration = max(2, seconds * 2)
        let newest = try server.load(wrk: wrk, path: "/api/tenant/bench/builds", duration: duration)
        let narrowed = try server.load(wrk: wrk, path: "/api/tenant/bench/builds?change=1234", duration: duration)
        return [
            Row(name: "tenant builds, newest 50 of \(runs * 2) (wrk), requests/s / p99", value: "\(newest.rate) / \(newest.p99)", goal: "", met: nil),
            Row(name: "  the same with ?change= (one run's builds)", value: "\(narrowed.rate) / \(narrowed.p99)", goal: "", met: nil),
            Row(
                name: "  non-2xx answers", value: "\(newest.errors), \(narrowed.errors)", goal: "0",
                met: newest.errors == "0" && narrowed.errors == "0"),
        ]
    }
}

/// A `warden serve` started for a benchmark on a free loopback port, with its own data folder and admin token.
final class BenchServer {
    let process = Process()
    let data: URL
    let token: String
    var port = 0

    static var wrk: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/wrk" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts the server; `seed`, when given, first fills its database (the server's migrations run on it).
    /// `environment` adds settings (a replica's database URL, blob folder, master key); `data` and `token` are new
    /// ones unless given (a replica started again on its folder).
    init(
        seed: ((SQLiteStorage) async throws -> Void)? = nil, environment: [String: String] = [:], data: URL? = nil, token: String? = nil
    ) async throws {
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-serve-\(getpid())-\(UUID().uuidString)")
        self.token = token ?? "bench-\(UUID().uuidString)"
        if let seed {
            try FileManager.default.createDirectory(at: self.data, withIntermediateDirectories: true)
            try await seed(try SQLiteStorage(path: self.data.appendingPathComponent("warden.sqlite").path))
        }
        process.executableURL = URL(fileURLWithPath: SelfExecutable.path)
        process.arguments = ["serve", "--port", "0", "--data", self.data.path]
        process.environment = ["WARDEN_ADMIN_TOKEN": self.token, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"].merging(
            environment
        ) { _, given in given }
        // The log to a file (as a service's goes to the journal): every request writes its access line.
        try FileManager.default.createDirectory(at: self.data, withIntermediateDirectories: true)
        let log = self.data.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while port == 0 {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last ?? "") ?? 0
            } else if !process.isRunning {
                stop()
                throw CommandFailure("the server did not start: \(text)")
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: data)
    }

    /// SIGKILL, its data folder kept (to start it again).
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// One request as the admin; fails unless the answer is 2xx.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> Data {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw CommandFailure("'\(path)' does not make a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw CommandFailure("\(method) \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }

    struct LoadReport {
        var rate: String
        var p50: String
        var p99: String
        var errors: String
        var requestsPerSecond: Double { Double(rate) ?? 0 }
        /// p99 in milliseconds.
        var p99Millis: Double { Self.millis(p99) }

        static func millis(_ text: String) -> Double {
            if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
            if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
            if text.hasSuffix("s") { return (Double(text.dropLast()) ?? 0) * 1000 }
            return 0
        }
    }

    /// wrk against `path` (2 threads, 16 connections) as the admin.
    func load(wrk: String, path: String, method: String = "GET", body: String? = nil, duration: Double, connections: Int = 16) throws -> LoadReport {
        try Self.load(wrk: wrk, port: port, token: token, path: path, method: method, body: body, duration: duration, connections: connections)
    }

    /// The resident memory of the server and of its executors (its child processes).
    func residentBytes() -> (server: Int64, executors: Int64, total: Int64) {
        let server = ProcessProbe.residentBytes(pid: process.processIdentifier) ?? 0
        let executors = Self.children(of: process.processIdentifier).reduce(Int64(0)) { $0 + (ProcessProbe.residentBytes(pid: $1) ?? 0) }
        return (server, executors, server + executors)
    }

    /// CPU time (ns) and thread switches (voluntary and not) of the server and its executors so far, from /proc:
    /// what a load costs them in all, the thread hops included, whichever thread does the work.
    func usage() -> (cpuNanos: Int64, switches: Int64) {
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        var cpu: Int64 = 0
        var switches: Int64 = 0
        for pid in [process.processIdentifier] + Self.children(of: process.processIdentifier) {
            // utime and stime: fields 14 and 15, the 12th and 13th after "pid (name)".
            let fields = Self.statFields(of: pid)
            if fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]), ticks > 0 {
                cpu += (user + system) * 1_000_000_000 / ticks
            }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
                for line in status.split(separator: "\n") where line.contains("ctxt_switches:") {
                    switches += Int64(line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") ?? 0
                }
            }
        }
        return (cpu, switches)
    }

    /// wrk's load with what it cost the server and its executors per request (see `usage`).
    func measuredLoad(wrk: String, path: String, duration: Double, connections: Int) throws -> (LoadReport, cpuMicros: Double, switches: Double) {
        let before = usage()
        let report = try load(wrk: wrk, path: path, duration: duration, connections: connections)
        let after = usage()
        let requests = max(1, report.requestsPerSecond * Double(Int(duration.rounded(.up))))
        return (report, Double(after.cpuNanos - before.cpuNanos) / 1_000 / requests, Double(after.switches - before.switches) / requests)
    }

    /// The processes whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            // After "pid (name)": state, then the parent's pid.
            let fields = statFields(of: child)
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// The fields of `/proc/<pid>/stat` after "pid (name)" (a name may hold spaces and parentheses); none when the
    /// process is gone.
    static func statFields(of pid: Int32) -> [Substring] {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.range(of: ")", options: .backwards)
        else { return [] }
        return stat[close.upperBound...].split(separator: " ")
    }

    /// wrk against `http://127.0.0.1:port/path` with a Bearer `token`.
    static func load(
        wrk: String, port: Int, token: String, path: String, method: String = "GET", body: String? = nil, duration: Double, connections: Int
    ) throws -> LoadReport {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(getpid())-\(UUID().uuidString).lua")
        var lua = "wrk.method = \"\(method)\"\nwrk.headers[\"Authorization\"] = \"Bearer \(token)\"\n"
        if let body { lua += "wrk.body = [==[\(body)]==]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n" }
        try lua.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let load = Process()
        load.executableURL = URL(fileURLWithPath: wrk)
        load.arguments = [
            "-t2", "-c\(connections)", "-d\(Int(duration.rounded(.up)))s", "--latency", "-s", script.path, "http://127.0.0.1:\(port)\(path)",
        ]
        let out = Pipe()
        load.standardOutput = out
        try load.run()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        load.waitUntilExit()
        func figure(_ pattern: String) -> String {
            guard let range = report.range(of: pattern, options: .regularExpression) else { return "?" }
            return String(report[range]).split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? "?"
        }
        return LoadReport(
            rate: figure(#"Requests/sec: +[\d.]+"#), p50: figure(#"50% +[\d.]+[mu]?s"#), p99: figure(#"99% +[\d.]+[mu]?s"#),
            errors: report.contains("Non-2xx") ? figure(#"Non-2xx or 3xx responses: +\d+"#) : "0")
    }
}

/// The hot path's peer (scripts/node-peer.js): a plain Node.js server running the same trivial worker in a warm `vm`
/// context before it answers 1 KiB from memory; started by the bench when `node` and the script are found.
final class NodePeer {
    let process = Process()
    let token = "peer-\(UUID().uuidString)"
    var port = 0

    static var script: String? { repositoryFile("scripts/node-peer.js") }

    /// A file of the repository: beside the working folder (`make bench` runs from the repository) or beside the
    /// binary (`.build/release/warden`).
    static func repositoryFile(_ path: String) -> String? {
        let binary = URL(fileURLWithPath: SelfExecutable.path).deletingLastPathComponent()
        let candidates = [
            FileManager.default.currentDirectoryPath + "/" + path, binary.appendingPathComponent("../../" + path).standardized.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static var node: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.flatMap { ["\($0)/node", "\($0)/nodejs"] }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The running peer, or `nil` when node or the script is missing.
    static func start() throws -> NodePeer? {
        guard let node, let script else { return nil }
        let peer = NodePeer()
        peer.process.executableURL = URL(fileURLWithPath: node)
        peer.process.arguments = [script, peer.token]
        let out = Pipe()
        peer.process.standardOutput = out
        peer.process.standardError = FileHandle.nullDevice
        try peer.process.run()
        var text = ""
        while peer.port == 0 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty {
                peer.stop()
                throw CommandFailure("the Node peer did not start: \(text)")
            }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                peer.port = Int(text[range].split(separator: ":").last ?? "") ?? 0
            }
        }
        return peer
    }

    func load(wrk: String, path: String, duration: Double, connections: Int) throws -> BenchServer.LoadReport {
        try BenchServer.load(wrk: wrk, port: port, token: token, path: path, duration: duration, connections: connections)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
