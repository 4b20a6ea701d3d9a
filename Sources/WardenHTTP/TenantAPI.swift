import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The tenant dialect (seed 004, Zuul's REST API, docs/tenant-api.md): tenants hold projects; their pipelines' runs
/// are buildsets and the runs' stages builds; admin calls take a JWT (or the Warden admin token). Every route is the
/// router's; project names keep their slashes in paths (`/api/tenant/t/project/acme/app/enqueue`), as zuul-client
/// sends them, so the routes that carry one end in a catch-all.
struct TenantAPI<Context: CallerRequestContext>: Sendable {
    let runners: RunnerService
    let service: TenantService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let api = router.group("api").add(middleware: DialectMiddleware<Context>("tenant")).add(middleware: TenantErrorMiddleware<Context>())
        api.get("info") { request, _ in Response.json(["info": info(request, tenant: nil)]) }
        api.get("tenants") { _, _ in
            let tenants = try await service.tenants()
            let projects = try await runners.projects()
            return Response.json(
                tenants.map { tenant in ["name": tenant.name, "projects": projects.count { $0.tenantID == tenant.id }, "queue": 0] })
        }
        api.post("tenants") { request, _ in
            let principal = try await auth.principal(for: request)
            let body = try await JSONBody.read(request)
            guard let name = try body.string("name") else { throw WardenError.invalid("name", "is required") }
            let tenant = try await runners.createTenant(name: name, by: principal)
            return Response.json(["name": tenant.name, "projects": 0, "queue": 0], status: .created)
        }
        api.get("connections") { _, _ in Response.json([["name": "warden", "driver": "warden", "baseurl": NSNull()]]) }
        api.get("components") { _, _ in
            Response.json(["web": [["hostname": ProcessInfo.processInfo.hostName, "state": "running", "version": Self.version]]])
        }
        api.get("authorizations") { request, _ in
            Response.json(["zuul": ["admin": try await adminTenants(request)]])
        }
        registerTenantRoutes(on: api)
        // `**`: a build's files are paths (`zuul-info/inventory.yaml`).
        router.group("logs").add(middleware: DialectMiddleware<Context>("tenant")).add(middleware: TenantErrorMiddleware<Context>()).get(
            "{tenant}/{build}/**"
        ) { request, _ in
            try await buildLog(request)
        }
    }

    static var version: String { "warden" }

    func base(_ request: Request) -> String { "http://\(request.head.authority ?? "127.0.0.1")" }

    func info(_ request: Request, tenant: String?) -> [String: Any] {
        var info: [String: Any] = [
            "capabilities": [
                "job_history": true,
                "auth": [
                    "realms": [service.auth.realm: ["authority": service.auth.realm, "client_id": "warden", "type": "JWT", "driver": "HS256"]],
                    "default_realm": service.auth.realm, "read_protected": false,
                ],
            ],
            "websocket_url": NSNull(), "stats": ["url": NSNull(), "prefix": NSNull(), "type": NSNull()],
        ]
        if let tenant { info["tenant"] = tenant }
        return info
    }

    /// The tenants the caller administers (`[]` for an anonymous caller).
    func adminTenants(_ request: Request) async throws -> [String] {
        guard request.headers[.authorization] != nil else { return [] }
        var names: [String] = []
        for tenant in try await service.tenants()
        where await isAdmin(request, tenant) {
            names.append(tenant.name)
        }
        return names
    }

    // MARK: Routes under /api/tenant/{tenant}/

    /// Every route of a tenant: the tenant is read first (an unknown one is Zuul's HTML 404), then `rest`, the
    /// percent-decoded segments after it, goes to the handler. `count` is how many segments the route has (at least
    /// that many for a catch-all); the handlers index `rest` within it.
    func registerTenantRoutes(on api: RouterGroup<Context>) {
        api.get("tenant/{tenant}/info") { request, context in
            Response.json(["info": info(request, tenant: try context.parameters.requireDecoded("tenant"))])
        }
        on(api, .get, "projects", count: 1) { request, tenant, rest in
            return Response.json(try await service.projects(of: tenant).map(Self.render))
        }
        on(api, .post, "projects", count: 1) { request, tenant, rest in
            let principal = try await auth.principal(for: request)
            let body = try await JSONBody.read(request)
            guard let reference = try body.string("project") ?? (body.object["project"] as? NSNumber)?.stringValue else {
                throw WardenError.invalid("project", "is required (a project id or path)")
            }
            let project = try await runners.project(reference)
            return Response.json(Self.render(try await runners.move(project, to: tenant, by: principal)))
        }
        // `**`: a project name keeps its slashes (`acme/app`), as zuul-client sends it.
        for method: HTTPRequest.Method in [.get, .post, .put, .delete] {
            on(api, method, "project/**", count: 2, catchAll: true) { request, tenant, rest in
                return try await projectRoute(request, tenant: tenant, Array(rest.dropFirst()))
            }
        }
        on(api, .get, "autohold", count: 1) { request, tenant, rest in
            let projects = try await runners.projects()
            return Response.json(try await service.autoholds(of: tenant).map { render($0, tenant: tenant, projects: projects) })
        }
        on(api, .get, "autohold/{id}", count: 2) { request, tenant, rest in
            return Response.json(render(try await service.autohold(id: rest[1], of: tenant), tenant: tenant, projects: try await runners.projects()))
        }
        on(api, .delete, "autohold/{id}", count: 2) { request, tenant, rest in
            try await requireAdmin(request, tenant)
            try await service.deleteAutohold(id: rest[1], of: tenant)
            return Response(status: .noContent)
        }
        on(api, .post, "promote", count: 1) { request, tenant, rest in
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let pipeline = try body.string("pipeline") else { throw WardenError.invalid("pipeline", "is required") }
            try await service.promote(tenant: tenant, pipeline: pipeline, changes: try body.strings("changes") ?? [])
            return Response.json(true)
        }
        on(api, .get, "builds", count: 1) { request, tenant, rest in
            let builds = try await service.builds(of: tenant, filter: try Self.filter(request), for: await reader(request, tenant))
            return Response.json(builds.map { render($0, tenant: tenant, request: request) })
        }
        on(api, .get, "build/{uuid}", count: 2) { request, tenant, rest in
            let build = try await service.build(uuid: rest[1], of: tenant, for: await reader(request, tenant))
            return Response.json(render(build, tenant: tenant, request: request))
        }
        on(api, .get, "buildsets", count: 1) { request, tenant, rest in
            let sets = try await service.buildsets(of: tenant, filter: try Self.filter(request), for: await reader(request, tenant))
            return Response.json(sets.map { render($0, request: request, tenant: tenant, withBuilds: false) })
        }
        on(api, .get, "buildset/{uuid}", count: 2) { request, tenant, rest in
            let set = try await service.buildset(uuid: rest[1], of: tenant, for: await reader(request, tenant))
            return Response.json(render(set, request: request, tenant: tenant, withBuilds: true))
        }
        on(api, .get, "badge", count: 1) { request, tenant, rest in
            return try await badge(request, tenant)
        }
        // `**`: the key of a project whose name keeps its slashes, ending `.pub`: its secrets' key, or its SSH key.
        for kind in ["key", "project-ssh-key"] {
            on(api, .get, "\(kind)/**", count: 2, catchAll: true) { request, tenant, rest in
                let joined = rest.dropFirst().joined(separator: "/")
                guard joined.hasSuffix(".pub") else { throw WardenError(.notFound, "no such key: \(joined)") }
                let project = try await service.project(String(joined.dropLast(4)), in: tenant)
                let text =
                    kind == "key"
                    ? try await service.projectPublicKey(project)
                    : try await service.sshPublicKey(owner: "project:\(project.id)", comment: "project-\(project.pathWithNamespace)")
                return Self.text(text)
            }
        }
        on(api, .get, "tenant-ssh-key/ssh.pub", count: 2) { request, tenant, rest in
            return Self.text(try await service.sshPublicKey(owner: "tenant:\(tenant.id)", comment: "tenant-\(tenant.name)"))
        }
        on(api, .get, "pipelines", count: 1) { request, tenant, rest in
            let names = Set(try await service.pipelines(of: tenant).map(\.name)).sorted()
            return Response.json(names.map { ["name": $0, "triggers": [["name": "warden", "driver": "warden"]]] })
        }
        on(api, .get, "jobs", count: 1) { request, tenant, rest in
            return Response.json(try await jobs(tenant).map { ["name": $0.key, "description": "", "tags": [], "variants": $0.value] })
        }
        on(api, .get, "job/{name}", count: 2) { request, tenant, rest in
            guard let variants = try await jobs(tenant)[rest[1]] else { throw WardenError(.notFound, "Job \(rest[1]) not found") }
            return Response.json(variants.map { $0.merging(["name": rest[1]]) { old, _ in old } })
        }
        // `**`: `<pipeline>/project/<name…>/branch/<branch…>/freeze-job(s)`: names keep their slashes. Read only.
        on(api, .get, "pipeline/**", count: 2, catchAll: true) { request, tenant, rest in
            return try await freeze(request, tenant, Array(rest.dropFirst()))
        }
        on(api, .get, "state", count: 1) { request, tenant, rest in
            return Response.json(Self.render(try await service.state(of: tenant)))
        }
        on(api, .post, "state", count: 1) { request, tenant, rest in
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            let patch = TenantStatePatch(
                triggerQueueDiscarding: try body.bool("trigger_queue_discarding"), triggerQueuePaused: try body.bool("trigger_queue_paused"),
                resultQueuePaused: try body.bool("result_queue_paused"),
                reason: body.has("reason") ? .some(try body.string("reason")) : nil)
            try await service.patchState(patch, of: tenant)
            return Response.json(NSNull())
        }
        on(api, .get, "nodes", count: 1) { request, tenant, rest in
            return Response.json(try await service.nodes(of: tenant).map(Self.render))
        }
        on(api, .put, "nodes/{node}", count: 2) { request, tenant, rest in
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let state = try body.string("state") else { throw WardenError.invalid("state", "is required: hold or used") }
            try await service.setNodeState(state, node: rest[1], of: tenant)
            return Response.json(NSNull(), status: .created)
        }
        on(api, .get, "nodeset-requests", count: 1) { request, tenant, rest in
            return Response.json([Any]())
        }
        on(api, .delete, "nodeset-requests/{id}", count: 2) { request, tenant, rest in
            try await requireAdmin(request, tenant)
            throw WardenError(.notFound, "Nodeset request \(rest[1]) not found: runs are given a runner when they start")
        }
        on(api, .get, "labels", count: 1) { request, tenant, rest in
            let labels = Set(try await service.nodes(of: tenant).flatMap(\.tags)).sorted()
            return Response.json(labels.map { ["name": $0] })
        }
        on(api, .get, "status", count: 1) { request, tenant, rest in
            return Response.json(try await status(request, tenant))
        }
        on(api, .get, "status/change/{id}", count: 3) { request, tenant, rest in
            let items = (try await status(request, tenant)["pipelines"] as? [[String: Any]] ?? []).flatMap {
                (($0["change_queues"] as? [[String: Any]])?.first?["heads"] as? [[[String: Any]]])?.flatMap { $0 } ?? []
            }
            return Response.json(items.filter { ($0["id"] as? String)?.hasPrefix(rest[2]) == true })
        }
        on(api, .get, "tenant-status", count: 1) { request, tenant, rest in
            return Response.json(["name": tenant.name, "state": Self.render(try await service.state(of: tenant))])
        }
        on(api, .get, "authorizations", count: 1) { request, tenant, rest in
            let admin = await isAdmin(request, tenant)
            return Response.json(["zuul": ["admin": admin, "scope": [tenant.name]]])
        }
        on(api, .get, "build-times", count: 1) { request, tenant, rest in
            var filter = try Self.filter(request)
            filter.complete = true
            return Response.json(
                try await service.builds(of: tenant, filter: filter, for: await reader(request, tenant)).map {
                    [
                        "job_name": $0.job.name, "project": $0.project.pathWithNamespace, "pipeline": $0.pipeline.name,
                        "result": $0.result ?? NSNull(),
                        "start_time": Self.zuulTime($0.job.startedAt), "end_time": Self.zuulTime($0.job.finishedAt),
                        "duration": Self.duration($0.job) ?? NSNull(),
                    ] as [String: Any]
                })
        }
        for resource in ["semaphores", "config-errors", "system-events", "images", "flavors", "providers"] {
            // Warden has no semaphores, configuration files, image builds or cloud providers: real and empty.
            on(api, .get, resource, count: 1) { _, _, _ in Response.json([Any]()) }
        }
    }

    /// Registers `handler` for `method` on `tenant/{tenant}/<path>`.
    func on(
        _ api: RouterGroup<Context>, _ method: HTTPRequest.Method, _ path: String, count: Int, catchAll: Bool = false,
        _ handler: @escaping @Sendable (Request, CITenant, [String]) async throws -> Response
    ) {
        api.on(RouterPath(stringLiteral: "tenant/{tenant}/\(path)"), method: method) { request, context in
            let tenant = try await service.tenant(try context.parameters.requireDecoded("tenant"))
            let rest = Array(RequestPath.segments(of: request.uri.path).dropFirst(3))
            // The router's segments may be empty ones (`//`) that these, percent-decoded, omit.
            guard catchAll ? rest.count >= count : rest.count == count else {
                throw WardenError(.notFound, "no such resource: \(request.method) \(request.uri.path)")
            }
            return try await handler(request, tenant, rest)
        }
    }

}

/// Zuul answers an unknown tenant with an HTML page, authentication refusals as JSON `{error, description, realm}`
/// with `WWW-Authenticate` (403 with an empty body for a valid token that may not act), and other refusals as JSON
/// `{error, description}`.
struct TenantErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as TenantAuthError {
            switch refusal.kind {
            case .forbidden:
                return Response(status: .forbidden)
            case .missing, .invalid:
                var response = Response.json(
                    ["error": refusal.error, "description": refusal.description, "realm": refusal.realm], status: .unauthorized)
                let code = refusal.kind == .missing ? "invalid_request" : "invalid_token"
                response.headers[.wwwAuthenticate] =
                    "Bearer realm=\"\(refusal.realm)\" error=\"\(code)\" error_description=\"\(refusal.description.replacingOccurrences(of: "\"", with: "'"))\""
                return response
            }
        } catch let error as WardenError {
            let status = HTTPResponse.Status(error.code)
            if error.code == .notFound, error.resource == .tenant {
                let escaped = error.message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                return Response(
                    status: status, headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html><body><h1>404 Not Found</h1><p>\(escaped)</p></body></html>\n")))
            }
            return Response.json(["error": status.reasonPhrase, "description": error.message], status: status)
        }
    }
}
