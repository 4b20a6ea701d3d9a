import Foundation
import RunModel
import Synchronization
import WardenCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Remote repositories' client of their upstreams, over URLSession: only hosts the egress allow-list allows (the
/// one `context.clients.axios` obeys, internal addresses refused unless listed as private), a redirect followed only
/// to such a host, the body streamed into a staged blob and cut at its limit, time bounded.
public struct UpstreamHTTP: UpstreamClient {
    let egress: EgressPolicy
    let timeout: TimeInterval

    public init(egress: EgressPolicy, timeout: TimeInterval = 60) {
        self.egress = egress
        self.timeout = timeout
    }

    /// Why `url` may not be fetched, or nil.
    func refusal(_ url: URL) -> String? { egress.connectionRefusal(for: url.absoluteString) }

    public func fetch(url text: String, headers: [(name: String, value: String)], into blob: any StagedBlob, maxBytes: Int64) async throws
        -> UpstreamResponse
    {
        guard let url = URL(string: text) else { throw WardenError(.badGateway, "'\(text)' is not a URL") }
        if let refusal = refusal(url) { throw WardenError(.badGateway, "the upstream may not be reached: \(refusal) (warden.allowHosts)") }
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        let hopByHop: Set<String> = ["host", "connection", "content-length", "transfer-encoding", "te", "upgrade", "keep-alive", "trailer"]
        for (name, value) in headers where !hopByHop.contains(name.lowercased()) && !name.lowercased().hasPrefix("proxy-") {
            request.addValue(value, forHTTPHeaderField: name)
        }
        let fetch = Fetch(blob: blob, maxBytes: maxBytes, allowed: { self.refusal($0) == nil })
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 10
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: fetch, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            fetch.state.withLock { $0.continuation = continuation }
            session.dataTask(with: request).resume()
        }
    }
}

/// One fetch's delegate: the answer's status and headers, its body into the blob (only a 200's).
final class Fetch: NSObject, URLSessionDataDelegate, Sendable {
    struct State {
        var continuation: CheckedContinuation<UpstreamResponse, any Error>?
        var response: UpstreamResponse?
        var received: Int64 = 0
        var failure: (any Error)?
    }

    let blob: any StagedBlob
    let maxBytes: Int64
    let allowed: @Sendable (URL) -> Bool
    let state = Mutex(State())

    init(blob: any StagedBlob, maxBytes: Int64, allowed: @escaping @Sendable (URL) -> Bool) {
        self.blob = blob
        self.maxBytes = maxBytes
        self.allowed = allowed
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        // Followed only to a host the allow-list allows; otherwise the 3xx is the answer (a failure of the fetch).
        completionHandler(request.url.map(allowed) == true ? request : nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { headers["\(name)".lowercased()] = "\(value)" }
        state.withLock { $0.response = UpstreamResponse(status: http?.statusCode ?? 0, headers: headers) }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (status, total) = state.withLock { state -> (Int, Int64) in
            state.received += Int64(data.count)
            return (state.response?.status ?? 0, state.received)
        }
        guard status == 200 else { return }
        guard total <= maxBytes else {
            state.withLock { $0.failure = WardenError(.tooLarge, "the upstream's file is larger than \(maxBytes) bytes") }
            dataTask.cancel()
            return
        }
        do {
            try data.withUnsafeBytes { try blob.append($0) }
        } catch {
            state.withLock { $0.failure = error }
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = state.withLock {
            state -> (CheckedContinuation<UpstreamResponse, any Error>?, Result<UpstreamResponse, any Error>) in
            let continuation = state.continuation
            state.continuation = nil
            if let failure = state.failure { return (continuation, .failure(failure)) }
            if let error { return (continuation, .failure(error)) }
            guard let response = state.response else { return (continuation, .failure(WardenError(.badGateway, "the upstream gave no answer"))) }
            return (continuation, .success(response))
        }
        continuation?.resume(with: result)
    }
}
