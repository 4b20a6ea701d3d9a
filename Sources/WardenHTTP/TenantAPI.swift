import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The tenant dialect (seed 004, Zuul's REST API, docs/tenant-api.md): tenants hold projects; their pipelines' runs
/// are buildsets and the runs' stages builds; admin calls take a JWT (or the Warden admin token). Every route is the
/// router's; project names keep their slashes in paths (`/api/tenant/t/project/acme/app/enqueue`), as zuul-client
/// sends them, so the routes that carry one end in a catch-all.
struct TenantAPI<Context: RequestContext>: Sendable {
    let runners: RunnerService
    let service: TenantService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let api = router.group("api").add(middleware: TenantErrorMiddleware<Context>())
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
        router.group("logs").add(middleware: TenantErrorMiddleware<Context>()).get("{tenant}/{build}/**") { request, _ in
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
            Response.json(["info": info(request, tenant: try Self.tenantName(context))])
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
        // `**`: the key of a project whose name keeps its slashes, ending `.pub`.
        on(api, .get, "key/**", count: 2, catchAll: true) { request, tenant, rest in
            let joined = rest.dropFirst().joined(separator: "/")
            guard joined.hasSuffix(".pub") else { throw WardenError(.notFound, "no such key: \(joined)") }
            let project = try await service.project(String(joined.dropLast(4)), in: tenant)
            let text =
                rest[0] == "key"
                ? try await service.projectPublicKey(project)
                : try await service.sshPublicKey(owner: "project:\(project.id)", comment: "project-\(project.pathWithNamespace)")
            return Self.text(text)
        }
        on(api, .get, "project-ssh-key/**", count: 2, catchAll: true) { request, tenant, rest in
            let joined = rest.dropFirst().joined(separator: "/")
            guard joined.hasSuffix(".pub") else { throw WardenError(.notFound, "no such key: \(joined)") }
            let project = try await service.project(String(joined.dropLast(4)), in: tenant)
            let text =
                rest[0] == "key"
                ? try await service.projectPublicKey(project)
                : try await service.sshPublicKey(owner: "project:\(project.id)", comment: "project-\(project.pathWithNamespace)")
            return Self.text(text)
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
        // `**`: `<pipeline>/project/<name…>/branch/<branch…>/freeze-job(s)`: names keep their slashes.
        for method: HTTPRequest.Method in [.get, .post, .put, .delete] {
            on(api, method, "pipeline/**", count: 2, catchAll: true) { request, tenant, rest in
                return try await freeze(request, tenant, Array(rest.dropFirst()))
            }
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
            let tenant = try await service.tenant(try Self.tenantName(context))
            let rest = Array(Self.segments(of: request.uri.path).dropFirst(3))
            // The router's segments may be empty ones (`//`) that these, percent-decoded, omit.
            guard catchAll ? rest.count >= count : rest.count == count else {
                throw WardenError(.notFound, "no such resource: \(request.method) \(request.uri.path)")
            }
            return try await handler(request, tenant, rest)
        }
    }

    static func tenantName(_ context: Context) throws -> String {
        let raw = try context.parameters.require("tenant")
        return raw.removingPercentEncoding ?? raw
    }

    /// Percent-decoded, non-empty path segments.
    static func segments(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
    }

    /// `/project/<name…>[/autohold|/enqueue|/dequeue]`.
    func projectRoute(_ request: Request, tenant: CITenant, _ rest: [String]) async throws -> Response {
        guard !rest.isEmpty else { throw WardenError(.notFound, "no project named") }
        let actions = ["autohold", "enqueue", "dequeue"]
        let action = rest.count > 1 ? rest.last.flatMap { actions.contains($0) ? $0 : nil } : nil
        let name = (action == nil ? rest : Array(rest.dropLast())).joined(separator: "/")
        switch (request.method, action) {
        case (.get, nil):
            let project = try await service.project(name, in: tenant)
            let pipelines = try await service.pipelines(of: tenant).filter { $0.projectID == project.id }
            var rendered = Self.render(project)
            rendered["configs"] = [
                [
                    "source_context": ["project": project.pathWithNamespace, "branch": "main", "path": "warden"],
                    "is_template": false, "templates": [], "default_branch": "main", "merge_mode": "merge-resolve",
                    "pipelines": pipelines.map { ["name": $0.name, "queue_name": NSNull(), "jobs": [$0.plan.stages.map { ["name": $0.name] }]] },
                ]
            ]
            return Response.json(rendered)
        case (.get, "autohold"):
            let project = try await service.project(name, in: tenant)
            let projects = try await runners.projects()
            return Response.json(
                try await service.autoholds(of: tenant).filter { $0.projectID == project.id }.map { render($0, tenant: tenant, projects: projects) })
        case (.post, "autohold"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            _ = try await service.autohold(
                tenant: tenant, project: name, job: try body.string("job") ?? "", change: try Self.text(body, "change"),
                ref: try Self.text(body, "ref"), reason: try body.string("reason") ?? "", count: try Self.integer(body, "count") ?? 1,
                nodeExpiration: try Self.integer(body, "node_hold_expiration") ?? 86_400)
            return Response.json(true)
        case (.post, "enqueue"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let pipeline = try body.string("pipeline") else { throw WardenError.invalid("pipeline", "is required") }
            var event = RunEvent()
            if let change = try Self.text(body, "change") {
                let parts = change.split(separator: ",", maxSplits: 1).map(String.init)
                guard let number = Int(parts[0]) else { throw WardenError.invalid("change", "'\(change)' is not <number>[,<patchset>]") }
                event.change = number
                event.patchset = parts.count > 1 ? parts[1] : "1"
            }
            event.ref = try Self.text(body, "ref")
            event.oldrev = try Self.text(body, "oldrev")
            event.newrev = try Self.text(body, "newrev")
            _ = try await service.enqueue(tenant: tenant, project: name, pipeline: pipeline, event: event)
            return Response.json(true)
        case (.post, "dequeue"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let pipeline = try body.string("pipeline") else { throw WardenError.invalid("pipeline", "is required") }
            try await service.dequeue(
                tenant: tenant, project: name, pipeline: pipeline, change: try Self.text(body, "change"), ref: try Self.text(body, "ref"))
            return Response.json(true)
        default:
            throw WardenError(.notFound, "no such resource: \(request.method) \(request.uri.path)")
        }
    }

    /// `/pipeline/<p>/project/<name…>/branch/<b…>/freeze-jobs` and `…/freeze-job/<job>`.
    func freeze(_ request: Request, _ tenant: CITenant, _ rest: [String]) async throws -> Response {
        var parts = rest
        var job: String?
        if parts.last == "freeze-jobs" {
            parts.removeLast()
        } else if parts.count >= 2, parts[parts.count - 2] == "freeze-job" {
            job = parts.removeLast()
            parts.removeLast()
        } else {
            throw WardenError(.notFound, "no such resource: \(request.uri.path)")
        }
        guard parts.count >= 5, parts[1] == "project", let branchIndex = parts.dropFirst(3).firstIndex(of: "branch"), branchIndex + 1 < parts.count
        else { throw WardenError(.notFound, "no such resource: \(request.uri.path)") }
        let pipeline = parts[0]
        let project = parts[2..<branchIndex].joined(separator: "/")
        let branch = parts[(branchIndex + 1)...].joined(separator: "/")
        if let job {
            let (found, stage) = try await service.frozenJob(tenant: tenant, pipeline: pipeline, project: project, job: job)
            var environment: [String: String] = [:]
            for variable in stage.environment {
                let pair = variable.split(separator: "=", maxSplits: 1).map(String.init)
                environment[pair[0]] = pair.count > 1 ? pair[1] : ""
            }
            return Response.json([
                "job": stage.name, "branch": branch, "timeout": NSNull(), "post_timeout": NSNull(), "ansible_version": NSNull(),
                "workspace_scheme": "golang", "override_checkout": NSNull(),
                "nodeset": [
                    "name": found.tags.isEmpty ? "untagged" : found.tags.joined(separator: "+"), "nodes": [["name": "runner", "label": found.tags]],
                    "groups": [],
                ],
                "vars": ["image": stage.image, "runtime": stage.runtime ?? NSNull(), "environment": environment, "script": stage.script],
                "pre_playbooks": [], "playbooks": [], "post_playbooks": [], "cleanup_playbooks": [],
            ])
        }
        let jobs = try await service.frozenJobs(tenant: tenant, pipeline: pipeline, project: project)
        return Response.json(jobs.map { ["name": $0.name, "dependencies": $0.dependencies.map { ["name": $0, "soft": false] }] })
    }

    // MARK: Reading rules

    func requireAdmin(_ request: Request, _ tenant: CITenant) async throws {
        _ = try await service.auth.admin(authorization: request.headers[.authorization], tenant: tenant.name)
    }

    /// Whether the request's token administers the tenant (a refused or missing token does not).
    func isAdmin(_ request: Request, _ tenant: CITenant) async -> Bool {
        (try? await service.auth.admin(authorization: request.headers[.authorization], tenant: tenant.name)) != nil
    }

    /// Who the caller is to the tenant's builds (the core decides what each may read).
    func reader(_ request: Request, _ tenant: CITenant) async -> TenantReader {
        await isAdmin(request, tenant) ? .admin : .anyone
    }

    /// `/logs/<tenant>/<build uuid>/job-output.txt` (the build's stage of the run log) and
    /// `/logs/<tenant>/<build uuid>/zuul-info/inventory.yaml`.
    func buildLog(_ request: Request) async throws -> Response {
        let segments = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard segments.count >= 4 else { throw WardenError(.notFound, "no such log") }
        let tenant = try await service.tenant(segments[1])
        let build = try await service.build(uuid: segments[2], of: tenant, for: await reader(request, tenant))
        switch segments.dropFirst(3).joined(separator: "/") {
        case "job-output.txt":
            return Self.text(try await service.log(of: build))
        case "zuul-info/inventory.yaml":
            let node = build.runner.map(TenantService.nodeName) ?? "runner"
            let stage = build.pipeline.plan.stages.first { $0.name == build.job.name }
            return Self.text(
                """
                all:
                  hosts:
                    \(node):
                      warden_image: "\(stage?.image ?? "")"
                  vars:
                    zuul:
                      build: \(build.job.uuid)
                      buildset: \(build.run.uuid)
                      job: "\(build.job.name)"
                      pipeline: "\(build.pipeline.name)"
                      project:
                        name: "\(build.project.pathWithNamespace)"
                      tenant: "\(tenant.name)"

                """)
        default:
            throw WardenError(.notFound, "no such log file")
        }
    }

    // MARK: Rendering

    static func text(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A string field that may arrive as a number (zuul-client sends change ids as given).
    static func text(_ body: JSONBody, _ key: String) throws -> String? {
        guard body.has(key) else { return nil }
        if let number = body.object[key] as? NSNumber, !Checked.isBoolean(number) { return number.stringValue }
        // zuul-client sends the option it was not given as "".
        return try body.string(key).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func integer(_ body: JSONBody, _ key: String) throws -> Int? {
        guard body.has(key) else { return nil }
        if let number = Checked.wholeNumber(body.object[key]) { return Int(number) }
        if let text = body.object[key] as? String, let number = Int(text) { return number }
        throw WardenError.invalid(key, "must be a whole number that fits in 64 bits")
    }

    /// "YYYY-MM-DDTHH:MM:SS", UTC without a zone, as Zuul writes times.
    static func zuulTime(_ millis: Int64?) -> Any {
        guard let millis else { return NSNull() }
        return String(ISOTime.format(millis: millis).prefix(19))
    }

    static func duration(_ job: CIJob) -> Double? {
        guard let start = job.startedAt, let end = job.finishedAt else { return nil }
        return Double(end - start) / 1000
    }

    static func filter(_ request: Request) throws -> BuildFilter {
        let query = request.uri.queryParameters
        func value(_ key: String) -> String? { query.get(key).flatMap { $0.isEmpty ? nil : $0 } }
        func flag(_ key: String) throws -> Bool? {
            guard let text = value(key) else { return nil }
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw WardenError.invalid(key, "'\(text)' is neither true nor false")
            }
        }
        func number(_ key: String) throws -> Int64? {
            guard let text = value(key) else { return nil }
            guard let number = Int64(text), number >= 0 else { throw WardenError.invalid(key, "'\(text)' is not a whole number") }
            return number
        }
        var filter = BuildFilter()
        filter.project = value("project")
        filter.pipeline = value("pipeline")
        filter.change = value("change")
        filter.branch = value("branch")
        filter.patchset = value("patchset")
        filter.ref = value("ref")
        filter.newrev = value("newrev")
        filter.uuid = value("uuid")
        filter.jobName = value("job_name")
        filter.nodeName = value("node_name")
        filter.result = query[values: "result"].map(String.init).filter { !$0.isEmpty }
        filter.excludeResult = query[values: "exclude_result"].map(String.init).filter { !$0.isEmpty }
        filter.final = try flag("final")
        filter.held = try flag("held")
        filter.complete = try flag("complete")
        filter.voting = try flag("voting")
        filter.idxMin = try number("idx_min")
        filter.idxMax = try number("idx_max")
        filter.limit = Int(try number("limit") ?? 50)
        filter.skip = Int(try number("skip") ?? 0)
        return filter
    }

    @Sendable static func render(_ project: CIProject) -> [String: Any] {
        [
            "name": project.pathWithNamespace, "canonical_name": "warden/\(project.pathWithNamespace)", "connection_name": "warden",
            "type": "untrusted",
        ]
    }

    static func render(_ state: TenantState) -> [String: Any] {
        [
            "trigger_queue_discarding": state.triggerQueueDiscarding, "trigger_queue_paused": state.triggerQueuePaused,
            "result_queue_paused": state.resultQueuePaused, "reason": state.reason ?? NSNull(),
        ]
    }

    @Sendable static func render(_ runner: Runner) -> [String: Any] {
        [
            "id": TenantService.nodeName(runner), "uuid": runner.uuid, "labels": runner.tags, "type": runner.tags, "connection_type": "http",
            "provider": "warden", "external_id": runner.url ?? NSNull(), "state": runner.active ? "ready" : "hold",
            "state_time": runner.contactedAt.map { Double($0) / 1000 } ?? Double(runner.createdAt) / 1000,
            "comment": runner.description,
        ]
    }

    func render(_ request: Autohold, tenant: CITenant, projects: [CIProject]) -> [String: Any] {
        let project = projects.first { $0.id == request.projectID }
        return [
            "id": "\(request.id)", "tenant": tenant.name, "project": project?.pathWithNamespace ?? "", "job": request.job,
            "ref_filter": request.refFilter, "max_count": request.maxCount, "current_count": request.currentCount, "reason": request.reason,
            "node_expiration": request.nodeExpiration,
            // Zuul's `expired`: when the last hold ends (epoch seconds), once the request has held all it asked for.
            "expired": request.isDone
                ? request.nodes.compactMap { request.releaseTime(of: $0) }.max().map { Double($0) / 1000 } ?? NSNull() : NSNull(),
            "nodes": request.nodes.map { ["build": $0.build, "nodes": $0.nodes] },
        ]
    }

    func ref(_ run: CIRun, _ project: CIProject, request: Request) -> [String: Any] {
        let event = run.event
        return [
            "project": project.pathWithNamespace, "branch": RunEvent.branch(of: event) ?? NSNull(), "change": event?.change ?? NSNull(),
            "patchset": event?.patchset ?? NSNull(), "ref": RunEvent.ref(of: event), "oldrev": event?.oldrev ?? NSNull(),
            "newrev": event?.newrev ?? NSNull(), "ref_url": "\(base(request))/\(project.pathWithNamespace)",
        ]
    }

    func render(_ build: TenantBuild, tenant: CITenant, request: Request) -> [String: Any] {
        let base = base(request)
        let artifacts: [[String: Any]] =
            build.isLastStage
            ? build.run.archived.map {
                [
                    "name": $0,
                    "url": "\(base)/artifactory/\(build.pipeline.archiveRepository)/\(build.pipeline.id)/\(build.run.id)/\($0)",
                ]
            } : []
        return [
            "_id": build.job.id, "uuid": build.job.uuid, "job_name": build.job.name, "result": build.result ?? NSNull(), "held": build.held,
            "start_time": Self.zuulTime(build.job.startedAt), "end_time": Self.zuulTime(build.job.finishedAt),
            "duration": Self.duration(build.job) ?? NSNull(), "voting": true,
            "log_url": "\(base)/logs/\(tenant.name)/\(build.job.uuid)/", "nodeset": build.pipeline.tags.joined(separator: "+"),
            "node_name": build.runner.map(TenantService.nodeName) ?? NSNull(),
            "error_detail": build.run.status == "Error" ? "the run could not be completed on its runner" : NSNull(),
            "final": build.run.status != "Running", "artifacts": artifacts, "provides": [],
            "ref": ref(build.run, build.project, request: request), "pipeline": build.pipeline.name,
            "event_id": build.run.event?.id ?? build.run.uuid, "buildset": ["uuid": build.run.uuid],
        ]
    }

    func render(_ set: TenantBuildset, request: Request, tenant: CITenant, withBuilds: Bool) -> [String: Any] {
        var rendered = ref(set.run, set.project, request: request)
        rendered["refs"] = [ref(set.run, set.project, request: request)]
        rendered.merge([
            "_id": set.run.id, "uuid": set.run.uuid, "result": set.result ?? NSNull(),
            "message": set.result.map { "Build \($0 == "SUCCESS" ? "succeeded" : "failed") (\(set.pipeline.name))." } ?? NSNull(),
            "pipeline": set.pipeline.name, "event_id": set.run.event?.id ?? set.run.uuid,
            "event_timestamp": Self.zuulTime(set.run.startedAt),
            "first_build_start_time": Self.zuulTime(set.builds.compactMap(\.job.startedAt).min()),
            "last_build_end_time": Self.zuulTime(set.builds.compactMap(\.job.finishedAt).max()),
        ]) { _, new in new }
        if withBuilds {
            rendered["builds"] = set.builds.map { render($0, tenant: tenant, request: request) }
            rendered["events"] = [
                [
                    "event_time": Self.zuulTime(set.run.startedAt), "event_type": set.run.event == nil ? "trigger" : "enqueue",
                    "description": set.run.event == nil ? "started by a trigger token" : "enqueued through the tenant API",
                ]
            ]
        }
        return rendered
    }

    /// Each stage name of the tenant's pipelines is a job; its variants are the pipelines that have it.
    func jobs(_ tenant: CITenant) async throws -> [String: [[String: Any]]] {
        var jobs: [String: [[String: Any]]] = [:]
        let projects = try await runners.projects()
        for pipeline in try await service.pipelines(of: tenant) {
            let project = projects.first { $0.id == pipeline.projectID }?.pathWithNamespace ?? ""
            for stage in pipeline.plan.stages {
                jobs[stage.name, default: []].append([
                    "parent": NSNull(), "branches": [], "source_context": ["project": project, "branch": "main", "path": pipeline.name],
                    "description": "stage \(stage.name) of \(pipeline.name) (image \(stage.image))",
                ])
            }
        }
        return jobs
    }

    func status(_ request: Request, _ tenant: CITenant) async throws -> [String: Any] {
        let sets = try await service.runningBuildsets(of: tenant, for: await reader(request, tenant))
        var byPipeline: [String: [[String: Any]]] = [:]
        for set in sets {
            let event = set.run.event
            let id = event?.change.map { "\($0),\(event?.patchset ?? "1")" } ?? RunEvent.ref(of: event)
            byPipeline[set.pipeline.name, default: []].append([
                "id": id, "project": set.project.pathWithNamespace, "live": true, "active": true,
                "enqueue_time": set.run.startedAt, "zuul_ref": set.run.uuid,
                "jobs": set.builds.map {
                    ["name": $0.job.name, "uuid": $0.job.uuid, "result": $0.result as Any? ?? NSNull(), "voting": true] as [String: Any]
                },
            ])
        }
        let names = Set(try await service.pipelines(of: tenant).map(\.name)).sorted()
        return [
            "zuul_version": Self.version, "last_reconfigured": 0,
            "pipelines": names.map { ["name": $0, "change_queues": [["name": $0, "heads": (byPipeline[$0] ?? []).map { [$0] }]]] },
        ]
    }

    /// An SVG badge of the latest finished buildset of the tenant's public pipelines (narrowed by `project`,
    /// `pipeline`, `branch`); 404 when there is none.
    func badge(_ request: Request, _ tenant: CITenant) async throws -> Response {
        var filter = try Self.filter(request)
        filter.publicOnly = true
        filter.complete = true
        filter.limit = 1
        guard let set = try await service.buildsets(of: tenant, filter: filter, for: .anyone).first else {
            throw WardenError(.notFound, "No buildset found")
        }
        let passing = set.result == "SUCCESS"
        let (label, color) = passing ? ("passing", "#4c1") : ("failing", "#e05d44")
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="98" height="20" role="img" aria-label="zuul: \(label)">\
            <rect width="37" height="20" fill="#555"/><rect x="37" width="61" height="20" fill="\(color)"/>\
            <g fill="#fff" text-anchor="middle" font-family="Verdana,sans-serif" font-size="11">\
            <text x="18.5" y="14">zuul</text><text x="66.5" y="14">\(label)</text></g></svg>

            """
        return Response(status: .ok, headers: [.contentType: "image/svg+xml"], body: .init(byteBuffer: ByteBuffer(string: svg)))
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
