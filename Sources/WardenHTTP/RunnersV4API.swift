import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// GitLab-style Runners API v4 under `/api/v4` (docs/runners-v4-api.md): what python-gitlab and a GitLab runner send.
/// Parameters are read from the query, a form body or a JSON body alike; errors are `{"message": …}` (validation:
/// `{"message": {field: [reasons]}}`, a missing parameter: `{"error": "<param> is missing"}`).
struct RunnersV4API<Context: CallerRequestContext>: Sendable {
    let service: RunnerService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let api = router.group("api/v4").add(middleware: DialectMiddleware<Context>("runners")).add(middleware: V4ErrorMiddleware<Context>())
        // A user's routes: the caller is found once, before the handler (the runner-token routes below take no user).
        let users = api.group().add(middleware: CallerMiddleware<Context>(auth: auth, credentials: .privateToken))
        users.get("user") { request, context in
            Response.json(Self.render(try context.requireCaller(), request: request))
        }
        // Runner-token endpoints (no user).
        api.post("runners") { request, _ in
            let parameters = try await V4Parameters.read(request)
            let token = try parameters.required("token")
            let fields = try parameters.registration()
            let (runner, authentication) = try await service.register(
                registrationToken: token, fields, ipAddress: request.headers[.xForwardedFor] ?? "127.0.0.1")
            return Response.json(["id": runner.id, "token": authentication, "token_expires_at": NSNull()], status: .created)
        }
        api.post("runners/verify") { request, _ in
            let parameters = try await V4Parameters.read(request)
            let token = try parameters.required("token")
            let runner = try await service.verify(token: token, url: parameters.string("url"), controlToken: parameters.string("control_token"))
            return Response.json(["id": runner.id, "token": token, "token_expires_at": NSNull()])
        }
        api.delete("runners") { request, _ in
            let parameters = try await V4Parameters.read(request)
            try await service.unregister(token: try parameters.required("token"))
            return Response(status: .noContent)
        }
        users.post("runners/reset_registration_token") { request, context in
            let token = try await service.resetRegistrationToken(for: .instance, by: try context.requireCaller())
            return Response.json(["token": token, "token_expires_at": NSNull()], status: .created)
        }
        // User endpoints.
        users.get("runners") { request, context in try await list(request, all: false, caller: try context.requireCaller()) }
        users.get("runners/all") { request, context in try await list(request, all: true, caller: try context.requireCaller()) }
        users.get("runners/{id}") { request, context in
            let runner = try await service.runner(id: try Self.id(context), for: try context.requireCaller())
            return Response.json(try await renderDetails(runner, request))
        }
        users.put("runners/{id}") { request, context in
            let parameters = try await V4Parameters.read(request)
            let runner = try await service.update(id: try Self.id(context), try parameters.registration(), by: try context.requireCaller())
            return Response.json(try await renderDetails(runner, request))
        }
        users.delete("runners/{id}") { request, context in
            try await service.delete(id: try Self.id(context), by: try context.requireCaller())
            return Response(status: .noContent)
        }
        users.get("runners/{id}/jobs") { request, context in
            let parameters = try await V4Parameters.read(request)
            let order = try JobOrder(orderBy: parameters.string("order_by"), sort: parameters.string("sort"))
            let jobs = try await service.jobs(
                runnerID: try Self.id(context), status: parameters.string("status"), order: order, by: try context.requireCaller())
            let projects = try await service.projects()
            return try Self.page(jobs.map { Self.render($0, projects: projects, request: request) }, request, parameters)
        }
        users.post("projects") { request, context in
            let parameters = try await V4Parameters.read(request)
            let name = try parameters.string("name")
            guard let path = try parameters.string("path") ?? name?.lowercased().replacingOccurrences(of: " ", with: "-") else {
                throw V4Error.missing("name")
            }
            let project = try await service.createProject(
                path: path, name: name, groupID: try parameters.integer("namespace_id"), tenant: parameters.string("tenant"),
                by: try context.requireCaller())
            return Response.json(Self.render(project, request: request), status: .created)
        }
        users.get("projects/{project}") { request, context in
            let project = try await service.project(try Self.reference(context, "project"))
            return Response.json(Self.render(project, request: request))
        }
        users.post("groups") { request, context in
            let parameters = try await V4Parameters.read(request)
            let name = try parameters.required("name")
            let group = try await service.createGroup(path: parameters.string("path") ?? name, name: name, by: try context.requireCaller())
            return Response.json(Self.render(group, request: request), status: .created)
        }
        users.get("groups/{group}") { request, context in
            return Response.json(Self.render(try await service.group(try Self.reference(context, "group")), request: request))
        }
        users.get("projects/{project}/runners") { request, context in
            let parameters = try await V4Parameters.read(request)
            let project = try await service.project(try Self.reference(context, "project"))
            let runners = try await service.projectRunners(project, filter: try parameters.filter(), by: try context.requireCaller())
            return try Self.page(runners.map { Self.render($0) }, request, parameters)
        }
        users.post("projects/{project}/runners") { request, context in
            let parameters = try await V4Parameters.read(request)
            let project = try await service.project(try Self.reference(context, "project"))
            guard let runnerID = try parameters.integer("runner_id") else { throw V4Error.missing("runner_id") }
            let runner = try await service.enable(runnerID: runnerID, on: project, by: try context.requireCaller())
            return Response.json(Self.render(runner), status: .created)
        }
        users.delete("projects/{project}/runners/{id}") { request, context in
            let project = try await service.project(try Self.reference(context, "project"))
            _ = try await service.disable(runnerID: try Self.id(context), on: project, by: try context.requireCaller())
            return Response(status: .noContent)
        }
        users.post("projects/{project}/runners/reset_registration_token") { request, context in
            let project = try await service.project(try Self.reference(context, "project"))
            let token = try await service.resetRegistrationToken(for: .project(project.id), by: try context.requireCaller())
            return Response.json(["token": token, "token_expires_at": NSNull()], status: .created)
        }
        users.get("groups/{group}/runners") { request, context in
            let parameters = try await V4Parameters.read(request)
            let group = try await service.group(try Self.reference(context, "group"))
            let runners = try await service.groupRunners(group, filter: try parameters.filter(), by: try context.requireCaller())
            return try Self.page(runners.map { Self.render($0) }, request, parameters)
        }
        users.post("groups/{group}/runners/reset_registration_token") { request, context in
            let group = try await service.group(try Self.reference(context, "group"))
            let token = try await service.resetRegistrationToken(for: .group(group.id), by: try context.requireCaller())
            return Response.json(["token": token, "token_expires_at": NSNull()], status: .created)
        }
    }

    // MARK: Helpers

    /// A project or group named by number or by URL-encoded path.
    static func reference(_ context: Context, _ name: String) throws -> String {
        try context.parameters.requireDecoded(name)
    }

    static func id(_ context: Context) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw WardenError.invalid("id", "is invalid") }
        return id
    }

    func list(_ request: Request, all: Bool, caller: Principal) async throws -> Response {
        let parameters = try await V4Parameters.read(request)
        let runners = try await service.runners(for: caller, all: all, filter: try parameters.filter())
        return try Self.page(runners.map { Self.render($0) }, request, parameters)
    }

    /// One page of `items` (the core's `Paging`) with GitLab's paging headers and `Link`.
    static func page(_ items: [[String: Any]], _ request: Request, _ parameters: V4Parameters) throws -> Response {
        let paged = Paging(page: try parameters.integer("page"), size: try parameters.integer("per_page")).page(of: items)
        let (page, perPage, total, pages) = (paged.page, paged.size, paged.total, paged.pages)
        var response = Response.json(paged.items)
        let next = paged.next.map(String.init) ?? ""
        let previous = paged.previous.map(String.init) ?? ""
        for (name, value) in [
            ("X-Page", "\(page)"), ("X-Per-Page", "\(perPage)"), ("X-Next-Page", next), ("X-Prev-Page", previous), ("X-Total", "\(total)"),
            ("X-Total-Pages", "\(pages)"),
        ] {
            response.headers[.known(name)] = value
        }
        var query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }.filter { $0.0 != "page" && $0.0 != "per_page" }
        query.sort { $0.0 < $1.0 }
        func link(_ target: Int, _ relation: String) -> String {
            let items = [("page", "\(target)"), ("per_page", "\(perPage)")] + query
            let text = items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0.1)" }.joined(separator: "&")
            return "<http://\(request.head.authority ?? "127.0.0.1")\(request.uri.path)?\(text)>; rel=\"\(relation)\""
        }
        var links: [String] = []
        if page > 1 { links.append(link(min(page - 1, pages), "prev")) }
        if page < pages { links.append(link(page + 1, "next")) }
        links.append(link(1, "first"))
        links.append(link(pages, "last"))
        response.headers[.link] = links.joined(separator: ", ")
        return response
    }

    // MARK: Rendering

    static func render(_ principal: Principal, request: Request) -> [String: Any] {
        [
            "id": userID(principal.name), "username": principal.name, "name": principal.name, "state": "active",
            "web_url": "http://\(request.head.authority ?? "127.0.0.1")/\(principal.name)", "is_admin": principal.isAdmin,
        ]
    }

    /// A stable integer for a principal's name (the admin is 1).
    static func userID(_ name: String) -> Int {
        if name == "admin" { return 1 }
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % 1_000_000) + 2
    }

    static func render(_ runner: Runner) -> [String: Any] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return [
            "id": runner.id, "description": runner.description, "ip_address": runner.ipAddress ?? NSNull(), "active": runner.active,
            "paused": !runner.active, "is_shared": runner.scope == .instance, "runner_type": runner.scope.typeName, "name": runner.name ?? NSNull(),
            "online": runner.isOnline(now: now), "status": runner.status(now: now),
        ]
    }

    func renderDetails(_ runner: Runner, _ request: Request) async throws -> [String: Any] {
        var details = Self.render(runner)
        let projects = try await service.projects()
        let groups = try await service.groups()
        details["tag_list"] = runner.tags
        details["run_untagged"] = runner.runUntagged
        details["locked"] = runner.locked
        details["maximum_timeout"] = runner.maximumTimeout ?? NSNull()
        details["access_level"] = runner.accessLevel
        details["version"] = runner.version ?? NSNull()
        details["revision"] = runner.revision ?? NSNull()
        details["platform"] = runner.platform ?? NSNull()
        details["architecture"] = runner.architecture ?? NSNull()
        details["contacted_at"] = runner.contactedAt.map { ISOTime.format(millis: $0) } ?? NSNull()
        details["maintenance_note"] = runner.maintenanceNote ?? NSNull()
        details["projects"] = runner.projectIDs.compactMap { id in projects.first { $0.id == id } }.map { project -> [String: Any] in
            [
                "id": project.id, "name": project.name, "name_with_namespace": "\(project.namespace) / \(project.name)", "path": project.path,
                "path_with_namespace": project.pathWithNamespace,
            ]
        }
        if case .group(let id) = runner.scope, let group = groups.first(where: { $0.id == id }) {
            details["groups"] = [["id": group.id, "name": group.name, "web_url": "http://\(request.head.authority ?? "127.0.0.1")/\(group.path)"]]
        } else {
            details["groups"] = [Any]()
        }
        return details
    }

    static func render(_ job: CIJob, projects: [CIProject], request: Request) -> [String: Any] {
        let project = projects.first { $0.id == job.projectID }
        let base = "http://\(request.head.authority ?? "127.0.0.1")"
        func time(_ millis: Int64?) -> Any { millis.map { ISOTime.format(millis: $0) } ?? NSNull() }
        let duration: Any = job.startedAt.flatMap { start in job.finishedAt.map { Double($0 - start) / 1000 } } ?? NSNull()
        let queued: Any = job.startedAt.map { Double($0 - job.createdAt) / 1000 } ?? NSNull()
        return [
            "id": job.id, "status": job.status, "stage": job.stage, "name": job.name, "ref": job.ref, "tag": false, "coverage": NSNull(),
            "allow_failure": false, "created_at": time(job.createdAt), "started_at": time(job.startedAt), "finished_at": time(job.finishedAt),
            "duration": duration, "queued_duration": queued, "user": NSNull(), "commit": NSNull(),
            "pipeline": ["id": job.runID, "sha": "", "ref": job.ref, "status": job.status],
            "project": ["id": job.projectID, "name": project?.name ?? "", "path_with_namespace": project?.pathWithNamespace ?? ""],
            "web_url": "\(base)/\(project?.pathWithNamespace ?? "")/-/jobs/\(job.id)",
        ]
    }

    static func render(_ project: CIProject, request: Request) -> [String: Any] {
        let base = "http://\(request.head.authority ?? "127.0.0.1")"
        return [
            "id": project.id, "name": project.name, "path": project.path, "path_with_namespace": project.pathWithNamespace,
            "name_with_namespace": "\(project.namespace) / \(project.name)", "web_url": "\(base)/\(project.pathWithNamespace)",
            "namespace": ["id": project.groupID ?? 0, "path": project.namespace, "kind": project.groupID == nil ? "user" : "group"],
            "created_at": ISOTime.format(millis: project.createdAt),
        ]
    }

    static func render(_ group: CIGroup, request: Request) -> [String: Any] {
        [
            "id": group.id, "name": group.name, "path": group.path, "full_path": group.path,
            "web_url": "http://\(request.head.authority ?? "127.0.0.1")/groups/\(group.path)", "created_at": ISOTime.format(millis: group.createdAt),
        ]
    }
}

/// A request's parameters from the query string, a form body and a JSON body (later ones win), read liberally.
struct V4Parameters {
    var values: [String: Any]

    static func read(_ request: Request) async throws -> V4Parameters {
        var values: [String: Any] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
        let text = try await JSONBody.text(request, limit: 1 << 20)
        if !text.allSatisfy(\.isWhitespace) {
            // The body's own shape decides (clients label form bodies as JSON and the other way round).
            if text.trimmingCharacters(in: .whitespacesAndNewlines).first == "{" {
                guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    throw WardenError(.badRequest, "the body is not a JSON object")
                }
                values.merge(object) { _, new in new }
            } else {
                values.merge(JSONBody.formFields(text)) { _, new in new }
            }
        }
        // `info[name]=x` form fields and an `info` object both count.
        for (key, value) in values where key.hasPrefix("info[") && key.hasSuffix("]") {
            values[String(key.dropFirst(5).dropLast())] = value
        }
        if let info = values["info"] as? [String: Any] {
            for (key, value) in info where values[key] == nil { values[key] = value }
        }
        // `tag_list[]=a&tag_list[]=b` arrives as `tag_list[]`.
        if let tags = values["tag_list[]"], values["tag_list"] == nil { values["tag_list"] = tags }
        return V4Parameters(values: values)
    }

    /// A text parameter: a string, or a number as its digits (clients send either); an array or an object is refused
    /// naming the parameter, never stored as its description.
    func string(_ key: String) throws -> String? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        if let text = value as? String { return text }
        if value is NSNumber { return "\(value)" }
        throw WardenError.invalid(key, "is invalid: a text is expected, not \(value is [Any] ? "an array" : "an object")")
    }

    func required(_ key: String) throws -> String {
        guard let value = try string(key), !value.isEmpty else { throw V4Error.missing(key) }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        if let number = value as? NSNumber { return number.boolValue }
        switch "\(value)".lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw WardenError.invalid(key, "is invalid: '\(value)' is not true or false")
        }
    }

    func integer(_ key: String) throws -> Int64? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        if let number = value as? NSNumber, !Checked.isBoolean(number) {
            guard let whole = Checked.wholeNumber(number) else {
                throw WardenError.invalid(key, "is invalid: '\(value)' is not a whole number that fits in 64 bits")
            }
            return whole
        }
        guard let number = Int64("\(value)".trimmingCharacters(in: .whitespaces)) else {
            throw WardenError.invalid(key, "is invalid: '\(value)' is not a whole number")
        }
        return number
    }

    /// A JSON array or a comma-separated string.
    func tags(_ key: String) -> [String]? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        let raw: [String] = (value as? [Any])?.map { "\($0)" } ?? "\(value)".split(separator: ",").map(String.init)
        return raw.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func registration() throws -> RunnerRegistration {
        var fields = RunnerRegistration()
        fields.description = try string("description")
        fields.name = try string("name")
        fields.version = try string("version")
        fields.revision = try string("revision")
        fields.platform = try string("platform")
        fields.architecture = try string("architecture")
        let active = try bool("active")
        let paused = try bool("paused")
        if active != nil && paused != nil { throw WardenError(.badRequest, "active, paused are mutually exclusive") }
        fields.active = active ?? paused.map { !$0 }
        fields.locked = try bool("locked")
        fields.runUntagged = try bool("run_untagged")
        fields.tags = tags("tag_list")
        fields.accessLevel = try string("access_level")
        fields.maximumTimeout = try integer("maximum_timeout").map(Int.init)
        fields.maintenanceNote = try string("maintenance_note") ?? (try string("maintainer_note"))
        fields.url = try string("url")
        fields.controlToken = try string("control_token")
        return fields
    }

    func filter() throws -> RunnerFilter {
        var status = try string("status")
        if status == nil, let scope = try string("scope") {
            guard ["active", "paused", "online", "offline", "specific", "shared"].contains(scope) else {
                throw WardenError.invalid("scope", "does not have a valid value")
            }
            status = ["specific", "shared"].contains(scope) ? nil : scope
        }
        var type = try string("type")
        if type == nil, let scope = try string("scope") {
            if scope == "specific" { type = "project_type" } else if scope == "shared" { type = "instance_type" }
        }
        return RunnerFilter(type: type, status: status, paused: try bool("paused"), tags: tags("tag_list") ?? [])
    }
}

/// `{"error": "<param> is missing"}` (400).
struct V4Error: Error {
    var message: String
    static func missing(_ name: String) -> V4Error { V4Error(message: "\(name) is missing") }
}

/// Renders core refusals the GitLab way: `{"message": "404 Runner Not Found"}`, validation as
/// `{"message": {field: [reason]}}`, missing parameters as `{"error": …}`.
struct V4ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as V4Error {
            return Response.json(["error": error.message], status: .badRequest)
        } catch let error as WardenError {
            switch error.code {
            case .badRequest:
                if let field = error.field { return Response.json(["message": [field: [error.reason]]], status: .badRequest) }
                return Response.json(["message": "400 Bad request - \(error.message)"], status: .badRequest)
            case .unauthorized: return Response.json(["message": "401 Unauthorized"], status: .unauthorized)
            case .forbidden: return Response.json(["message": "403 Forbidden - \(error.message)"], status: .forbidden)
            case .notFound: return Response.json(["message": "404 \(error.message)"], status: .notFound)
            case .conflict: return Response.json(["message": "409 Conflict - \(error.message)"], status: .conflict)
            default:
                // Every other refusal keeps its own status (503 database away, 413, 429, …), never a 500.
                let status = HTTPResponse.Status(error.code)
                return Response.json(["message": "\(status.code) \(status.reasonPhrase) - \(error.message)"], status: status)
            }
        } catch let error as HTTPError {
            return Response.json(["message": "\(error.status.code) \(error.body ?? error.status.reasonPhrase)"], status: error.status)
        }
    }
}
