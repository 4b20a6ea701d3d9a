import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension BenchCommand {
    /// The cost of a hook on the artifact hot path (issue 4): 1 KiB downloads and uploads through a repository with one
    /// trivial synchronous worker against a repository with none, in the same server and run; then the hooked
    /// download's p99 while another worker of the same repository loops forever and is hit 20 times a second.
    func artifactRows() async throws -> [Row] {
        guard let wrk = BenchServer.wrk else { return [Row(name: "artifact hot path (wrk)", value: "wrk not installed", goal: "", met: nil)] }
        let server = try await BenchServer()
        defer { server.stop() }
        let kib = String(repeating: "x", count: 1_024)
        for key in ["plain", "hooked"] {
            try await server.call("PUT", "/artifactory/api/repositories/\(key)", #"{"rclass":"local","packageType":"generic"}"#)
            try await server.call("PUT", "/artifactory/\(key)/file.bin", kib)
        }
        func worker(_ key: String, _ action: String, _ source: String, include: String = "**") -> String {
            let escaped = source.replacingOccurrences(of: "\"", with: "\\\"")
            return #"{"key":"\#(key)","action":"\#(action)","enabled":true,"sourceCode":"\#(escaped)","#
                + #""filterCriteria":{"artifactFilterCriteria":{"repoKeys":["hooked"],"includePatterns":["\#(include)"]}}}"#
        }
        try await server.call(
            "POST", "/worker/api/v1/workers",
            worker("bench-download", "BEFORE_DOWNLOAD", "export default async () => ({ status: 1, message: 'ok' });", include: "file.bin"))
        try await server.call(
            "POST", "/worker/api/v1/workers",
            worker("bench-upload", "BEFORE_UPLOAD", "export default async () => ({ status: 1, message: 'ok' });", include: "file.bin"))
        let duration = max(2, seconds * 2)
        let plainDown = try server.load(wrk: wrk, path: "/artifactory/plain/file.bin", duration: duration)
        let hookedDown = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: duration)
        let plainUp = try server.load(wrk: wrk, path: "/artifactory/plain/file.bin", method: "PUT", body: kib, duration: duration)
        let hookedUp = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", method: "PUT", body: kib, duration: duration)

        // A worker on loop/** of the same repository that never ends, hit 20 times a second while the hooked
        // download is measured again.
        try await server.call(
            "POST", "/worker/api/v1/workers",
            worker("bench-loop", "BEFORE_DOWNLOAD", "export default async () => { for (;;) {} };", include: "loop/**"))
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
        let firstSeconds = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: 5)
        let underLoop = try server.load(wrk: wrk, path: "/artifactory/hooked/file.bin", duration: duration)
        hammer.cancel()

        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : 0 }
        let downRatio = ratio(hookedDown.requestsPerSecond, plainDown.requestsPerSecond)
        let upRatio = ratio(hookedUp.requestsPerSecond, plainUp.requestsPerSecond)
        let loopRatio = ratio(underLoop.p99Millis, hookedDown.p99Millis)
        return [
            Row(name: "1 KiB downloads/s, no hook (baseline) / p99", value: "\(plainDown.rate) / \(plainDown.p99)", goal: "", met: nil),
            Row(
                name: "1 KiB downloads/s, one BEFORE_DOWNLOAD worker / p99", value: "\(hookedDown.rate) / \(hookedDown.p99)",
                goal: "≥ 0.85× baseline", met: downRatio >= 0.85),
            Row(name: "  hooked ÷ baseline downloads/s", value: String(format: "%.2f×", downRatio), goal: "≥ 0.85×", met: downRatio >= 0.85),
            Row(name: "1 KiB uploads/s, no hook (baseline) / p99", value: "\(plainUp.rate) / \(plainUp.p99)", goal: "", met: nil),
            Row(
                name: "1 KiB uploads/s, one BEFORE_UPLOAD worker / p99", value: "\(hookedUp.rate) / \(hookedUp.p99)", goal: "≥ 0.85× baseline",
                met: upRatio >= 0.85),
            Row(name: "  hooked ÷ baseline uploads/s", value: String(format: "%.2f×", upRatio), goal: "≥ 0.85×", met: upRatio >= 0.85),
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
                name: "  non-2xx answers (down, hooked down, up, hooked up, loop start, under loop)",
                value: [plainDown, hookedDown, plainUp, hookedUp, firstSeconds, underLoop].map(\.errors).joined(separator: ", "), goal: "0",
                met: [plainDown, hookedDown, plainUp, hookedUp, firstSeconds, underLoop].allSatisfy { $0.errors == "0" }),
        ]
    }
}
