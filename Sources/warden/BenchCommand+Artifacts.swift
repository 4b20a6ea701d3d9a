import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension BenchCommand {
    /// The hot path (issues 4 and 13), every figure from one server in one run, 32 connections: the framework's
    /// ceiling (liveness), an authenticated tiny read, 1 KiB downloads and uploads through a repository with one
    /// trivial synchronous worker against one with none, and the Node peer (scripts/node-peer.js) doing the same
    /// hooked download; then the hooked download's p99 while another worker of the same repository loops forever and
    /// is hit 20 times a second; then the memory of a fresh server with 1,000 workers each run once.
    func artifactRows() async throws -> [Row] {
        guard let wrk = BenchServer.wrk else { return [Row(name: "artifact hot path (wrk)", value: "wrk not installed", goal: "", met: nil)] }
        let server = try await BenchServer()
        defer { server.stop() }
        let kib = String(repeating: "x", count: 1_024)
        for key in ["plain", "hooked"] {
            try await server.call("PUT", "/artifactory/api/repositories/\(key)", #"{"rclass":"local","packageType":"generic"}"#)
            try await server.call("PUT", "/artifactory/\(key)/file.bin", kib)
        }
        try await server.call(
            "POST", "/worker/api/v1/workers",
            Self.worker("bench-download", "BEFORE_DOWNLOAD", "export default async () => ({ status: 1, message: 'ok' });", include: "file.bin"))
        try await server.call(
            "POST", "/worker/api/v1/workers",
            Self.worker("bench-upload", "BEFORE_UPLOAD", "export default async () => ({ status: 1, message: 'ok' });", include: "file.bin"))
        let duration = max(2, seconds * 2)
        let connections = 32
        let liveness = try server.load(wrk: wrk, path: "/worker/api/v1/system/liveness", duration: duration, connections: connections)
        let listing = try server.load(wrk: wrk, path: "/worker/api/v1/workers?keysOnly=true", duration: duration, connections: connections)
        let (plainDown, plainCPU, plainSwitches) = try server.measuredLoad(
            wrk: wrk, path: "/artifactory/plain/file.bin", duration: duration, connections: connections)
        let (hookedDown, hookedCPU, hookedSwitches) = try server.measuredLoad(
            wrk: wrk, path: "/artifactory/hooked/file.bin", duration: duration, connections: connections)
        let plainUp = try server.load(
            wrk: wrk, path: "/artifactory/plain/file.bin", method: "PUT", body: kib, duration: duration, connections: connections)
        let hookedUp = try server.load(
            wrk: wrk, path: "/artifactory/hooked/file.bin", method: "PUT", body: kib, duration: duration, connections: connections)
        let peer = try NodePeer.start()
        let peerDown = try peer.map { try $0.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: duration, connections: connections) }
        peer?.stop()

        // A worker on loop/** of the same repository that never ends, hit 20 times a second while the hooked
        // download is measured again.
        try await server.call(
            "POST", "/worker/api/v1/workers",
            Self.worker("bench-loop", "BEFORE_DOWNLOAD", "export default async () => { for (;;) {} };", include: "loop/**"))
        try await server.call("PUT", "/artifactory/hooked/loop/x.bin", kib)
        let port = server.port
        let token = server.token
        guard let loopURL = URL(string: "http://127.0.0.1:\(port)/artifactory/hooked/loop/x.bin") else {
            throw CommandFailure("port \(port) does not make a URL")
        }
        let hammer = Task {
            await withTaskGroup(of: Void.self) { group in
                while !Task.isCancelled {
                    group.addTask {
                        var request = URLRequest(url: loopURL)
                        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                        request.timeoutInterval = 60
                        _ = try? await URLSession.shared.data(for: request)
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                group.cancelAll()
            }
        }
        // The first seconds: the looping worker's first runs break the CPU limit, then it is suspended.
        let firstSeconds = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: 5, connections: connections)
        let underLoop = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: duration, connections: connections)
        hammer.cancel()

        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : 0 }
        func figures(_ report: BenchServer.LoadReport) -> String { "\(report.rate) / \(report.p99)" }
        let plainRatio = ratio(plainDown.requestsPerSecond, liveness.requestsPerSecond)
        let downRatio = ratio(hookedDown.requestsPerSecond, plainDown.requestsPerSecond)
        let upRatio = ratio(hookedUp.requestsPerSecond, plainUp.requestsPerSecond)
        let loopRatio = ratio(underLoop.p99Millis, hookedDown.p99Millis)
        var rows = [
            Row(
                name: "liveness requests/s / p99 (the framework's ceiling, \(connections) connections)", value: figures(liveness), goal: "", met: nil),
            Row(name: "worker list with a Bearer token (auth + a tiny read) / p99", value: figures(listing), goal: "", met: nil),
            Row(
                name: "1 KiB downloads/s with a Bearer token, no hook / p99", value: figures(plainDown), goal: "≥ 0.6× liveness",
                met: plainRatio >= 0.6),
            Row(name: "  plain download ÷ liveness", value: String(format: "%.2f×", plainRatio), goal: "≥ 0.6×", met: plainRatio >= 0.6),
            Row(
                name: "1 KiB downloads/s, one BEFORE_DOWNLOAD worker / p99", value: figures(hookedDown), goal: "≥ 0.85× plain",
                met: downRatio >= 0.85),
            Row(name: "  hooked ÷ plain downloads/s", value: String(format: "%.2f×", downRatio), goal: "≥ 0.85×", met: downRatio >= 0.85),
            Row(
                name: "  CPU µs per download, server + executors (plain / hooked)", value: String(format: "%.0f / %.0f", plainCPU, hookedCPU),
                goal: "", met: nil),
            Row(
                name: "  thread switches per download, server + executors (plain / hooked)",
                value: String(format: "%.1f / %.1f", plainSwitches, hookedSwitches), goal: "", met: nil),
            Row(name: "1 KiB uploads/s, no hook / p99", value: figures(plainUp), goal: "", met: nil),
            Row(name: "1 KiB uploads/s, one BEFORE_UPLOAD worker / p99", value: figures(hookedUp), goal: "≥ 0.85× plain", met: upRatio >= 0.85),
            Row(name: "  hooked ÷ plain uploads/s", value: String(format: "%.2f×", upRatio), goal: "≥ 0.85×", met: upRatio >= 0.85),
        ]
        if let peerDown {
            let peerRatio = ratio(hookedDown.requestsPerSecond, peerDown.requestsPerSecond)
            rows += [
                Row(name: "Node peer: hooked 1 KiB downloads/s / p99 (baseline)", value: figures(peerDown), goal: "", met: nil),
                Row(
                    name: "  Warden hooked ÷ Node peer downloads/s", value: String(format: "%.2f×", peerRatio), goal: "≥ 0.5×", met: peerRatio >= 0.5),
            ]
        } else {
            rows.append(Row(name: "Node peer (scripts/node-peer.js)", value: "node or the script not found", goal: "", met: nil))
        }
        let reports = [liveness, listing, plainDown, hookedDown, plainUp, hookedUp, firstSeconds, underLoop]
        rows += [
            Row(
                name: "hooked download p99 while a looping worker is hit 20/s (steady)", value: "\(underLoop.p99) (\(underLoop.rate)/s)",
                goal: "≤ 2× \(hookedDown.p99)", met: loopRatio <= 2 && underLoop.requestsPerSecond > 0),
            Row(
                name: "  p99 under the loop ÷ p99 without", value: String(format: "%.2f×", loopRatio), goal: "≤ 2×",
                met: loopRatio <= 2 && underLoop.requestsPerSecond > 0),
            Row(
                name: "  the 5 s before, while the loop first breaks its limits", value: "\(firstSeconds.p99) (\(firstSeconds.rate)/s)", goal: "",
                met: nil),
            Row(
                name: "  non-2xx answers (liveness, list, down, hooked down, up, hooked up, loop start, under loop)",
                value: reports.map(\.errors).joined(separator: ", "), goal: "0", met: reports.allSatisfy { $0.errors == "0" }),
        ]
        return rows + (try await memoryRows())
    }

    static func worker(_ key: String, _ action: String, _ source: String, include: String = "**") -> String {
        let escaped = source.replacingOccurrences(of: "\"", with: "\\\"")
        return #"{"key":"\#(key)","action":"\#(action)","enabled":true,"sourceCode":"\#(escaped)","#
            + #""filterCriteria":{"artifactFilterCriteria":{"repoKeys":["hooked"],"includePatterns":["\#(include)"]}}}"#
    }

    /// The resident memory of a fresh server and its executors with `count` deployed BEFORE_DOWNLOAD workers, each
    /// run once (each on a file of its own), against the same server with none.
    func memoryRows(count: Int = 1_000) async throws -> [Row] {
        let server = try await BenchServer()
        defer { server.stop() }
        try await server.call("PUT", "/artifactory/api/repositories/hooked", #"{"rclass":"local","packageType":"generic"}"#)
        try await server.call("PUT", "/artifactory/hooked/warm.bin", "x")
        // One worker deployed and run first, so that the baseline holds the compiler process (TypeScript loaded, about
        // 170 MiB, once per server) and what every executor's first context costs; the rows are about the next ones.
        try await server.call(
            "POST", "/worker/api/v1/workers",
            Self.worker("first", "BEFORE_DOWNLOAD", "export default async () => ({ status: 1, message: 'first' });", include: "warm.bin"))
        try await server.call("GET", "/artifactory/hooked/warm.bin")
        let before = server.residentBytes()
        for index in 0..<count {
            try await server.call("PUT", "/artifactory/hooked/m/\(index).bin", "x")
            try await server.call(
                "POST", "/worker/api/v1/workers",
                Self.worker(
                    "m\(index)", "BEFORE_DOWNLOAD", "export default async () => ({ status: 1, message: 'ok \(index)' });", include: "m/\(index).bin"))
        }
        for index in 0..<count { try await server.call("GET", "/artifactory/hooked/m/\(index).bin") }
        let busy = server.residentBytes()
        // Idle executors collect what loading the contexts left (after 200 ms without a run): steady state.
        try await Task.sleep(for: .seconds(1))
        let after = server.residentBytes()
        let perWorker = Double(after.total - before.total) / Double(count) / 1024
        return [
            Row(
                name: "RSS of server + executors, \(count) more workers each run once (server / executors)",
                value: "\(after.total >> 20) MiB (\(after.server >> 20) / \(after.executors >> 20))", goal: "", met: nil),
            Row(name: "  the same with one worker run (baseline)", value: "\(before.total >> 20) MiB", goal: "", met: nil),
            Row(name: "  growth per warm worker, 1 s after the last run", value: "\(fmt(perWorker)) KiB", goal: "≤ 300 KiB", met: perWorker <= 300),
            Row(
                name: "  the same right after the last run", value: "\(fmt(Double(busy.total - before.total) / Double(count) / 1024)) KiB", goal: "",
                met: nil),
        ]
    }
}
