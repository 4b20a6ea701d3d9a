import Foundation
import Hummingbird
import WardenCore
import RunModel

/// The worker service dialect (spec §1–§8): `/worker/api/v1/...` and the v2 forms. It parses, calls the core,
/// and renders the answer in the shapes the commercial service's clients expect.
struct WorkerAPI<Context: CallerRequestContext>: Sendable {
    let service: WorkerService
    let events: EventDispatcher
    let tokens: TokenService
    let auth: RequestAuthenticator
    let health: any StorageHealth
    let engineReady: @Sendable () -> Bool

    func register(on router: Router<Context>) {
        let api = router.group("worker/api").add(middleware: DialectMiddleware<Context>("worker")).add(middleware: WorkerErrorMiddleware<Context>())
        api.get("v1/system/liveness") { _, _ in Response.json(["code": "OK"]) }
        api.get("v1/system/readiness") { _, _ in try await readiness() }
        // Every other route needs credentials: the caller is found once, before the handler.
        let callers = api.group().add(middleware: CallerMiddleware<Context>(auth: auth))
        callers.get("v1/options") { _, _ in Response.json(Self.options) }
        callers.get("v1/system/actions") { _, _ in Response.json(WorkerAction.all.map(\.name)) }
        callers.get("v1/actions") { _, _ in Response.json(WorkerAction.all.map(\.name)) }
        callers.get("v2/actions") { _, _ in Response.json(WorkerAction.all.map(ActionCatalog.metadata)) }
        callers.get("v1/workers") { request, context in try await list(request, caller: try context.requireCaller()) }
        callers.get("v1/workers/{key}") { request, context in
            let principal = try context.requireCaller()
            let view = try await service.get(key: try context.parameters.require("key"), by: principal)
            return try Response.json(encoding: WorkerBody(view))
        }
        for version in ["v1", "v2"] {
            callers.post("\(version)/workers") { request, context in
                let principal = try context.requireCaller()
                let view = try await service.create(try Self.draft(try await JSONBody.read(request)), by: principal)
                return try Response.json(encoding: WorkerBody(view), status: .created)
            }
            callers.put("\(version)/workers") { request, context in
                let principal = try context.requireCaller()
                try await service.update(try Self.draft(try await JSONBody.read(request)), by: principal)
                return Response(status: .noContent)
            }
        }
        callers.delete("v1/workers/{key}") { request, context in
            let principal = try context.requireCaller()
            try await service.delete(key: try context.parameters.require("key"), by: principal)
            return Response(status: .noContent)
        }
        callers.post("v1/test") { request, context in try await test(request, key: nil, caller: try context.requireCaller()) }
        callers.post("v1/test/{key}") { request, context in
            try await test(request, key: try context.parameters.require("key"), caller: try context.requireCaller())
        }
        callers.post("v2/test/{key}") { request, context in
            try await test(request, key: try context.parameters.require("key"), caller: try context.requireCaller())
        }
        callers.post("v1/execute/{key}") { request, context in
            let principal = try context.requireCaller()
            let text = try await JSONBody.text(request, limit: 2 << 20)
            var dataJSON = ""
            if !text.allSatisfy(\.isWhitespace) {
                guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
                    throw WardenError(.badRequest, "the body is not valid JSON")
                }
                dataJSON = JSONBody.serialize(value)
            }
            let result = try await events.execute(key: try context.parameters.require("key"), dataJSON: dataJSON, by: principal)
            return Response.json(ExecuteAnswer.json(result))
        }
        callers.post("v1/rerun/{key}") { request, context in
            let principal = try context.requireCaller()
            let body = try await JSONBody.read(request)
            guard let entryID = try body.string("historyEntryId") else { throw WardenError.invalid("historyEntryId", "is required") }
            let force = try QueryValue.flag(request.uri.queryParameters.get("forceRecord"), "forceRecord") ?? false
            let (action, result) = try await events.rerun(
                key: try context.parameters.require("key"), historyEntryID: entryID, forceRecord: force, by: principal)
            return Response.json(TestRunEnvelope.json(action: action, result: result))
        }
        callers.post("v1/tokens") { request, context in
            let principal = try context.requireCaller()
            let body = try await JSONBody.read(request)
            guard let name = try body.string("name") else { throw WardenError.invalid("name", "is required") }
            var expires: Int?
            if body.has("expiresInSeconds") {
                guard let seconds = Checked.wholeNumber(body.object["expiresInSeconds"]) else {
                    throw WardenError.invalid("expiresInSeconds", "must be a whole number of seconds")
                }
                expires = Int(clamping: seconds)
            }
            let (record, value) = try await tokens.create(
                name: name, scope: try body.string("scope") ?? "user", projectKey: try body.string("projectKey"), expiresInSeconds: expires,
                by: principal)
            return try Response.json(encoding: TokenBody(record, value: value), status: .created)
        }
        callers.get("v1/tokens") { request, context in
            let principal = try context.requireCaller()
            return try Response.json(encoding: ["tokens": try await tokens.list(by: principal).map { TokenBody($0) }])
        }
        callers.delete("v1/tokens/{id}") { request, context in
            let principal = try context.requireCaller()
            try await tokens.revoke(id: try context.parameters.require("id"), by: principal)
            return Response(status: .noContent)
        }
        callers.get("v1/execution_history") { request, context in
            let principal = try context.requireCaller()
            let parameters = request.uri.queryParameters
            let query = HistoryQuery(
                workerKey: parameters.get("workerKey"), projectKey: parameters.get("projectKey"),
                includeTestRuns: try QueryValue.flag(parameters.get("showTestRun"), "showTestRun") ?? false,
                limit: try QueryValue.integer(parameters.get("limit"), "limit") ?? 100,
                offset: try QueryValue.integer(parameters.get("offset"), "offset") ?? 0)
            let entries = try await service.history(query, by: principal)
            return try Response.json(encoding: entries.map(HistoryEntryBody.init))
        }
    }

    // MARK: Handlers

    func readiness() async throws -> Response {
        do {
            try await health.check()
        } catch {
            let reason = (error as? WardenError)?.message ?? "\(error)"
            throw WorkerAPIError(status: .serviceUnavailable, message: "storage is not ready: \(reason)")
        }
        guard engineReady() else { throw WorkerAPIError(status: .serviceUnavailable, message: "the script engine is not ready") }
        return Response.json(["code": "OK"])
    }

    func list(_ request: Request, caller principal: Principal) async throws -> Response {
        let parameters = request.uri.queryParameters
        let views = try await service.list(
            action: parameters.get("action").flatMap { $0.isEmpty ? nil : $0 }, projectKey: parameters.get("projectKey"), by: principal)
        if try QueryValue.flag(parameters.get("keysOnly"), "keysOnly") == true { return Response.json(["keys": views.map(\.worker.key)]) }
        return try Response.json(encoding: ["workers": views.map(WorkerBody.init)])
    }

    func test(_ request: Request, key: String?, caller principal: Principal) async throws -> Response {
        let body = try await JSONBody.read(request)
        guard let code = try body.string("code") else { throw WardenError.invalid("code", "is required") }
        guard let action = try Self.actionName(body) else { throw WardenError.invalid("action", "is required") }
        let debug = try QueryValue.flag(request.uri.queryParameters.get("debug"), "debug") ?? false
        let staged = try body.objects("stagedSecrets").map { try $0.map(Self.secretItem) }
        let (workerAction, result) = try await service.test(
            key: key, code: code, actionName: action, dataJSON: body.json("data"), stagedSecrets: staged, debug: debug, by: principal)
        return Response.json(TestRunEnvelope.json(action: workerAction, result: result))
    }

    // MARK: Parsing

    static func draft(_ body: JSONBody) throws -> WorkerDraft {
        var draft = WorkerDraft()
        draft.key = try body.string("key")
        draft.description = try body.string("description")
        draft.enabled = try body.bool("enabled")
        draft.debug = try body.bool("debug")
        draft.sourceCode = try body.string("sourceCode")
        draft.action = try actionName(body)
        draft.shared = try body.bool("shared")
        draft.projectKey = try body.string("projectKey")
        if let filter = try body.object("filterCriteria") {
            var criteria = FilterCriteria()
            if let artifacts = try filter.object("artifactFilterCriteria") {
                criteria.artifactFilterCriteria = ArtifactFilter(
                    repoKeys: try artifacts.strings("repoKeys") ?? [], includePatterns: try artifacts.strings("includePatterns") ?? [],
                    excludePatterns: try artifacts.strings("excludePatterns") ?? [], anyLocal: try artifacts.bool("anyLocal") ?? false,
                    anyRemote: try artifacts.bool("anyRemote") ?? false, anyFederated: try artifacts.bool("anyFederated") ?? false)
            }
            if let schedule = try filter.object("schedule") {
                guard let cron = try schedule.string("cron") else { throw WardenError.invalid(schedule.name("cron"), "is required") }
                criteria.schedule = Schedule(cron: cron, timezone: try schedule.string("timezone") ?? "UTC")
            }
            draft.filterCriteria = criteria
        }
        draft.secrets = try body.objects("secrets").map { try $0.map(secretItem) }
        if let properties = try body.objects("properties") {
            draft.properties = try properties.map { item in
                guard let key = try item.string("key") else { throw WardenError.invalid(item.name("key"), "is required") }
                return (key, try item.string("value") ?? "")
            }
        }
        if body.object["platformAccess"] is NSNull {
            draft.platformAccess = .some(nil)
        } else if let access = try body.object("platformAccess") {
            guard let repositories = try access.strings("repositories") else {
                throw WardenError.invalid("platformAccess.repositories", "is required: repository keys, or [\"ANY\"]")
            }
            let actions = try access.strings("actions") ?? PlatformAccess.defaultActions.map(\.rawValue)
            draft.platformAccess = PlatformAccess(
                repositories: repositories, actions: try RepositoryAction.parse(actions, field: "platformAccess.actions").sorted())
        }
        if let version = try body.object("version") {
            draft.version = WorkerVersion(
                versionNumber: try version.string("versionNumber"), description: try version.string("description"),
                commitSha: try version.string("commitSha"))
        }
        return draft
    }

    /// `action` as a name (v1) or `{application, name}` (v2).
    static func actionName(_ body: JSONBody) throws -> String? {
        if let object = try? body.object("action") {
            guard let name = try object.string("name") else { throw WardenError.invalid("action.name", "is required") }
            return name
        }
        return try body.string("action")
    }

    static func secretItem(_ item: JSONBody) throws -> SecretItem {
        guard let key = try item.string("key") else { throw WardenError.invalid(item.name("key"), "is required") }
        return SecretItem(key: key, value: try item.string("value"), markedForRemoval: try item.bool("markedForRemoval") ?? false)
    }

    // MARK: Rendering

    static var options: [String: Any] {
        [
            "edition": [
                "maxCodeChars": RunLimits.maxCodeCharacters, "maxVersionNumberChars": 64, "maxVersionCommitShaChars": 128,
                "maxVersionDescriptionChars": 256,
            ],
            "isHistoryEnabled": true, "shouldEncodeSourceCodeInBase64": false,
        ]
    }
}
