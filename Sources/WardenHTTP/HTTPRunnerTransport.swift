import Foundation
import WardenCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server's side of talking to a `warden runner`, over URLSession.
public struct HTTPRunnerTransport: RunnerTransport {
    /// Seconds a runner has to answer `GET /` to count as healthy when a trigger picks one.
    let probeSeconds: Double

    public init(probeSeconds: Double = 1) {
        self.probeSeconds = probeSeconds
    }

    /// The runner's URL with `path`; a runner registered with a URL that does not make one cannot be reached.
    static func target(_ url: String, _ path: String) throws -> URL {
        guard let target = URL(string: url + path) else { throw WardenError(.unavailable, "the runner's URL '\(url)' is not a URL") }
        return target
    }

    public func isHealthy(url: String) async -> Bool {
        guard let target = URL(string: url) else { return false }
        var request = URLRequest(url: target)
        request.timeoutInterval = probeSeconds
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }

    public func run(url: String, token: String, requestJSON: Data, timeout: Double) async throws -> Data {
        var request = URLRequest(url: try Self.target(url, "/run"))
        request.httpMethod = "POST"
        request.timeoutInterval = timeout
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = requestJSON
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw WardenError(.unavailable, "the runner answered \(status): \(String(decoding: data, as: UTF8.self))") }
        return data
    }

    public func cancel(url: String, token: String, runID: String) async throws {
        var request = URLRequest(url: try Self.target(url, "/cancel/\(runID)"))
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw WardenError(.conflict, "the runner did not cancel run \(runID) (\(status)): \(String(decoding: data, as: UTF8.self))")
        }
    }

    public func log(url: String, token: String, runID: String) async throws -> String {
        var request = URLRequest(url: try Self.target(url, "/logs/\(runID)"))
        request.timeoutInterval = 10
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw WardenError(.notFound, "the runner has no log for run \(runID)") }
        return String(decoding: data, as: UTF8.self)
    }
}
