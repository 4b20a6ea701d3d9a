import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The agents API (seed 001, docs/agents-api.md): runners per project (`/project/{owner}/{project}/runners`) and per
/// company (`/company/{company}/runners`), by UUID, as HAL pages. `Authorization: token <t>`.
struct AgentsAPI<Context: RequestContext>: Sendable {
    let service: RunnerService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        let project = router.group("project/{owner}/{project}/runners").add(middleware: AgentsErrorMiddleware<Context>())
        let company = router.group("company/{company}/runners").add(middleware: AgentsErrorMiddleware<Context>())
        for (group, resolve) in [(project, projectScope), (company, companyScope)]
            as [(RouterGroup<Context>, @Sendable (Context) async throws -> RunnerScope)]
        {
            group.get("registration-info") { request, context in
                let scope = try await resolve(context)
                let token = try await service.registrationToken(for: scope, by: try await principal(request))
                let id: Int64 =
                    switch scope {
                    case .project(let id), .group(let id): id
                    case .instance: 0
                    }
                return Response.json([
                    "id": "\(id)", "registrationUrl": "http://\(request.head.authority ?? "127.0.0.1")/api/v4/runners", "registrationToken": token,
                ])
            }
            group.get { request, context in
                let runners = try await service.runners(of: try await resolve(context), by: try await principal(request))
                return try Self.page(runners.map(Self.render), key: "restPipelineRunnerModelList", request)
            }
            group.get("all/jobs") { request, context in
                let runners = try await service.runners(of: try await resolve(context), by: try await principal(request))
                let jobs = try await service.jobs(of: runners, status: try Self.jobStatus(request))
                return try Self.page(jobs.map(Self.render), key: "restPipelineJobModelList", request)
            }
            group.get("{uuid}") { request, context in
                let runner = try await service.runner(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try await principal(request))
                return Response.json(Self.render(runner))
            }
            group.get("{uuid}/jobs") { request, context in
                let runner = try await service.runner(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try await principal(request))
                let jobs = try await service.jobs(of: [runner], status: try Self.jobStatus(request))
                return try Self.page(jobs.map(Self.render), key: "restPipelineJobModelList", request)
            }
            group.post("{uuid}/shutdown") { request, context in
                var fields = RunnerRegistration()
                fields.active = false
                _ = try await service.edit(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), fields, by: try await principal(request))
                return Response(status: .ok)
            }
            group.post("{uuid}/edit") { request, context in
                let body = try await JSONBody.read(request)
                var fields = RunnerRegistration()
                fields.name = try body.string("name")
                fields.description = try body.string("description")
                fields.active = try body.bool("isActive")
                fields.tags = try body.strings("tags")
                fields.runUntagged = try body.bool("runUntagged")
                fields.locked = try body.bool("isLocked")
                if let protected = try body.bool("isProtected") { fields.accessLevel = protected ? "ref_protected" : "not_protected" }
                if body.has("maxTimeoutInSec") {
                    guard let number = Checked.wholeNumber(body.object["maxTimeoutInSec"]), number > 0, number <= Int32.max
                    else { throw WardenError.invalid("maxTimeoutInSec", "must be a positive whole number of seconds, at most \(Int32.max)") }
                    fields.maximumTimeout = Int(number)
                }
                let runner = try await service.edit(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), fields, by: try await principal(request))
                return Response.json(Self.render(runner))
            }
            group.delete("{uuid}") { request, context in
                try await service.delete(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try await principal(request))
                return Response(status: .ok)
            }
        }
    }

    @Sendable func projectScope(_ context: Context) async throws -> RunnerScope {
        let reference = "\(try context.parameters.require("owner"))/\(try context.parameters.require("project"))"
        return .project(try await service.project(reference).id)
    }

    @Sendable func companyScope(_ context: Context) async throws -> RunnerScope {
        .group(try await service.group(try context.parameters.require("company")).id)
    }

    /// `Authorization: token <t>` (Bearer is accepted too).
    func principal(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            throw WardenError(.unauthorized, "send Authorization: token <token>")
        }
        if header.lowercased().hasPrefix("token ") {
            return try await auth.authenticator.principal(forToken: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        }
        return try await auth.principal(for: request)
    }

    static var jobStatuses: [String] { ["CREATED", "PENDING", "RUNNING", "SUCCESS", "FAILED", "CANCELED", "SKIPPED"] }

    static func jobStatus(_ request: Request) throws -> String? {
        guard let value = request.uri.queryParameters.get("jobStatus"), !value.isEmpty else { return nil }
        guard jobStatuses.contains(value.uppercased()) else {
            throw WardenError.invalid("jobStatus", "must be one of \(jobStatuses.joined(separator: ", ")), got '\(value)'")
        }
        return value.lowercased()
    }

    /// A HAL page: `{_embedded: {key: [...]}, page: {size, totalElements, totalPages, number}}`, 0-based `page`, `size`.
    static func page(_ items: [[String: Any]], key: String, _ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        let number = try QueryValue.integer(parameters.get("page"), "page") ?? 0
        let size = try QueryValue.integer(parameters.get("size"), "size") ?? 20
        guard number >= 0 else { throw WardenError.invalid("page", "must be 0 or more") }
        guard (1...2_000).contains(size) else { throw WardenError.invalid("size", "must be between 1 and 2000") }
        let slice = Array(items.dropFirst(Checked.pageStart(page: number, size: size, firstPage: 0)).prefix(size))
        return Response.json([
            "_embedded": [key: slice],
            "page": ["size": size, "totalElements": items.count, "totalPages": (items.count + size - 1) / size, "number": number],
        ])
    }

    static func time(_ millis: Int64?) -> Any {
        guard let millis else { return NSNull() }
        return ISOTime.format(millis: millis)
    }

    @Sendable static func render(_ runner: Runner) -> [String: Any] {
        let (ownerType, ownerID): (String, Int64) =
            switch runner.scope {
            case .instance: ("GLOBAL", 0)
            case .group(let id): ("COMPANY", id)
            case .project(let id): ("PROJECT", id)
            }
        return [
            "id": runner.uuid, "description": runner.description, "connectedAt": time(runner.contactedAt), "active": runner.active,
            "name": runner.name ?? NSNull(), "platform": runner.platform ?? NSNull(), "architecture": runner.architecture ?? NSNull(),
            "ipAddress": runner.ipAddress ?? NSNull(), "tags": runner.tags, "ownerType": ownerType, "ownerId": ownerID,
            "runUntagged": runner.runUntagged, "locked": runner.locked, "maxTimeoutInSec": runner.maximumTimeout ?? NSNull(),
            "protected": runner.accessLevel == "ref_protected",
        ]
    }

    @Sendable static func render(_ job: CIJob) -> [String: Any] {
        [
            "id": job.uuid, "localId": job.id, "finishedAt": time(job.finishedAt), "startedAt": time(job.startedAt), "name": job.name,
            "stageName": job.stage, "tag": false, "ref": job.ref, "erasedAt": NSNull(), "artifactsExpireAt": NSNull(),
            "status": job.status.uppercased(), "pipelineLocalId": job.runID,
        ]
    }
}

/// `{status, error, message}` for the agents API (403 no access rights, 404 not found).
struct AgentsErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as WardenError {
            let status = HTTPResponse.Status(error.code)
            return Response.json(["status": Int(status.code), "error": status.reasonPhrase, "message": error.message], status: status)
        }
    }
}
