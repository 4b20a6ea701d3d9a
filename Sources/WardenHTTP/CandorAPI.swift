import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The dashboard side of the Candor dialect (seed 002, docs/candor-api.md): triggers, run logs and archives, and the
/// pipelines (created by an admin with `POST /api/pipelines`).
struct CandorAPI<Context: RemoteAddressRequestContext & CallerRequestContext>: Sendable {
    let service: PipelineService
    let artifacts: ArtifactService
    let users: DashboardUserService
    let auth: RequestAuthenticator
    let fileIO = FileIO()

    static var cookieName: String { "candor_session" }

    func register(on router: Router<Context>) {
        let routes = router.group().add(middleware: DialectMiddleware<Context>("candor")).add(middleware: CandorErrorMiddleware<Context>())
        // An admin's routes: the caller's token is found once, before the handler. The dashboard's reads take a
        // session cookie, a token or nobody (`viewer`), so they stay outside.
        let callers = routes.group().add(middleware: CallerMiddleware<Context>(auth: auth))
        routes.post("login") { request, context in
            let body = try await JSONBody.read(request)
            guard let username = try body.string("username"), !username.isEmpty else { throw WardenError.invalid("username", "is required") }
            guard let password = try body.string("password"), !password.isEmpty else { throw WardenError.invalid("password", "is required") }
            let address = context.remoteAddress?.ipAddress ?? ""
            guard let (user, token) = try await users.login(username: username, password: password, address: address) else {
                throw WardenError(.unauthorized, "wrong username or password")
            }
            var response = Response.json(["id": user.id, "name": user.username])
            response.headers[.setCookie] =
                "\(Self.cookieName)=\(token); Path=/; HttpOnly; SameSite=Lax; Max-Age=\(users.sessionLifetimeMillis / 1000)"
            return response
        }
        routes.post("logout") { request, _ in
            if let token = Self.session(request) { try await users.logout(session: token) }
            var response = Response(status: .ok)
            response.headers[.setCookie] = "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
            return response
        }
        routes.get("me") { request, _ in
            guard let token = Self.session(request), let user = try await users.user(session: token) else {
                throw WardenError(.unauthorized, "not logged in")
            }
            return Response.json(["id": user.id, "name": user.username])
        }
        callers.post("api/users") { request, context in
            let principal = try context.requireCaller()
            let body = try await JSONBody.read(request)
            guard let username = try body.string("username") else { throw WardenError.invalid("username", "is required") }
            guard let password = try body.string("password") else { throw WardenError.invalid("password", "is required") }
            let user = try await users.create(username: username, password: password, by: principal)
            return Response.json(["id": user.id, "name": user.username], status: .created)
        }
        routes.post("trigger/{token}") { request, context in
            let token = try context.parameters.require("token")
            var body: [String: Any]?
            let text = try await JSONBody.text(request, limit: 1 << 20)
            if !text.allSatisfy(\.isWhitespace) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    throw WardenError(.badRequest, "the body must be a JSON object")
                }
                body = object
            }
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            switch try await service.trigger(
                token: token, query: query, headers: request.headers.map { ($0.name.rawName, $0.value) }, body: body)
            {
            case .constraintsNotMet: return Response(status: .noContent)
            case .started(let run): return Response.json(["runId": run.id, "pipelineId": run.pipelineID, "status": run.status])
            }
        }
        callers.post("api/pipelines") { request, context in
            let principal = try context.requireCaller()
            let body = try await JSONBody.read(request)
            try Self.refuseUnknown(body.object, known: Self.pipelineFields, at: "")
            if let plan = body.object["plan"] as? [String: Any] { try Self.refuseUnknown(plan, known: ["stages", "archive"], at: "plan.") }
            guard let project = try body.string("project") ?? (body.object["project"] as? NSNumber)?.stringValue else {
                throw WardenError.invalid("project", "is required (a project id or path)")
            }
            guard let name = try body.string("name") else { throw WardenError.invalid("name", "is required") }
            guard let planObject = body.object["plan"] as? [String: Any] else { throw WardenError.invalid("plan", "is required: {stages: [...]}") }
            let plan: PipelinePlan
            do {
                plan = try JSONDecoder().decode(PipelinePlan.self, from: JSONSerialization.data(withJSONObject: planObject))
            } catch {
                throw WardenError.invalid("plan", "is not a plan: stages need name and image; environment, script and archive are string arrays")
            }
            let constraints = try body.object("constraints")
            let (pipeline, token) = try await service.create(
                project: project, name: name, plan: plan, parameters: try body.strings("parameters") ?? [],
                headerConstraints: try Self.stringMap(constraints?.object["headers"], "constraints.headers"),
                bodyConstraints: try Self.stringMap(constraints?.object["body"], "constraints.body"), tags: try body.strings("tags") ?? [],
                archiveRepository: try body.string("archiveRepository") ?? "ci-archives", isPublic: try body.bool("public") ?? false,
                assignees: try body.strings("assignees") ?? [], readers: try body.strings("readers") ?? [], by: principal)
            var rendered = Self.render(pipeline, for: .admin)
            rendered["triggerToken"] = token
            return Response.json(rendered, status: .created)
        }
        routes.get("api/pipelines") { request, _ in
            let (viewer, _) = try await viewer(request)
            let pipelines = try await service.pipelines().filter { $0.isReadable(by: viewer) }
            return Response.json(pipelines.map { Self.render($0, for: viewer) })
        }
        routes.get("api/pipelines/{id}") { request, context in
            let (viewer, _) = try await viewer(request)
            let pipeline = try await service.pipeline(try context.parameters.require("id"), for: viewer)
            var rendered = Self.render(pipeline, for: viewer)
            rendered["runs"] = try await service.runs(of: pipeline).map(Self.render)
            return Response.json(rendered)
        }
        routes.get("api/runs/{pipeline}/{run}/log") { request, context in
            let (_, run, _) = try await run(request, context)
            let text = try await service.log(of: run)
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        for name in ["archive", "archived"] {
            routes.get("api/runs/{pipeline}/{run}/\(name)") { request, context in try await archive(request, context) }
        }
    }

    static var pipelineFields: Set<String> {
        ["project", "name", "plan", "parameters", "constraints", "tags", "archiveRepository", "public", "assignees", "readers"]
    }

    /// A misplaced field (`archive` beside `plan` instead of in it) would be dropped without a word: refuse it.
    static func refuseUnknown(_ object: [String: Any], known: Set<String>, at prefix: String) throws {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw WardenError.invalid("\(prefix)\(unknown)", "is not a field here; the fields are \(known.sorted().joined(separator: ", "))")
        }
    }

    static func stringMap(_ value: Any?, _ field: String) throws -> [String: String] {
        guard let value, !(value is NSNull) else { return [:] }
        guard let map = value as? [String: Any] else { throw WardenError.invalid(field, "must be an object of strings") }
        return try map.mapValues { value in
            guard let text = value as? String else { throw WardenError.invalid(field, "must be an object of strings") }
            return text
        }
    }

    /// The session token in the request's cookie.
    static func session(_ request: Request) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == cookieName, !pair[1].isEmpty { return String(pair[1]) }
        }
        return nil
    }

    /// A logged-in dashboard user, a Warden token (a wrong one is refused), or nobody; and the principal its
    /// downloads act as (a dashboard user's may do nothing but be named).
    func viewer(_ request: Request) async throws -> (PipelineViewer, Principal?) {
        let permissions = artifacts.permissions
        if let token = Self.session(request), let user = try await users.user(session: token) {
            let principal = Principal(name: user.username, scope: .user, repositoryRights: .only([]))
            return (.user(user.username, groups: try await permissions.groups(of: user.username)), principal)
        }
        if request.headers[.authorization] != nil {
            let principal = try await auth.principal(for: request)
            guard principal.repositoryRights == .granted else { return (.limited, principal) }
            if principal.isAdmin { return (.admin, principal) }
            return (.user(principal.name, groups: try await permissions.groups(of: principal.name)), principal)
        }
        return (.anonymous, nil)
    }

    /// The run of the path's pipeline (which the caller may read), and the caller.
    func run(_ request: Request, _ context: Context) async throws -> (CIPipeline, CIRun, Principal?) {
        let (viewer, principal) = try await viewer(request)
        let pipeline = try await service.pipeline(try context.parameters.require("pipeline"), for: viewer)
        let reference = try context.parameters.require("run")
        if reference == "last" { return (pipeline, try await service.run(pipelineID: pipeline.id, runID: nil), principal) }
        guard let id = Int64(reference) else { throw WardenError(.notFound, "No log could be found") }
        return (pipeline, try await service.run(pipelineID: pipeline.id, runID: id), principal)
    }

    /// Streams an archived file, whole; the download is the caller's (its workers run, it is counted; see
    /// `PipelineService.archived`).
    func archive(_ request: Request, _ context: Context) async throws -> Response {
        guard let file = request.uri.queryParameters.get("file"), !file.isEmpty else {
            throw WardenError.invalid("file", "is required: ?file=<URI-encoded name>")
        }
        let mode = request.uri.queryParameters.get("mode") ?? "stream"
        guard mode == "stream" || mode == "file" else { throw WardenError.invalid("mode", "must be stream or file, got '\(mode)'") }
        let (pipeline, run, principal) = try await run(request, context)
        let (item, blobPath) = try await service.archived(
            run, of: pipeline, file: file.removingPercentEncoding ?? file,
            request: ArtifactRequest(principal: principal, headers: request.headers.map { ($0.name.rawName, $0.value) }))
        var headers: HTTPFields = [.contentType: "application/octet-stream", .contentLength: "\(item.size)"]
        if mode == "file" { headers[.contentDisposition] = "attachment; filename=\"\(item.name.filter { $0 != "\"" })\"" }
        guard item.size > 0 else { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: blobPath, context: context))
    }

    /// Environment values are write-only for all but admins: the others see each variable's name only.
    static var hiddenValue: String { "********" }

    static func render(_ pipeline: CIPipeline, for viewer: PipelineViewer) -> [String: Any] {
        var plan = pipeline.plan
        if viewer != .admin {
            for index in plan.stages.indices {
                plan.stages[index].environment = plan.stages[index].environment.map { entry in
                    let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
                    return "\(name)=\(hiddenValue)"
                }
            }
        }
        return [
            "id": pipeline.id, "projectId": pipeline.projectID, "name": pipeline.name, "parameters": pipeline.parameters, "tags": pipeline.tags,
            "archiveRepository": pipeline.archiveRepository, "public": pipeline.isPublic, "assignees": pipeline.assignees,
            "readers": pipeline.readers, "plan": (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(plan))) ?? [:],
            "constraints": ["headers": pipeline.headerConstraints, "body": pipeline.bodyConstraints],
        ]
    }

    @Sendable static func render(_ run: CIRun) -> [String: Any] {
        [
            "id": run.id, "pipelineId": run.pipelineID, "status": run.status, "archived": run.archived,
            "startedAt": ISOTime.format(millis: run.startedAt), "finishedAt": run.finishedAt.map { ISOTime.format(millis: $0) } ?? NSNull(),
        ]
    }
}

/// Candor answers errors as plain text with the status.
struct CandorErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as WardenError {
            let status = HTTPResponse.Status(error.code)
            return Response(
                status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: error.message + "\n")))
        }
    }
}
