import Foundation
import HTTPTypes
import Hummingbird
import CoreMetrics
import Logging
import RunModel
import WardenCore

/// The outermost middleware of the router: gives each request its id (the client's `X-Request-Id` when it is a
/// plain one, else a new one), runs the request inside `RequestTrace` so that every log line and history entry it
/// causes carries the id, echoes the id in the answer's `X-Request-Id`, and writes one access line: method, path (no
/// query: it may hold credentials; a trigger token in the path is masked), status, duration, caller. The line of an
/// answer over 64 KiB (or of unknown length) is written once its body is sent, others once the answer is ready. A refusal thrown by a dialect is turned into its answer here, so that it gets the header too.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = WardenRequestContext
    static let header = HTTPField.Name.xRequestID
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RequestTrace.accepted(request.headers[Self.header]) ?? RequestTrace.newID()
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await RequestTrace.$id.withValue(id) { try await next(request, context) }
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            logger.error("an unexpected error answered 500", metadata: ["request": .string(id), "error": .string("\(error)")])
            response = Response(status: .internalServerError)
        }
        response.headers[Self.header] = id
        let status = response.status.code
        let line = AccessLine(
            id: id, method: request.method.rawValue, path: Self.loggedPath(request.uri.path, route: context.endpointPath), status: status,
            note: context.note, route: context.endpointPath, start: start)
        let body = response.body
        // A small answer is written with its head at once (Hummingbird's single-buffer path, which a wrapped body
        // would lose): its line is written now. A large or streamed one is timed until its last byte is sent.
        if let length = body.contentLength, length <= Self.writtenAtOnce {
            line.write(to: logger, cut: false)
            return response
        }
        response.body = ResponseBody(contentLength: body.contentLength) { [logger] writer in
            do {
                try await body.write(writer)
            } catch {
                line.write(to: logger, cut: true)
                throw error
            }
            line.write(to: logger, cut: false)
        }
        return response
    }

    /// The largest answer logged when it is ready rather than once sent.
    static let writtenAtOnce = 64 << 10

    /// The path as the log shows it: a segment the route names `{token}` (a pipeline's trigger token) is masked.
    static func loggedPath(_ path: String, route: String?) -> String {
        guard let route, route.contains("{token}") else { return path }
        let template = route.split(separator: "/", omittingEmptySubsequences: false)
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for index in segments.indices where index < template.count && template[index] == "{token}" { segments[index] = "***" }
        return segments.joined(separator: "/")
    }
}

/// What one access line says, kept until the answer's body is sent.
struct AccessLine: Sendable {
    let id: String
    let method: String
    let path: String
    let status: Int
    let note: RequestNote
    /// The route's pattern (`/artifactory/{repo}/**`), the label requests are counted by.
    let route: String?
    let start: ContinuousClock.Instant

    func write(to logger: Logger, cut: Bool) {
        let elapsed = ContinuousClock.now - start
        let seen = note.state.withLock { $0 }
        HTTPMetrics.record(dialect: seen.dialect ?? "none", route: route ?? "unmatched", method: method, status: status, elapsed: elapsed)
        let millis = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request": .string(id), "method": .string(method), "path": .string(path), "status": .stringConvertible(status),
            "ms": .stringConvertible((millis * 10).rounded() / 10), "caller": .string(seen.caller ?? "-"),
        ]
        if cut { metadata["cut"] = "the connection ended before the body was sent" }
        logger.info("\(method) \(path) \(status)", metadata: metadata)
    }
}

/// The requests' figures at /metrics: a count by dialect, route pattern, method and status, and a duration
/// histogram by dialect, route and method (as the access line's `ms`). Route patterns keep the label sets bounded.
enum HTTPMetrics {
    struct Key: Hashable {
        var dialect: String
        var route: String
        var method: String
        var status: Int
    }

    struct Handles: Sendable {
        let counter: Counter
        let timer: CoreMetrics.Timer
    }

    static let handles = MetricHandles<Key, Handles>()

    static func record(dialect: String, route: String, method: String, status: Int, elapsed: Duration) {
        let handle = handles.handles(for: Key(dialect: dialect, route: route, method: method, status: status)) {
            Handles(
                counter: Counter(
                    label: "warden_http_requests_total",
                    dimensions: [("dialect", dialect), ("route", route), ("method", method), ("status", "\(status)")]),
                timer: CoreMetrics.Timer(
                    label: "warden_http_request_duration_seconds", dimensions: [("dialect", dialect), ("route", route), ("method", method)]))
        }
        handle.counter.increment()
        handle.timer.recordNanoseconds(elapsed.nanoseconds)
    }
}
