import HTTPTypes
import Hummingbird
import HummingbirdCore
import Foundation
import HummingbirdTLS
import NIOSSL
import NIOCore
import NIOHTTPTypes
import Synchronization
import WardenCore

/// How many connections the server keeps and for how long (issue: 20,000 half-open sockets used up every file
/// descriptor and every request timed out).
public struct ConnectionLimits: Sendable {
    /// Connections past this many get a 503 to their first request and are closed.
    public var maxConnections: Int
    /// A connection that sends no request (or nothing more of one) for this long is closed; a request whose head
    /// has not arrived by then is closed too, since nothing of it counts as activity until its head is complete.
    public var idleTimeout: Duration

    /// HTTPS with this certificate and key (`--tls-cert`, `--tls-key`); plain HTTP when `nil`.
    public var tls: ServerTLS?

    /// `https` when the server serves TLS, else `http`: what its URL starts with.
    public var scheme: String { tls == nil ? "http" : "https" }

    public init(maxConnections: Int = 2_000, idleTimeout: Duration = .seconds(15), tls: ServerTLS? = nil) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.tls = tls
    }

    /// Past `maxConnections` plus this many refusals under way, the server stops accepting until one closes: the
    /// refusals themselves are bounded, and the rest wait in the kernel's backlog.
    static let refusalSlots = 64
}

/// The connections open right now, shared by every event loop.
final class ConnectionCounter: Sendable {
    let open = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts one more; answers whether it is within the limit.
    func opened() -> Bool { open.wrappingAdd(1, ordering: .relaxed).newValue <= limit }

    func closed() { open.wrappingSubtract(1, ordering: .relaxed) }
}

/// Counts a connection while it is open; one that came past the limit answers its first request with 503
/// (`Connection: close`) and is closed, so a client is told why rather than left waiting.
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let counter: ConnectionCounter
    var counted = false
    var refusing = false

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { count() }
    }

    func channelActive(context: ChannelHandlerContext) {
        count()
        context.fireChannelActive()
    }

    func count() {
        guard !counted else { return }
        counted = true
        refusing = !counter.opened()
    }

    func uncount() {
        guard counted else { return }
        counted = false
        counter.closed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        uncount()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { uncount() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusing else {
            context.fireChannelRead(data)
            return
        }
        guard case .head = unwrapInboundIn(data) else { return }
        let body = ByteBuffer(
            string: #"{"errors":[{"status":503,"message":"the server has too many open connections; try again shortly"}]}"#)
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.contentLength] = "\(body.readableBytes)"
        head.headerFields[.connection] = "close"
        head.headerFields[.retryAfter] = "1"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension ConnectionLimits {
    /// The HTTP/1 server with the idle timeout and the counting handler.
    func server() throws -> HTTPServerBuilder {
        let counter = ConnectionCounter(limit: maxConnections)
        let http: HTTPServerBuilder = .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(counter: counter)], idleTimeout: TimeAmount(idleTimeout)))
        guard let tls else { return http }
        return try .tls(http, tlsConfiguration: tls.configuration)
    }

    func applicationConfiguration(host: String, port: Int, serverName: String) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: serverName,
            // Hummingbird's cap on accepted connections, a little above ours so that refusals can still be answered.
            availableConnectionsDelegate: MaximumAvailableConnections(Checked.sum(maxConnections, Self.refusalSlots)))
    }
}

/// A certificate chain and its private key for HTTPS, read from PEM files when the server starts: a file that is
/// missing or does not parse stops it, naming the file.
public struct ServerTLS: Sendable {
    let configuration: TLSConfiguration

    public init(certificateFile: String, keyFile: String) throws {
        for (option, file) in [("--tls-cert", certificateFile), ("--tls-key", keyFile)] {
            guard FileManager.default.fileExists(atPath: file) else { throw WardenError.invalid(option, "'\(file)': no such file") }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw WardenError.invalid(option, "'\(file)' cannot be read by this process")
            }
        }
        let chain = (try? NIOSSLCertificate.fromPEMFile(certificateFile)) ?? []
        guard !chain.isEmpty else { throw WardenError.invalid("--tls-cert", "'\(certificateFile)' holds no PEM certificate") }
        guard let key = try? NIOSSLPrivateKey(file: keyFile, format: .pem) else {
            throw WardenError.invalid("--tls-key", "'\(keyFile)' holds no PEM private key (an encrypted key is not read)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        self.configuration = configuration
    }
}
