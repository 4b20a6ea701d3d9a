import Hummingbird
import NIOCore
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

/// Authenticates the request once, before its handler, and puts the caller in the context: the routes of a group
/// behind it all need credentials (a refusal is the dialect's, through the error middleware outside this one).
struct CallerMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let auth: RequestAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await auth.principal(for: request)
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
    public var caller: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or `""` when there is none.
    public var peerAddress: String { remoteAddress?.ipAddress ?? "" }
}

/// The artifact dialect's caller: its `X-JFrog-Art-Api` key, else its `Authorization`; none is an anonymous caller
/// (what it may read is the core's to say), a wrong one is refused.
struct OptionalCallerMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let auth: RequestAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let key = request.headers[.xJFrogArtApi], !key.isEmpty {
            context.caller = try await auth.authenticator.principal(forToken: key)
        } else if request.headers[.authorization] != nil {
            context.caller = try await auth.principal(for: request)
        }
        return try await next(request, context)
    }
}
