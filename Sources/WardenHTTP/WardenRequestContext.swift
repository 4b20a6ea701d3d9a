import Hummingbird
import NIOCore

/// The request context of Warden's router: Hummingbird's basic one plus the peer's address, which the login
/// throttle counts by (a header such as X-Forwarded-For is the client's to choose, so it cannot be).
public struct WardenRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer; `nil` for requests made inside the server (a worker's platformHttp call).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or `""` when there is none.
    public var peerAddress: String { remoteAddress?.ipAddress ?? "" }
}
