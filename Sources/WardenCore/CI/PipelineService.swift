import Foundation
import Logging
import Synchronization

/// How the server talks to a `warden runner` (implemented with URLSession in the executable).
public protocol RunnerTransport: Sendable {
    /// `GET /` answered 200 within a second.
    func isHealthy(url: String) async -> Bool
    /// `POST /run` with the runner's control token; the runner's JSON answer.
    func run(url: String, token: String, requestJSON: Data, timeout: Double) async throws -> Data
    /// `GET /logs/:runId`.
    func log(url: String, token: String, runID: String) async throws -> String
    /// `POST /cancel/:runId`: the runner stops the run (its answer to `POST /run` then says `Canceled`).
    func cancel(url: String, token: String, runID: String) async throws
}

/// What a trigger did.
public enum TriggerOutcome: Sendable, Equatable {
    case started(CIRun)
    /// The pipeline's header or body constraints were not met (204).
    case constraintsNotMet
}

/// Candor pipelines: creation, triggers, dispatch to a runner whose tags fit, and the record of each run and its
/// jobs (one per stage).
public final class PipelineService: Sendable {
    let store: any PipelineStore
    let runners: RunnerService
    let artifacts: ArtifactService
    let transport: any RunnerTransport
    let uploadTokens: WorkerTokens
    /// Dashboard users, which assignees must name.
    let users: DashboardUserService?
    /// Tenants' states: a paused or discarding tenant takes no new runs.
    let tenants: (any TenantStore)?
    /// Called once a run's outcome is stored (the tenant dialect's autoholds).
    let afterRun = Mutex<(@Sendable (CIRun, CIPipeline, Runner) async -> Void)?>(nil)
    /// This server's URL as runners reach it (set again once the port is bound, when it was 0).
    let address: ServerAddress
    /// Seconds a stage may run on a runner (the runner enforces it; the server waits the sum plus a minute).
    public let stageTimeout: Double

    /// This server among several on one database (`nil` when alone): the runs it starts carry it.
    let driver: String?
    /// Where a finished run publishes its build info.
    let builds: BuildService?

    public init(
        store: any PipelineStore, runners: RunnerService, artifacts: ArtifactService, transport: any RunnerTransport, uploadTokens: WorkerTokens,
        address: ServerAddress, stageTimeout: Double = 600, users: DashboardUserService? = nil, tenants: (any TenantStore)? = nil,
        background: BackgroundTasks = BackgroundTasks(), driver: String? = nil, builds: BuildService? = nil,
        logger: Logger = Logger(label: "warden.pipelines")
    ) {
        self.builds = builds
        self.driver = driver
        self.background = background
        self.logger = logger
        self.users = users
        self.tenants = tenants
        self.store = store
        self.runners = runners
        self.artifacts = artifacts
        self.transport = transport
        self.uploadTokens = uploadTokens
        self.address = address
        self.stageTimeout = stageTimeout
    }

    /// Where a run's end that could not be stored says so.
    let logger: Logger
    /// Where runs execute: ended (recorded as Error) when the server stops.
    let background: BackgroundTasks

    /// Sets what runs after each run's outcome is stored.
    public func onRunFinished(_ body: @escaping @Sendable (CIRun, CIPipeline, Runner) async -> Void) { afterRun.withLock { $0 = body } }

    /// A page of these pipelines' runs, newest first, without their logs (`run(pipelineID:runID:)` has the log).
    public func runs(pipelineIDs: [Int64], before: Int64?, limit: Int, change: Int? = nil) async throws -> [CIRun] {
        try await store.runs(pipelineIDs: pipelineIDs, before: before, limit: limit, change: change)
    }
    public func jobs(runIDs: [Int64]) async throws -> [CIJob] { try await store.jobs(runIDs: runIDs) }
    public func run(uuid: String) async throws -> CIRun? { try await store.run(uuid: uuid) }
    public func run(ofJob uuid: String) async throws -> CIRun? { try await store.run(ofJob: uuid) }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Creates a pipeline (admin) and its archive repository when missing; the trigger token is shown once.
    public func create(
        project reference: String, name: String, plan: PipelinePlan, parameters: [String], headerConstraints: [String: String],
        bodyConstraints: [String: String], tags: [String], archiveRepository: String, isPublic: Bool, assignees: [String] = [],
        readers: [String] = [], by principal: Principal
    ) async throws -> (CIPipeline, String) {
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may create pipelines") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw WardenError.invalid("name", "is required") }
        try plan.validate()
        for (index, name) in parameters.enumerated()
        where name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
            throw WardenError.invalid("parameters[\(index)]", "'\(name)' must be letters, digits, '_', '-' or '.'")
        }
        for (index, assignee) in assignees.enumerated() where !(try await users?.exists(username: assignee) ?? true) {
            throw WardenError.invalid("assignees[\(index)]", "no dashboard user is named '\(assignee)'")
        }
        if readers.count > 1_000 { throw WardenError.invalid("readers", "has more than 1000 names") }
        for (index, reader) in readers.enumerated() where try await !artifacts.permissions.isUserOrGroup(reader) {
            throw WardenError.invalid("readers[\(index)]", "no token, dashboard user or group is named '\(reader)'")
        }
        let project = try await runners.project(reference)
        try await artifacts.createRepository(
            key: archiveRepository, RepositorySettings(description: "archives of CI runs"), ifMissing: true, by: principal)
        let token = TokenRecord.generateValue()
        let pipeline = try await store.createPipeline(
            CIPipeline(
                projectID: project.id, name: name, plan: plan, triggerTokenHash: TokenRecord.hash(of: token), parameters: parameters,
                headerConstraints: headerConstraints, bodyConstraints: bodyConstraints, tags: tags, archiveRepository: archiveRepository,
                assignees: assignees, readers: readers, isPublic: isPublic, createdAt: Self.now()))
        return (pipeline, token)
    }

    public func pipelines() async throws -> [CIPipeline] { try await store.pipelines() }

    public func pipeline(id: Int64) async throws -> CIPipeline {
        guard let pipeline = try await store.pipeline(id: id) else { throw WardenError(.notFound, "pipeline \(id) does not exist") }
        return pipeline
    }

    /// The pipeline of `reference` (its id), when `viewer` may read it (`CIPipeline.isReadable`): 404 for an id
    /// that is not one, 401 for a caller without credentials, 403 for one who is neither assignee nor reader.
    public func pipeline(_ reference: String, for viewer: PipelineViewer) async throws -> CIPipeline {
        guard let id = Int64(reference) else { throw WardenError(.notFound, "pipeline '\(reference)' does not exist") }
        let pipeline = try await pipeline(id: id)
        guard pipeline.isReadable(by: viewer) else {
            switch viewer {
            case .user(let name, _):
                throw WardenError(.forbidden, "\(name) is neither an assignee nor a reader of pipeline \(pipeline.id)")
            case .limited: throw WardenError(.forbidden, "this token reads no pipeline")
            case .anonymous, .admin: throw WardenError(.unauthorized, "log in (POST /login) or send a token")
            }
        }
        return pipeline
    }

    /// A file `run` archived, for a caller who may read its pipeline: read as a download by that caller (the
    /// BEFORE_DOWNLOAD workers of the archive repository run and may stop it, it is counted, AFTER_DOWNLOAD fires).
    public func archived(_ run: CIRun, of pipeline: CIPipeline, file name: String, request: ArtifactRequest) async throws -> (
        ArtifactItem, blobPath: String
    ) {
        guard run.pipelineID == pipeline.id, run.archived.contains(name) else {
            throw WardenError(.notFound, "run \(run.id) archived no file '\(name)'")
        }
        do {
            return try await artifacts.downloadArchived(repo: pipeline.archiveRepository, path: "\(pipeline.id)/\(run.id)/\(name)", request: request)
        } catch let error as WardenError where error.code == .notFound {
            throw WardenError(.notFound, "run \(run.id) archived no file '\(name)'")
        }
    }

    public func runs(of pipeline: CIPipeline) async throws -> [CIRun] { try await store.runs(pipelineID: pipeline.id) }

    /// A run by id, or the last one for `nil`.
    public func run(pipelineID: Int64, runID: Int64?) async throws -> CIRun {
        guard let run = try await store.run(pipelineID: pipelineID, id: runID) else { throw WardenError(.notFound, "No log could be found") }
        return run
    }

    public func jobs(of run: CIRun) async throws -> [CIJob] { try await store.jobs(runID: run.id) }

    /// The log of a run: the stored one when it ended, the runner's current one while it runs.
    public func log(of run: CIRun) async throws -> String {
        if run.status == "Running", let runnerID = run.runnerID, let runner = try await runners.store.runner(id: runnerID), let url = runner.url {
            // A runner that cannot answer now: the stored log (what there is of it) is the answer.
            if let text = try? await transport.log(url: url, token: try runners.controlToken(of: runner) ?? "", runID: "\(run.id)") { return text }
        }
        guard !run.log.isEmpty else { throw WardenError(.notFound, "No log could be found") }
        return run.log
    }

    /// `POST /trigger/:token`: 404 unknown token, 400 when the pipeline is running or no runner fits, 204 when the
    /// constraints are not met, else the run starts (and continues in the background).
    public func trigger(token: String, query: [String: String], headers: [(name: String, value: String)], body: [String: Any]?) async throws
        -> TriggerOutcome
    {
        guard let pipeline = try await store.pipeline(triggerTokenHash: TokenRecord.hash(of: token)) else {
            throw WardenError(.notFound, "no pipeline has this trigger token")
        }
        for (name, expected) in pipeline.headerConstraints {
            guard headers.contains(where: { $0.name.lowercased() == name.lowercased() && $0.value == expected }) else { return .constraintsNotMet }
        }
        for (name, expected) in pipeline.bodyConstraints {
            guard let value = body?[name], "\(value)" == expected else { return .constraintsNotMet }
        }
        var parameters: [String: String] = [:]
        for name in pipeline.parameters {
            if let value = body?[name] { parameters[name] = "\(value)" } else if let value = query[name] { parameters[name] = value }
        }
        return .started(try await start(pipeline, parameters: parameters, event: nil))
    }

    /// Starts a run of `pipeline` on a runner that fits (it goes on in the background): 400 when the pipeline is
    /// running, when no runner fits, or when the project's tenant does not take new runs (Zuul's paused or
    /// discarding trigger queue).
    public func start(_ pipeline: CIPipeline, parameters: [String: String], event: RunEvent?) async throws -> CIRun {
        let project = try await runners.projects().first { $0.id == pipeline.projectID }
        if let tenants, let project, let tenantID = project.tenantID {
            let state = try await tenants.tenantState(id: tenantID)
            if state.triggerQueuePaused || state.triggerQueueDiscarding {
                throw WardenError(
                    .badRequest,
                    "the tenant of \(project.pathWithNamespace) takes no new runs: its trigger queue is \(state.triggerQueueDiscarding ? "discarding" : "paused")\(state.reason.map { " (\($0))" } ?? "")"
                )
            }
        }
        let plan = pipeline.plan.filled(with: parameters)
        // Checked again when the run is recorded; this spares the runners a health check.
        if try await store.run(pipelineID: pipeline.id, id: nil)?.status == "Running" { throw Self.alreadyRunning(pipeline) }
        guard let runner = try await pickRunner(for: pipeline, in: project) else {
            throw WardenError(.badRequest, "no healthy runner whose tags fit [\(pipeline.tags.joined(separator: ", "))] is registered")
        }
        guard
            let run = try await store.startRun(
                CIRun(pipelineID: pipeline.id, event: event, runnerID: runner.id, startedAt: Self.now()), stages: plan.stages.map(\.name),
                projectID: pipeline.projectID, driver: driver)
        else { throw Self.alreadyRunning(pipeline) }
        background.spawn("CI run \(run.id)") { [self] in await self.execute(run, plan: plan, pipeline: pipeline, runner: runner) }
        return run
    }

    static func alreadyRunning(_ pipeline: CIPipeline) -> WardenError {
        WardenError(.badRequest, "pipeline '\(pipeline.name)' is already running")
    }

    /// An active runner with a URL that answers, whose tags include the pipeline's (or that runs untagged jobs when
    /// the pipeline has none) and that may run for the pipeline's project.
    func pickRunner(for pipeline: CIPipeline, in project: CIProject?) async throws -> Runner? {
        let candidates = try await runners.allRunners().filter { runner in
            guard runner.active, runner.url != nil else { return false }
            if pipeline.tags.isEmpty ? !runner.runUntagged : !Set(pipeline.tags).isSubset(of: runner.tags) { return false }
            return project.map(runner.serves) ?? false
        }
        for runner in candidates.shuffled() {
            if let url = runner.url, await transport.isHealthy(url: url) { return runner }
        }
        return nil
    }

    struct RunnerAnswer: Decodable {
        struct Stage: Decodable {
            var name: String
            var status: String
            var exitCode: Int?
        }
        var status: String
        var stages: [Stage]
        var archived: [String]?
    }

    func execute(_ run: CIRun, plan: PipelinePlan, pipeline: CIPipeline, runner: Runner) async {
        var finished = run
        var jobs: [(stage: String, status: String)] = plan.stages.map { ($0.name, "failed") }
        // The runner may write its run's archive folder and nothing else; the token ends with the run.
        let uploadToken = uploadTokens.mint(
            name: "runner-\(runner.id)",
            rights: .upload(archiveRepository: pipeline.archiveRepository, pipeline: pipeline.id, run: run.id),
            lifetime: stageTimeout * Double(plan.stages.count) + 600)
        defer { uploadTokens.revoke(uploadToken) }
        do {
            let token = try runners.controlToken(of: runner) ?? ""
            let request: [String: Any] = [
                "runId": "\(run.id)",
                "plan": try JSONSerialization.jsonObject(with: try JSONEncoder().encode(plan)),
                "upload": [
                    "url": "\(address.url)/artifactory/\(pipeline.archiveRepository)/\(pipeline.id)/\(run.id)", "token": uploadToken,
                ],
            ]
            let data = try await transport.run(
                url: runner.url ?? "", token: token, requestJSON: try JSONSerialization.data(withJSONObject: request),
                timeout: stageTimeout * Double(max(1, plan.stages.count)) + 60)
            let answer = try JSONDecoder().decode(RunnerAnswer.self, from: data)
            finished.status = ["Passed", "Failed", "Error", "Canceled"].contains(answer.status) ? answer.status : "Error"
            finished.archived = answer.archived ?? []
            jobs = plan.stages.map { stage in
                let status = answer.stages.first { $0.name == stage.name }?.status ?? "Skipped"
                let job = ["Passed": "success", "Skipped": "skipped", "Canceled": "canceled"][status] ?? "failed"
                return (stage.name, job)
            }
            do {
                finished.log = try await transport.log(url: runner.url ?? "", token: token, runID: "\(run.id)")
            } catch {
                finished.log = "warden: the runner's log could not be fetched: \(error)\n"
            }
        } catch {
            finished.status = "Error"
            finished.log +=
                Task.isCancelled
                ? "warden: the server stopped before the run ended on runner \(runner.id)\n"
                : "warden: the run could not be completed on runner \(runner.id): \(error)\n"
        }
        do {
            try await store.finishRun(finished, jobs: jobs, at: Self.now())
        } catch {
            // It stays Running until the next start ends it as Error (abandonRunsOfAPreviousProcess).
            logger.error("the end of CI run \(run.id) (\(finished.status)) could not be stored: \(error)")
        }
        await publishBuildInfo(of: finished, pipeline: pipeline, runner: runner)
        if let afterRun = afterRun.withLock({ $0 }) { await afterRun(finished, pipeline, runner) }
    }

    /// A finished run's build info, in the builds API (so its AFTER_BUILD_INFO_SAVE workers run): named
    /// `<namespace>/<project>/<pipeline>`, numbered by the run, one module whose artifacts are the files it archived.
    func publishBuildInfo(of run: CIRun, pipeline: CIPipeline, runner: Runner) async {
        guard let builds else { return }
        do {
            let project = try await runners.projects().first { $0.id == pipeline.projectID }
            let name = project.map { "\($0.namespace)/\($0.path)/\(pipeline.name)" } ?? pipeline.name
            var files: [[String: Any]] = []
            for file in run.archived {
                let path = "\(pipeline.id)/\(run.id)/\(file)"
                guard let item = try await artifacts.store.item(repo: pipeline.archiveRepository, path: path), !item.isFolder else { continue }
                files.append([
                    "type": (file as NSString).pathExtension, "name": item.name, "path": "\(pipeline.archiveRepository)/\(path)", "sha1": item.sha1,
                    "sha256": item.sha256, "md5": item.md5,
                ])
            }
            let finishedAt = run.finishedAt ?? Self.now()
            let info: [String: Any] = [
                "version": "1.0.1", "name": name, "number": "\(run.id)", "type": "GENERIC", "started": BuildService.format(millis: run.startedAt),
                "durationMillis": max(0, finishedAt - run.startedAt), "principal": "warden", "artifactoryPrincipal": "warden",
                "url": "\(address.url)/api/pipelines/\(pipeline.id)", "buildAgent": ["name": "warden-runner", "version": "\(runner.id)"],
                "agent": ["name": "warden", "version": "1"], "properties": ["candor.status": run.status, "candor.run.uuid": run.uuid],
                "modules": [["id": name, "artifacts": files]],
            ]
            // Published by the server itself, as the user `warden`.
            try await builds.publish(Payloads.json(info), by: Principal(name: "warden", scope: .admin))
        } catch {
            logger.error("the build info of CI run \(run.id) could not be published: \(error)")
        }
    }

    /// Asks the run's runner to stop it; the run then ends `Canceled` (its stopped stage `canceled`, the rest
    /// `skipped`). 409 when the run is not going on.
    public func cancel(_ run: CIRun) async throws {
        guard run.status == "Running", let runnerID = run.runnerID, let runner = try await runners.store.runner(id: runnerID),
            let url = runner.url
        else { throw WardenError(.conflict, "run \(run.id) is not going on") }
        try await transport.cancel(url: url, token: try runners.controlToken(of: runner) ?? "", runID: "\(run.id)")
    }

    /// At start: runs a previous process was waiting for can no longer be followed; they end as `Error`. Beside
    /// other servers (`driver` given), only the runs this server followed.
    @discardableResult
    public func abandonRunsOfAPreviousProcess() async throws -> Int {
        try await store.abandonRunningRuns(
            note: "warden: the server restarted while this run was going on; its outcome is unknown\n", at: Self.now(), drivenBy: driver)
    }
}
