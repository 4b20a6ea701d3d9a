import Hummingbird
import WardenCore

/// A path no route matches (or a method a matched path does not take) is answered in the shape of the dialect whose
/// prefix it is under, as a matched route's refusals are, so that a client of that dialect can read it. Added to the
/// router after every route, it wraps only the router's not-found answer. Paths under no dialect keep the
/// framework's plain 404.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let refusal = WardenError(.notFound, "no such resource: \(request.method) \(request.uri.path)")
            let refuse: (Request, Context) async throws -> Response = { _, _ in throw refusal }
            let path = request.uri.path
            if path == "/artifactory" || path.hasPrefix("/artifactory/") || path.hasPrefix("/worker/api/") {
                return try await WorkerErrorMiddleware<Context>().handle(request, context: context, next: refuse)
            }
            if path.hasPrefix("/api/v4/") { return try await V4ErrorMiddleware<Context>().handle(request, context: context, next: refuse) }
            if path.hasPrefix("/api/tenant/") {
                return try await TenantErrorMiddleware<Context>().handle(request, context: context, next: refuse)
            }
            throw error
        }
    }
}
