import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The tenant dialect (seed 004, Zuul's REST API), as far as it goes today: the tenant list and a tenant's projects,
/// read anonymously, and two Warden admin routes that fill them (`POST /api/tenants`, `POST
/// /api/tenant/:tenant/projects`), which take the Warden admin token (docs/tenant-api.md).
struct TenantAPI<Context: RequestContext>: Sendable {
    let service: RunnerService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let routes = router.group("api").add(middleware: TenantErrorMiddleware<Context>())
        routes.get("tenants") { _, _ in
            let tenants = try await service.tenants()
            let projects = try await service.projects()
            return Response.json(
                tenants.map { tenant in ["name": tenant.name, "projects": projects.count { $0.tenantID == tenant.id }, "queue": 0] })
        }
        routes.post("tenants") { request, _ in
            let principal = try await auth.principal(for: request)
            let body = try await JSONBody.read(request)
            guard let name = try body.string("name") else { throw WardenError.invalid("name", "is required") }
            let tenant = try await service.createTenant(name: name, by: principal)
            return Response.json(["name": tenant.name, "projects": 0, "queue": 0], status: .created)
        }
        routes.get("tenant/{tenant}/projects") { _, context in
            let tenant = try await service.tenant(try context.parameters.require("tenant"))
            let projects = try await service.projects().filter { $0.tenantID == tenant.id }
            return Response.json(projects.map(Self.render))
        }
        routes.post("tenant/{tenant}/projects") { request, context in
            let principal = try await auth.principal(for: request)
            let tenant = try await service.tenant(try context.parameters.require("tenant"))
            let body = try await JSONBody.read(request)
            guard let reference = try body.string("project") ?? (body.object["project"] as? NSNumber)?.stringValue else {
                throw WardenError.invalid("project", "is required (a project id or path)")
            }
            let project = try await service.project(reference)
            return Response.json(Self.render(try await service.move(project, to: tenant, by: principal)))
        }
    }

    /// A project as Zuul lists it: `name` is the project's full path.
    @Sendable static func render(_ project: CIProject) -> [String: Any] {
        [
            "name": project.pathWithNamespace, "canonical_name": "warden/\(project.pathWithNamespace)", "connection_name": "warden",
            "type": "untrusted",
        ]
    }
}

/// Zuul answers an unknown tenant with an HTML page and other refusals as JSON `{error, description}`.
struct TenantErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as WardenError {
            let status = HTTPResponse.Status(error.code)
            if error.code == .notFound, error.message.hasPrefix("Unknown tenant") {
                let escaped = error.message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                return Response(
                    status: status, headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html><body><h1>404 Not Found</h1><p>\(escaped)</p></body></html>\n")))
            }
            return Response.json(["error": status.reasonPhrase, "description": error.message], status: status)
        }
    }
}
