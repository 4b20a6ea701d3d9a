import Hummingbird
import NIOCore
import Synchronization
import WardenCore

/// A request context that carries the caller, found once per request by a dialect's `CallerMiddleware`.
public protocol CallerRequestContext: RequestContext {
    var caller: Principal? { get set }
}

extension CallerRequestContext {
    /// The caller a `CallerMiddleware` found; a route behind one always has it.
    func requireCaller() throws -> Principal {
        guard let caller else { throw WardenError(.unauthorized, "credentials are required: send Authorization: Bearer <token>") }
        return caller
    }
}

/// Authenticates the request once, before its handler, and puts the caller in the context. The dialect says
/// which headers carry its credentials; a refusal is the dialect's, through the error middleware outside this one.
struct CallerMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let auth: RequestAuthenticator
    var credentials: RequestAuthenticator.Credentials = .authorization

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await auth.caller(of: request, credentials)
        return try await next(request, context)
    }
}

/// The request context of Warden's router: Hummingbird's basic one plus the peer's address, which the login
/// throttle counts by (a header such as X-Forwarded-For is the client's to choose, so it cannot be).
public struct WardenRequestContext: CallerRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer; `nil` for requests made inside the server (a worker's platformHttp call).
    public let remoteAddress: SocketAddress?
    /// Who sent the request, once a `CallerMiddleware` has authenticated it.
    public var caller: Principal? {
        didSet { seen.name.withLock { $0 = caller?.name } }
    }
    /// The caller's name as the access log sees it: the context is a value, and the middleware that writes the log
    /// line holds the copy from before the caller was found.
    let seen = SeenCaller()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or `""` when there is none.
    public var peerAddress: String { remoteAddress?.ipAddress ?? "" }
}

/// Shared by every copy of one request's context.
final class SeenCaller: Sendable {
    let name = Mutex<String?>(nil)
}
