import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import WardenCore
import WorkerRuntime

/// Serves a worker's `context.clients.platformHttp` calls through the server's own router, in process: no socket,
/// the same routes, authentication and answers as an outside client gets.
public final class InProcessPlatform: Sendable {
    let responder: Mutex<RouterResponder<BasicRequestContext>?> = Mutex(nil)
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Binds the router once it exists (the pool that runs workers is made before it).
    public func attach(_ router: Router<BasicRequestContext>) {
        let built = router.buildResponder()
        responder.withLock { $0 = built }
    }

    /// Performs `call` (a path on this server) as the worker, with its short-lived token.
    public func perform(_ call: HostCall, token: String) async throws -> HostResponse {
        guard let responder = responder.withLock({ $0 }) else { throw WardenError(.unavailable, "the server is not ready for platform calls") }
        guard call.url.hasPrefix("/") else {
            throw WardenError(.badRequest, "context.clients.platformHttp takes a path on this server (\"/worker/api/...\"), not '\(call.url)'")
        }
        var fields = HTTPFields()
        for (name, value) in call.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        fields[.authorization] = "Bearer \(token)"
        var body = ByteBuffer()
        switch call.body {
        case .text(let text):
            body = ByteBuffer(string: text)
        case .json(let json):
            body = ByteBuffer(string: json)
            if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        case nil:
            break
        }
        fields[.contentLength] = "\(body.readableBytes)"
        let request = Request(
            head: HTTPRequest(
                method: HTTPRequest.Method(call.method.uppercased()) ?? .get, scheme: "http", authority: "warden", path: call.url,
                headerFields: fields),
            body: RequestBody(buffer: body))
        let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let collector = Collector()
        try await response.body.write(CollectingWriter(collector: collector))
        var headers: [String: String] = [:]
        for field in response.headers { headers[field.name.rawName] = field.value }
        return HostResponse(status: Int(response.status.code), headers: headers, body: collector.text)
    }
}

final class Collector: Sendable {
    let buffer = Mutex(ByteBuffer())
    var text: String { buffer.withLock { String(buffer: $0) } }
}

struct CollectingWriter: ResponseBodyWriter {
    let collector: Collector

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collector.buffer.withLock { $0.writeBuffer(&buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
