import Hummingbird
import Synchronization
import WardenCore

/// Who may read `/metrics`.
public enum MetricsAccess: String, Sendable, CaseIterable {
    /// Anyone who reaches the server (the default when it listens on loopback only).
    case open
    /// Callers with a token (the default when it listens beyond loopback): make a user token for the scraper.
    case token
}

/// The server's own routes: its version under `/api` (any caller with a token; anonymous callers are refused, as a
/// version tells an attacker which flaws to try), and `/metrics` in Prometheus's text form. Workers never read the
/// metrics (they name other workers): a request from the in-process platform or with a run's token is refused.
struct SystemAPI<Context: CallerRequestContext & RemoteAddressRequestContext>: Sendable {
    let build: BuildInfo
    let auth: RequestAuthenticator
    /// The metrics' text, when the server keeps metrics.
    var metrics: (@Sendable () async -> String)?
    var metricsAccess: MetricsAccess = .open

    func register(on router: Router<Context>) {
        let api = router.group("api").add(middleware: DialectMiddleware<Context>("system")).add(middleware: WorkerErrorMiddleware<Context>())
        let callers = api.group().add(middleware: CallerMiddleware<Context>(auth: auth))
        callers.get("version") { _, context in
            _ = try context.requireCaller()
            return try Response.json(encoding: build)
        }
        let system = router.group().add(middleware: DialectMiddleware<Context>("system")).add(middleware: WorkerErrorMiddleware<Context>())
        let document = openAPIDocument(version: build.version)
        system.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: document)))
        }
        guard let metrics else { return }
        system.get("metrics") { request, context in
            guard context.remoteAddress != nil else { throw WardenError(.forbidden, "workers do not read the server's metrics") }
            if metricsAccess == .token || request.headers[.authorization] != nil {
                let caller = try await auth.caller(of: request, .authorization)
                guard let caller else {
                    throw WardenError(.unauthorized, "credentials are required: send Authorization: Bearer <token> (warden.metrics.access is token)")
                }
                guard caller.eventDepth == 0 else { throw WardenError(.forbidden, "workers do not read the server's metrics") }
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: await metrics())))
        }
    }
}

/// The OpenAPI 3.1 document of every route, as `/openapi.json` serves it (docs/openapi.json keeps a copy); made
/// once per version (every router built, the tests' included, serves it).
public func openAPIDocument(version: String) -> String {
    if let made = OpenAPIDocument.made.withLock({ $0[version] }) { return made }
    let text = OpenAPIDocument.json(version: version)
    OpenAPIDocument.made.withLock { $0[version] = text }
    return text
}

extension OpenAPIDocument {
    static let made = Mutex<[String: String]>([:])
}
