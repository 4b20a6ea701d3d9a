import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `warden serve` on a free loopback port, started and stopped by the test.
final class LiveServer: @unchecked Sendable {  // the Process is only touched by the test that owns this server
    let process: Process
    let port: Int
    let data: URL
    let token: String
    var url: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, port: Int, data: URL, token: String) {
        self.process = process
        self.port = port
        self.data = data
        self.token = token
    }

    static func start(data: URL, token: String = "e2e-admin-token", arguments extra: [String] = []) throws -> LiveServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.warden)
        process.arguments = ["serve", "--port", "0", "--data", data.path, "--executors", "2"] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_ADMIN_TOKEN"] = token
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"serving the worker API on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last ?? "") ?? 0
                return LiveServer(process: process, port: port, data: data, token: token)
            }
        }
        process.terminate()
        throw CLIError("the server did not start: \(text)")
    }

    /// SIGTERM and wait: a graceful stop.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILL: the crash.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func request(_ method: String, _ path: String, json: Any? = nil) async throws -> (status: Int, body: Any?) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func temporaryFolder(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
