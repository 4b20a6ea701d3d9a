import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import WardenCore
import RunModel

/// Serves a worker's `context.clients.platformHttp` calls through the server's own router, in process: no socket,
/// the same routes, authentication and answers as an outside client gets.
///
/// Answers are collected into memory to hand them to the worker, so they are bounded: each at `maxAnswerBytes`
/// (a worker reads a larger file in ranges), and all answers being collected at once at `maxInFlightBytes`, so
/// that many workers reading large files at the same time cannot swell the server.
public final class InProcessPlatform: Sendable {
    let responder: Mutex<RouterResponder<WardenRequestContext>?> = Mutex(nil)
    let logger: Logger
    public let maxAnswerBytes: Int
    public let maxInFlightBytes: Int
    let inFlight = Atomic<Int>(0)

    public init(logger: Logger, maxAnswerBytes: Int = 8 << 20, maxInFlightBytes: Int = 64 << 20) {
        self.logger = logger
        self.maxAnswerBytes = maxAnswerBytes
        self.maxInFlightBytes = maxInFlightBytes
    }

    /// Binds the router once it exists (the pool that runs workers is made before it).
    public func attach(_ router: Router<WardenRequestContext>) {
        let built = router.buildResponder()
        responder.withLock { $0 = built }
    }

    /// Performs `call` (a path on this server) as the worker, with its short-lived token.
    public func perform(_ call: HostCall, token: String) async throws -> HostResponse {
        guard let responder = responder.withLock({ $0 }) else { throw WardenError(.unavailable, "the server is not ready for platform calls") }
        // A path with or without its leading slash, as the reference takes it; never a URL of another host.
        guard !call.url.isEmpty, !call.url.hasPrefix("//"), !call.url.contains("://") else {
            throw WardenError(.badRequest, "context.clients.platformHttp takes a path on this server (\"/worker/api/...\"), not '\(call.url)'")
        }
        let path = call.url.hasPrefix("/") ? call.url : "/" + call.url
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
                method: HTTPRequest.Method(call.method.uppercased()) ?? .get, scheme: "http", authority: "warden", path: path,
                headerFields: fields),
            body: RequestBody(buffer: body))
        let context = WardenRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let collector = Collector(platform: self)
        defer { collector.releaseAll() }
        try await response.body.write(CollectingWriter(collector: collector))
        var headers: [String: String] = [:]
        for field in response.headers { headers[field.name.rawName] = field.value }
        return HostResponse(status: Int(response.status.code), headers: headers, body: collector.text)
    }
}

/// One answer's body as it is collected, counted against the platform's budgets.
final class Collector: Sendable {
    let platform: InProcessPlatform
    let buffer = Mutex(ByteBuffer())
    let reserved = Atomic<Int>(0)
    var text: String { buffer.withLock { String(buffer: $0) } }

    init(platform: InProcessPlatform) { self.platform = platform }

    /// Takes `count` more bytes from the budgets, or fails the call naming the budget it would pass.
    func reserve(_ count: Int) throws {
        let total = reserved.load(ordering: .relaxed) + count
        guard total <= platform.maxAnswerBytes else {
            throw WardenError(
                .tooLarge,
                "the answer is larger than \(platform.maxAnswerBytes) bytes, more than a platformHttp call hands a worker; read it in parts with a Range header"
            )
        }
        let now = platform.inFlight.wrappingAdd(count, ordering: .relaxed).newValue
        guard now <= platform.maxInFlightBytes else {
            platform.inFlight.wrappingSubtract(count, ordering: .relaxed)
            throw WardenError(.unavailable, "the server is collecting too many large platformHttp answers at once; try again shortly")
        }
        reserved.wrappingAdd(count, ordering: .relaxed)
    }

    func releaseAll() {
        let count = reserved.exchange(0, ordering: .relaxed)
        platform.inFlight.wrappingSubtract(count, ordering: .relaxed)
    }
}

struct CollectingWriter: ResponseBodyWriter {
    let collector: Collector

    mutating func write(_ buffer: ByteBuffer) async throws {
        try collector.reserve(buffer.readableBytes)
        var buffer = buffer
        _ = collector.buffer.withLock { $0.writeBuffer(&buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
