import Hummingbird
import NIOCore
import Synchronization
import WardenCore

/// A request context that carries the caller, found once per request by a dialect's `CallerMiddleware`.
public protocol CallerRequestContext: RequestContext {
    var caller: Principal? { get set }
    /// Who called, through which dialect: what the request log reads once the answer is sent.
    var note: RequestNote { get }
}

/// Tags the requests of one dialect's routes with its name, for the request log and the metrics.
struct DialectMiddleware<Context: CallerRequestContext>: RouterMiddleware {
    let name: String
    init(_ name: String) { self.name = name }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        context.note.state.withLock { $0.dialect = name }
        return try await next(request, context)
    }
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
        didSet { note.state.withLock { $0.caller = caller?.name } }
    }
    /// The caller's name and the dialect as the access log sees them: the context is a value, and the middleware
    /// that writes the log line holds the copy from before they were known.
    public let note = RequestNote()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or `""` when there is none.
    public var peerAddress: String { remoteAddress?.ipAddress ?? "" }
}

/// Shared by every copy of one request's context: who called, through which dialect.
public final class RequestNote: Sendable {
    struct State {
        var caller: String?
        var dialect: String?
    }
    let state = Mutex(State())
}
