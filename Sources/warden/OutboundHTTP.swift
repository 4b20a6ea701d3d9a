import Foundation
import WardenCore
import RunModel
import WorkerRuntime

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Outbound requests of `context.clients.axios`: only to hosts on the egress allow-list, redirects never followed
/// (a redirect could lead to a host that is not on the list), bodies capped, time bounded.
final class OutboundHTTP: NSObject, URLSessionTaskDelegate, @unchecked Sendable {  // immutable after init; URLSession is thread-safe
    let egress: EgressPolicy
    let maxBodyBytes: Int
    private var session: URLSession!

    init(egress: EgressPolicy, timeout: TimeInterval = 10, maxBodyBytes: Int = 10 << 20) {
        self.egress = egress
        self.maxBodyBytes = maxBodyBytes
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)  // the worker sees the 3xx answer itself
    }

    func perform(_ call: HostCall) async throws -> HostResponse {
        if let refusal = egress.connectionRefusal(for: call.url) { throw CommandFailure("context.clients.axios refused: \(refusal)") }
        guard let url = URL(string: call.url) else { throw CommandFailure("context.clients.axios: '\(call.url)' is not a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = call.method.uppercased()
        for (name, value) in call.headers { request.setValue(value, forHTTPHeaderField: name) }
        switch call.body {
        case .text(let text): request.httpBody = Data(text.utf8)
        case .json(let json):
            request.httpBody = Data(json.utf8)
            if request.value(forHTTPHeaderField: "Content-Type") == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        case nil: break
        }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw CommandFailure("context.clients.axios: no HTTP answer from \(call.url)") }
        guard data.count <= maxBodyBytes else {
            throw CommandFailure("context.clients.axios: the answer of \(call.url) is over \(maxBodyBytes) bytes")
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields { headers["\(name)".lowercased()] = "\(value)" }
        return HostResponse(status: http.statusCode, headers: headers, body: String(decoding: data, as: UTF8.self))
    }
}
