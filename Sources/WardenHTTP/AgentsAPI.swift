import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The agents API (seed 001, docs/agents-api.md): runners per project (`/project/{owner}/{project}/runners`) and per
/// company (`/company/{company}/runners`), by UUID, as HAL pages. `Authorization: token <t>`.
struct AgentsAPI<Context: CallerRequestContext>: Sendable {
    let service: RunnerService
    let auth: RequestAuthenticator

    func register(on router: Router<Context>) {
        // Every route needs credentials: the caller is found once, before the handler.
        let callers = CallerMiddleware<Context>(auth: auth, credentials: .tokenScheme)
        let project = router.group("project/{owner}/{project}/runners").add(middleware: DialectMiddleware<Context>("agents")).add(
            middleware: AgentsErrorMiddleware<Context>()
        ).add(middleware: callers)
        let company = router.group("company/{company}/runners").add(middleware: DialectMiddleware<Context>("agents")).add(
            middleware: AgentsErrorMiddleware<Context>()
        ).add(middleware: callers)
        for (group, resolve) in [(project, projectScope), (company, companyScope)]
            as [(RouterGroup<Context>, @Sendable (Context) async throws -> RunnerScope)]
        {
            group.get("registration-info") { request, context in
                let scope = try await resolve(context)
                let token = try await service.registrationToken(for: scope, by: try context.requireCaller())
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
                let runners = try await service.runners(of: try await resolve(context), by: try context.requireCaller())
                return try Self.page(runners.map(AgentRunnerBody.init), key: .runners, request)
            }
            group.get("all/jobs") { request, context in
                let runners = try await service.runners(of: try await resolve(context), by: try context.requireCaller())
                let jobs = try await service.jobs(of: runners, status: try Self.jobStatus(request))
                return try Self.page(jobs.map(AgentJobBody.init), key: .jobs, request)
            }
            group.get("{uuid}") { request, context in
                let runner = try await service.runner(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try context.requireCaller())
                return try Response.json(encoding: AgentRunnerBody(runner))
            }
            group.get("{uuid}/jobs") { request, context in
                let runner = try await service.runner(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try context.requireCaller())
                let jobs = try await service.jobs(of: [runner], status: try Self.jobStatus(request))
                return try Self.page(jobs.map(AgentJobBody.init), key: .jobs, request)
            }
            group.post("{uuid}/shutdown") { request, context in
                var fields = RunnerRegistration()
                fields.active = false
                _ = try await service.edit(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), fields, by: try context.requireCaller())
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
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), fields, by: try context.requireCaller())
                return try Response.json(encoding: AgentRunnerBody(runner))
            }
            group.delete("{uuid}") { request, context in
                try await service.delete(
                    uuid: try context.parameters.require("uuid"), of: try await resolve(context), by: try context.requireCaller())
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

    static var jobStatuses: [String] { ["CREATED", "PENDING", "RUNNING", "SUCCESS", "FAILED", "CANCELED", "SKIPPED"] }

    static func jobStatus(_ request: Request) throws -> String? {
        guard let value = request.uri.queryParameters.get("jobStatus"), !value.isEmpty else { return nil }
        guard jobStatuses.contains(value.uppercased()) else {
            throw WardenError.invalid("jobStatus", "must be one of \(jobStatuses.joined(separator: ", ")), got '\(value)'")
        }
        return value.lowercased()
    }

    /// A HAL page: `{_embedded: {key: [...]}, page: {size, totalElements, totalPages, number}}`, 0-based `page`, `size`.
    static func page<Item: Encodable>(_ items: [Item], key: HALPage<Item>.Key, _ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        let number = try QueryValue.integer(parameters.get("page"), "page") ?? 0
        let size = try QueryValue.integer(parameters.get("size"), "size") ?? 20
        guard number >= 0 else { throw WardenError.invalid("page", "must be 0 or more") }
        guard (1...2_000).contains(size) else { throw WardenError.invalid("size", "must be between 1 and 2000") }
        let slice = Array(items.dropFirst(Checked.pageStart(page: number, size: size, firstPage: 0)).prefix(size))
        return try Response.json(
            encoding: HALPage(
                embedded: [key: slice],
                page: .init(size: size, totalElements: items.count, totalPages: (items.count + size - 1) / size, number: number)))
    }
}

/// A HAL page of the agents API.
struct HALPage<Item: Encodable>: Encodable {
    /// The list's name in `_embedded`.
    enum Key: String, Encodable, CodingKeyRepresentable {
        case runners = "restPipelineRunnerModelList"
        case jobs = "restPipelineJobModelList"
    }
    struct Page: Encodable {
        var size: Int
        var totalElements: Int
        var totalPages: Int
        var number: Int
    }

    var embedded: [Key: [Item]]
    var page: Page

    enum CodingKeys: String, CodingKey {
        case embedded = "_embedded"
        case page
    }
}

/// A runner as the agents API shows it; absent values are `null`.
struct AgentRunnerBody: Encodable {
    var id: String
    var description: String
    @Null var connectedAt: String?
    var active: Bool
    @Null var name: String?
    @Null var platform: String?
    @Null var architecture: String?
    @Null var ipAddress: String?
    var tags: [String]
    var ownerType: String
    var ownerId: Int64
    var runUntagged: Bool
    var locked: Bool
    @Null var maxTimeoutInSec: Int?
    var protected: Bool

    init(_ runner: Runner) {
        (ownerType, ownerId) =
            switch runner.scope {
            case .instance: ("GLOBAL", 0)
            case .group(let id): ("COMPANY", id)
            case .project(let id): ("PROJECT", id)
            }
        id = runner.uuid
        description = runner.description
        connectedAt = runner.contactedAt.map { ISOTime.format(millis: $0) }
        active = runner.active
        name = runner.name
        platform = runner.platform
        architecture = runner.architecture
        ipAddress = runner.ipAddress
        tags = runner.tags
        runUntagged = runner.runUntagged
        locked = runner.locked
        maxTimeoutInSec = runner.maximumTimeout
        protected = runner.accessLevel == "ref_protected"
    }
}

/// A job as the agents API shows it; absent times are `null`.
struct AgentJobBody: Encodable {
    var id: String
    var localId: Int64
    @Null var finishedAt: String?
    @Null var startedAt: String?
    var name: String
    var stageName: String
    var tag = false
    var ref: String
    @Null var erasedAt: String? = nil
    @Null var artifactsExpireAt: String? = nil
    var status: String
    var pipelineLocalId: Int64

    init(_ job: CIJob) {
        id = job.uuid
        localId = job.id
        finishedAt = job.finishedAt.map { ISOTime.format(millis: $0) }
        startedAt = job.startedAt.map { ISOTime.format(millis: $0) }
        name = job.name
        stageName = job.stage
        ref = job.ref
        status = job.status.uppercased()
        pipelineLocalId = job.runID
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
