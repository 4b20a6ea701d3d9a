import Crypto
import Foundation
import Logging
import CryptoExtras

/// A build of the tenant dialect: one job (a stage of a run) with what Zuul shows beside it.
public struct TenantBuild: Sendable {
    public var job: CIJob
    public var run: CIRun
    public var pipeline: CIPipeline
    public var project: CIProject
    public var runner: Runner?
    public var held: Bool
    /// The last stage carries the run's archived files.
    public var isLastStage: Bool

    /// SUCCESS, FAILURE, SKIPPED, ERROR (the runner could not complete the run), or `nil` while it runs.
    public var result: String? {
        switch job.status {
        case "success": return "SUCCESS"
        case "skipped": return "SKIPPED"
        case "canceled": return "CANCELED"
        case "failed": return run.status == "Error" ? "ERROR" : "FAILURE"
        default: return nil
        }
    }
}

/// A buildset: a run with its builds.
public struct TenantBuildset: Sendable {
    public var run: CIRun
    public var pipeline: CIPipeline
    public var project: CIProject
    public var builds: [TenantBuild]

    public var result: String? {
        switch run.status {
        case "Passed": return "SUCCESS"
        case "Failed": return "FAILURE"
        case "Error": return "ERROR"
        case "Canceled": return "DEQUEUED"
        default: return nil
        }
    }
}

/// What a build or buildset list is narrowed by (Zuul's query parameters).
public struct BuildFilter: Sendable {
    public var project: String?
    public var pipeline: String?
    public var change: String?
    public var branch: String?
    public var patchset: String?
    public var ref: String?
    public var newrev: String?
    public var uuid: String?
    public var jobName: String?
    public var result: [String] = []
    public var excludeResult: [String] = []
    public var final: Bool?
    public var held: Bool?
    public var complete: Bool?
    public var voting: Bool?
    public var nodeName: String?
    public var idxMin: Int64?
    public var idxMax: Int64?
    public var limit = 50
    public var skip = 0
    /// Only builds of public pipelines (a badge shows only those, whoever asks).
    public var publicOnly = false

    public init() {}
}

/// Who reads a tenant's builds and buildsets: its admins read all of them; anyone else those of public pipelines.
public enum TenantReader: Sendable, Equatable {
    case admin, anyone

    func reads(_ pipeline: CIPipeline) -> Bool { self == .admin || pipeline.isPublic }
}

/// The tenant dialect's core (seed 004): tenants' builds and buildsets over runs and jobs, enqueueing a pipeline of a
/// project, autohold requests, the tenant's state, nodes (runners), and the keys of projects and tenants.
public final class TenantService: Sendable {
    let store: any TenantStore
    let runners: RunnerService
    let pipelines: PipelineService
    let vault: SecretVault
    public let auth: TenantAuthenticator
    /// Where autoholds that could not be applied or released say so.
    let logger: Logger

    public init(
        store: any TenantStore, runners: RunnerService, pipelines: PipelineService, vault: SecretVault, auth: TenantAuthenticator,
        logger: Logger = Logger(label: "warden.tenants")
    ) {
        self.logger = logger
        self.store = store
        self.runners = runners
        self.pipelines = pipelines
        self.vault = vault
        self.auth = auth
        pipelines.onRunFinished { [weak self] run, pipeline, runner in await self?.applyAutoholds(run, pipeline: pipeline, runner: runner) }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Tenants and projects

    public func tenant(_ name: String) async throws -> CITenant { try await runners.tenant(name) }
    public func tenants() async throws -> [CITenant] { try await runners.tenants() }

    public func projects(of tenant: CITenant) async throws -> [CIProject] { try await runners.projects().filter { $0.tenantID == tenant.id } }

    /// A project of the tenant by its full path (`group/app`) or its path alone when that is unambiguous.
    public func project(_ name: String, in tenant: CITenant) async throws -> CIProject {
        let projects = try await projects(of: tenant)
        if let project = projects.first(where: { $0.pathWithNamespace == name }) { return project }
        let byPath = projects.filter { $0.path == name }
        if byPath.count == 1 { return byPath[0] }
        throw WardenError(.notFound, "Project \(name) not found in tenant \(tenant.name)")
    }

    /// The tenant's pipelines (Candor pipelines of its projects), by name.
    public func pipelines(of tenant: CITenant) async throws -> [CIPipeline] {
        let ids = Set(try await projects(of: tenant).map(\.id))
        return try await pipelines.pipelines().filter { ids.contains($0.projectID) }
    }

    func pipeline(_ name: String, of project: CIProject) async throws -> CIPipeline {
        guard let pipeline = try await pipelines.pipelines().first(where: { $0.projectID == project.id && $0.name == name }) else {
            throw WardenError(.badRequest, "pipeline '\(name)' does not exist for project \(project.pathWithNamespace)")
        }
        return pipeline
    }

    // MARK: Builds and buildsets

    /// Buildsets newest first, read a page of runs at a time: `runs` picks runs before their jobs are read, and
    /// `consume` takes each buildset in turn and says when it has enough, so a list's first page reads little.
    /// `pages`, when given, is the one page of runs to look at (a single run found by its uuid).
    /// `change`, when given, narrows the runs read to those of that change (in the store's query).
    func scanBuildsets(
        of tenant: CITenant, pages given: [CIRun]? = nil, change: Int? = nil,
        runs keep: (CIRun, CIPipeline, CIProject) -> Bool = { _, _, _ in true }, consume: (TenantBuildset) -> Bool
    ) async throws {
        let projects = Dictionary(uniqueKeysWithValues: try await projects(of: tenant).map { ($0.id, $0) })
        let pipelineList = try await pipelines.pipelines().filter { projects[$0.projectID] != nil }
        guard !pipelineList.isEmpty else { return }
        let pipelinesByID = Dictionary(uniqueKeysWithValues: pipelineList.map { ($0.id, $0) })
        let runnersByID = Dictionary(uniqueKeysWithValues: try await runners.allRunners().map { ($0.id, $0) })
        let heldBuilds = Set(try await store.autoholds(tenantID: tenant.id).flatMap { $0.nodes.map(\.build) })
        var before: Int64?
        var size = 16
        while true {
            // Small first pages for the newest few; larger ones when a filter has to look further.
            let page: [CIRun]
            if let given {
                page = given
            } else {
                page = try await pipelines.runs(pipelineIDs: pipelineList.map(\.id), before: before, limit: size, change: change)
            }
            size = min(size * 4, 1_024)
            guard let last = page.last else { return }
            before = last.id
            let picked = page.compactMap { run -> (CIRun, CIPipeline, CIProject)? in
                guard let pipeline = pipelinesByID[run.pipelineID], let project = projects[pipeline.projectID], keep(run, pipeline, project)
                else { return nil }
                return (run, pipeline, project)
            }
            let jobs = Dictionary(grouping: try await pipelines.jobs(runIDs: picked.map(\.0.id)), by: \.runID)
            for (run, pipeline, project) in picked {
                let runJobs = jobs[run.id] ?? []
                let builds = runJobs.enumerated().map { index, job in
                    TenantBuild(
                        job: job, run: run, pipeline: pipeline, project: project, runner: job.runnerID.flatMap { runnersByID[$0] },
                        held: heldBuilds.contains(job.uuid), isLastStage: index == runJobs.count - 1)
                }
                if consume(TenantBuildset(run: run, pipeline: pipeline, project: project, builds: builds)) { return }
            }
            if given != nil { return }
        }
    }

    /// The tenant's runs that are going on, newest first.
    public func runningBuildsets(of tenant: CITenant, for reader: TenantReader) async throws -> [TenantBuildset] {
        var sets: [TenantBuildset] = []
        try await scanBuildsets(of: tenant, runs: { run, _, _ in run.status == "Running" }) { set in
            if reader.reads(set.pipeline) { sets.append(set) }
            return false
        }
        return sets
    }

    static func matches(_ filter: BuildFilter, _ run: CIRun, _ pipeline: CIPipeline, _ project: CIProject) -> Bool {
        if filter.publicOnly, !pipeline.isPublic { return false }
        if let name = filter.project, name != project.pathWithNamespace, name != project.path { return false }
        if let name = filter.pipeline, name != pipeline.name { return false }
        if let change = filter.change, run.event?.change.map(String.init) != change { return false }
        if let patchset = filter.patchset, run.event?.patchset != patchset { return false }
        if let branch = filter.branch, RunEvent.branch(of: run.event) != branch { return false }
        if let ref = filter.ref, RunEvent.ref(of: run.event) != ref { return false }
        if let newrev = filter.newrev, run.event?.newrev != newrev { return false }
        return true
    }

    static func window<T>(_ items: [T], _ filter: BuildFilter) -> [T] {
        Array(items.dropFirst(max(0, filter.skip)).prefix(max(0, filter.limit)))
    }

    /// Builds, newest first.
    public func builds(of tenant: CITenant, filter given: BuildFilter, for reader: TenantReader) async throws -> [TenantBuild] {
        var filter = given
        if reader != .admin { filter.publicOnly = true }
        var found: [TenantBuild] = []
        let wanted = Checked.sum(max(0, filter.skip), max(0, filter.limit))
        if let change = filter.change, Int(change) == nil { return [] }
        try await scanBuildsets(of: tenant, change: filter.change.flatMap { Int($0) }, runs: { Self.matches(filter, $0, $1, $2) }) { set in
            for build in set.builds.reversed() where Self.keeps(filter, build) { found.append(build) }
            return found.count >= wanted
        }
        return Self.window(found, filter)
    }

    static func keeps(_ filter: BuildFilter, _ build: TenantBuild) -> Bool {
        if let uuid = filter.uuid, build.job.uuid != uuid { return false }
        if let name = filter.jobName, build.job.name != name { return false }
        if !filter.result.isEmpty, !filter.result.contains(build.result ?? "") { return false }
        if filter.excludeResult.contains(build.result ?? "") { return false }
        if let final = filter.final, final != (build.run.status != "Running") { return false }
        if let complete = filter.complete, complete != (build.result != nil) { return false }
        if let held = filter.held, held != build.held { return false }
        if let voting = filter.voting, !voting { return false }
        if let node = filter.nodeName, build.runner.map(Self.nodeName) != node { return false }
        if let low = filter.idxMin, build.job.id < low { return false }
        if let high = filter.idxMax, build.job.id > high { return false }
        return true
    }

    /// A build the reader may read; one of a pipeline it may not read is "not found", as one that does not exist.
    public func build(uuid: String, of tenant: CITenant, for reader: TenantReader) async throws -> TenantBuild {
        guard let run = try await pipelines.run(ofJob: uuid), let set = try await buildset(of: run, in: tenant),
            let build = set.builds.first(where: { $0.job.uuid == uuid }), reader.reads(set.pipeline)
        else { throw WardenError(.notFound, "Build not found") }
        return build
    }

    /// One run as a buildset, when its pipeline belongs to the tenant.
    func buildset(of run: CIRun, in tenant: CITenant) async throws -> TenantBuildset? {
        var found: TenantBuildset?
        try await scanBuildsets(of: tenant, pages: [run]) { set in
            found = set
            return true
        }
        return found
    }

    /// Buildsets, newest first.
    public func buildsets(of tenant: CITenant, filter given: BuildFilter, for reader: TenantReader) async throws -> [TenantBuildset] {
        var filter = given
        if reader != .admin { filter.publicOnly = true }
        var found: [TenantBuildset] = []
        let wanted = Checked.sum(max(0, filter.skip), max(0, filter.limit))
        if let change = filter.change, Int(change) == nil { return [] }
        try await scanBuildsets(of: tenant, change: filter.change.flatMap { Int($0) }, runs: { Self.matches(filter, $0, $1, $2) }) { set in
            if Self.keeps(filter, set) { found.append(set) }
            return found.count >= wanted
        }
        return Self.window(found, filter)
    }

    static func keeps(_ filter: BuildFilter, _ set: TenantBuildset) -> Bool {
        if let uuid = filter.uuid, set.run.uuid != uuid { return false }
        if !filter.result.isEmpty, !filter.result.contains(set.result ?? "") { return false }
        if filter.excludeResult.contains(set.result ?? "") { return false }
        if let complete = filter.complete, complete != (set.result != nil) { return false }
        if let low = filter.idxMin, set.run.id < low { return false }
        if let high = filter.idxMax, set.run.id > high { return false }
        return true
    }

    public func buildset(uuid: String, of tenant: CITenant, for reader: TenantReader) async throws -> TenantBuildset {
        guard let run = try await pipelines.run(uuid: uuid), let set = try await buildset(of: run, in: tenant), reader.reads(set.pipeline) else {
            throw WardenError(.notFound, "Buildset not found")
        }
        return set
    }

    /// The build's stage of its run's log (the lists carry runs without logs).
    public func log(of build: TenantBuild) async throws -> String {
        let run = try await pipelines.run(pipelineID: build.run.pipelineID, runID: build.run.id)
        let index = build.pipeline.plan.stages.firstIndex { $0.name == build.job.name } ?? 0
        return Self.stageLog(run.log, stage: index)
    }

    /// The section of a run's log that belongs to one stage (`**************** [i/N] ****************` headers).
    public static func stageLog(_ log: String, stage index: Int) -> String {
        var sections: [String] = []
        var current: String?
        for line in log.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("**************** ["), line.hasSuffix("] ****************") {
                if let current { sections.append(current) }
                current = String(line) + "\n"
            } else if let text = current {
                current = text + line + "\n"
            }
        }
        if let current { sections.append(current) }
        return index < sections.count ? sections[index] : ""
    }

    // MARK: Enqueue, dequeue, promote

    /// Starts the project's pipeline named `pipeline` for a change or a ref (a real run on a runner). The event's
    /// fields fill the plan's `%change%`, `%patchset%`, `%ref%`, `%oldrev%`, `%newrev%` and `%branch%`.
    public func enqueue(tenant: CITenant, project name: String, pipeline pipelineName: String, event: RunEvent) async throws -> CIRun {
        if event.change != nil, event.ref != nil { throw WardenError.invalid("change", "give a change or a ref, not both") }
        if event.change == nil, event.ref == nil { throw WardenError.invalid("change", "a change or a ref is required") }
        let project = try await project(name, in: tenant)
        let pipeline = try await pipeline(pipelineName, of: project)
        var parameters: [String: String] = [:]
        let fields: [(String, String?)] = [
            ("change", event.change.map(String.init)), ("patchset", event.patchset), ("ref", event.ref), ("oldrev", event.oldrev),
            ("newrev", event.newrev), ("branch", event.branch),
        ]
        for (key, value) in fields { if let value { parameters[key] = value } }
        return try await pipelines.start(pipeline, parameters: parameters, event: event)
    }

    /// Runs start on a runner at once, so dequeueing is stopping the pipeline's running run of that change or ref
    /// (it ends `Canceled`: Zuul's DEQUEUED); any other change or ref is not in the pipeline.
    public func dequeue(tenant: CITenant, project name: String, pipeline pipelineName: String, change: String?, ref: String?) async throws {
        if change != nil, ref != nil { throw WardenError.invalid("change", "give a change or a ref, not both") }
        if change == nil, ref == nil { throw WardenError.invalid("change", "a change or a ref is required") }
        let project = try await project(name, in: tenant)
        let pipeline = try await pipeline(pipelineName, of: project)
        let running = try await pipelines.runs(of: pipeline).filter { $0.status == "Running" }
        let match = running.first { run in
            if let change {
                let parts = change.split(separator: ",", maxSplits: 1).map(String.init)
                return run.event?.change.map(String.init) == parts[0] && (parts.count == 1 || run.event?.patchset == parts[1])
            }
            return run.event?.ref == ref
        }
        guard let match else { throw WardenError(.badRequest, "\(change ?? ref ?? "") is not in pipeline \(pipelineName)") }
        try await pipelines.cancel(match)
    }

    /// Checks the pipeline and the changes; runs start at once, so there is no queue order to change.
    public func promote(tenant: CITenant, pipeline pipelineName: String, changes: [String]) async throws {
        guard try await pipelines(of: tenant).contains(where: { $0.name == pipelineName }) else {
            throw WardenError(.badRequest, "pipeline '\(pipelineName)' does not exist in tenant \(tenant.name)")
        }
        guard !changes.isEmpty else { throw WardenError.invalid("changes", "at least one change is required") }
    }

    // MARK: State

    public func state(of tenant: CITenant) async throws -> TenantState { try await store.tenantState(id: tenant.id) }

    public func setState(_ state: TenantState, of tenant: CITenant) async throws { try await store.setTenantState(state, id: tenant.id) }

    /// Changes the fields `patch` gives and keeps the others, in one transaction: two admins changing two flags
    /// at once both get their change.
    @discardableResult
    public func patchState(_ patch: TenantStatePatch, of tenant: CITenant) async throws -> TenantState {
        try await store.updateTenantState(id: tenant.id) { patch.apply(to: &$0) }
    }

    // MARK: Autohold

    public func autohold(
        tenant: CITenant, project name: String, job: String, change: String?, ref: String?, reason: String, count: Int, nodeExpiration: Int
    ) async throws -> Autohold {
        if change != nil, ref != nil { throw WardenError.invalid("change", "give a change or a ref, not both") }
        guard !job.isEmpty else { throw WardenError.invalid("job", "is required") }
        guard !reason.isEmpty else { throw WardenError.invalid("reason", "is required") }
        guard count >= 1 else { throw WardenError.invalid("count", "must be at least 1") }
        guard nodeExpiration >= 0 else { throw WardenError.invalid("node_hold_expiration", "must be 0 or more seconds") }
        guard nodeExpiration <= Checked.maxExpirySeconds else {
            throw WardenError.invalid(
                "node_hold_expiration", "must be at most \(Checked.maxExpirySeconds) seconds (ten years); 0 holds until released")
        }
        let project = try await project(name, in: tenant)
        var filter = ".*"
        if let change { filter = "refs/changes/\(String(format: "%02d", (Int(change) ?? 0) % 100))/\(change)/.*" }
        if let ref { filter = ref }
        // Only whether it compiles matters here; the refusal names the field.
        guard (try? NSRegularExpression(pattern: filter)) != nil else { throw WardenError.invalid("ref", "'\(filter)' is not a regular expression") }
        return try await store.createAutohold(
            Autohold(
                tenantID: tenant.id, projectID: project.id, job: job, refFilter: filter, maxCount: count, reason: reason,
                nodeExpiration: nodeExpiration, createdAt: Self.now()))
    }

    public func autoholds(of tenant: CITenant) async throws -> [Autohold] { try await store.autoholds(tenantID: tenant.id) }

    public func autohold(id: String, of tenant: CITenant) async throws -> Autohold {
        guard let number = Int64(id), let request = try await store.autoholds(tenantID: tenant.id).first(where: { $0.id == number }) else {
            throw WardenError(.notFound, "Hold request \(id) not found")
        }
        return request
    }

    /// Deletes the request and lets the runners it held run again.
    public func deleteAutohold(id: String, of tenant: CITenant) async throws {
        let request = try await autohold(id: id, of: tenant)
        _ = try await store.deleteAutohold(id: request.id)
        let held = Set(request.nodes.flatMap(\.nodes))
        for runner in try await runners.allRunners() where held.contains(Self.nodeName(runner)) {
            _ = try await runners.store.updateRunner(id: runner.id) { $0.active = true }
        }
    }

    /// After a failed run: each failed build matched by an autohold request of its tenant holds its runner.
    func applyAutoholds(_ run: CIRun, pipeline: CIPipeline, runner: Runner) async {
        guard run.status == "Failed" || run.status == "Error" else { return }
        let project: CIProject?
        let requests: [Autohold]
        let jobs: [CIJob]
        do {
            project = try await runners.projects().first(where: { $0.id == pipeline.projectID })
            guard let tenantID = project?.tenantID else { return }
            requests = try await store.autoholds(tenantID: tenantID)
            jobs = try await pipelines.jobs(runIDs: [run.id])
        } catch {
            logger.error("the autoholds of failed CI run \(run.id) could not be applied: \(error)")
            return
        }
        guard let project else { return }
        let ref = RunEvent.ref(of: run.event)
        for job in jobs where job.status == "failed" {
            for request in requests where request.projectID == project.id && request.job == job.name && !request.isDone {
                // Checked when the request was made; one that no longer compiles matches nothing.
                guard let regex = try? NSRegularExpression(pattern: "^(?:\(request.refFilter))$"),
                    regex.firstMatch(in: ref, range: NSRange(ref.startIndex..., in: ref)) != nil
                else { continue }
                let held = Autohold.HeldNodes(build: job.uuid, nodes: [Self.nodeName(runner)], heldAt: Self.now())
                do {
                    // `nil`: the request was done or deleted meanwhile.
                    if let recorded = try await store.recordHold(id: request.id, held) {
                        _ = try await runners.store.updateRunner(id: runner.id) { $0.active = false }
                        scheduleRelease(of: held, in: recorded)
                    }
                } catch {
                    logger.error("autohold \(request.id) could not hold runner \(runner.id) for build \(job.uuid): \(error)")
                }
                break
            }
        }
    }

    /// Lets a hold's runners run again once its `node_hold_expiration` has passed, unless the request was deleted
    /// (which released them) or a node was set `used` meanwhile.
    func scheduleRelease(of held: Autohold.HeldNodes, in request: Autohold) {
        guard let release = request.releaseTime(of: held) else { return }
        // A background task of the server: cancelled when it stops, started again by `resumeHoldExpiries`.
        pipelines.background.spawn("the release of autohold \(request.id)") { [weak self] in
            // In steps of at most an hour: a release years away is a long wait, never one huge sleep.
            while true {
                let wait = release - Self.now()
                if wait <= 0 { break }
                do { try await Task.sleep(for: .milliseconds(min(wait, 3_600_000))) } catch { return }
                if self == nil { return }
            }
            await self?.release(held, of: request.id, tenantID: request.tenantID)
        }
    }

    func release(_ held: Autohold.HeldNodes, of requestID: Int64, tenantID: Int64) async {
        do {
            // A deleted request released its runners already.
            guard try await store.autoholds(tenantID: tenantID).contains(where: { $0.id == requestID }) else { return }
            for runner in try await runners.allRunners() where held.nodes.contains(Self.nodeName(runner)) && !runner.active {
                _ = try await runners.store.updateRunner(id: runner.id) { $0.active = true }
            }
        } catch {
            logger.error("the held runners of autohold \(requestID) could not be released: \(error)")
        }
    }

    /// At start: holds whose time ran out while the server was down are released; the others are scheduled again.
    /// Holds that cannot be read are skipped: stored data never stops the server from starting. Answers what was
    /// skipped, for the server's log.
    public func resumeHoldExpiries() async -> [String] {
        var skipped: [String] = []
        let all: [CITenant]
        do { all = try await tenants() } catch { return ["the tenants could not be read to resume their holds: \(error)"] }
        for tenant in all {
            do {
                for request in try await store.autoholds(tenantID: tenant.id) {
                    for held in request.nodes { scheduleRelease(of: held, in: request) }
                }
            } catch {
                skipped.append("the holds of tenant '\(tenant.name)' could not be read, so none is resumed: \(error)")
            }
        }
        return skipped
    }

    // MARK: Nodes (runners)

    public static func nodeName(_ runner: Runner) -> String { "runner-\(runner.id)" }

    /// The runners that may run for the tenant's projects: instance runners, and group and project runners of them.
    public func nodes(of tenant: CITenant) async throws -> [Runner] {
        let projects = try await projects(of: tenant)
        return try await runners.allRunners().filter { runner in projects.contains(where: runner.serves) }
    }

    /// `hold` pauses a runner (no new runs go to it); `used` lets it run again.
    public func setNodeState(_ state: String, node id: String, of tenant: CITenant) async throws {
        guard state == "hold" || state == "used" else { throw WardenError.invalid("state", "must be hold or used, got '\(state)'") }
        guard let runner = try await nodes(of: tenant).first(where: { Self.nodeName($0) == id || "\($0.id)" == id || $0.uuid == id }) else {
            throw WardenError(.notFound, "Node \(id) not found")
        }
        _ = try await runners.store.updateRunner(id: runner.id) { $0.active = state == "used" }
    }

    // MARK: Keys

    /// The project's RSA public key (PEM, 2048 bits), made and kept sealed the first time it is asked for; secrets
    /// encrypted to it with PKCS#1 OAEP can be read only by this server.
    public func projectPublicKey(_ project: CIProject) async throws -> String {
        let owner = "project:\(project.id):rsa"
        let sealed = try await store.sealedKey(owner: owner) { [vault] in
            let key = try _RSA.Encryption.PrivateKey(keySize: .bits2048)
            return try vault.seal(key.pemRepresentation, worker: "ci-key", name: owner)
        }
        let pem = try vault.open(sealed, worker: "ci-key", name: owner)
        return try _RSA.Encryption.PrivateKey(pemRepresentation: pem).publicKey.pemRepresentation + "\n"
    }

    /// An OpenSSH Ed25519 public key line for a project (`project:<id>`) or a tenant (`tenant:<id>`).
    public func sshPublicKey(owner: String, comment: String) async throws -> String {
        let name = "\(owner):ssh"
        let sealed = try await store.sealedKey(owner: name) { [vault] in
            try vault.seal(Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString(), worker: "ci-key", name: name)
        }
        guard let raw = Data(base64Encoded: try vault.open(sealed, worker: "ci-key", name: name)) else {
            throw WardenError(.unavailable, "the stored key of \(owner) cannot be read")
        }
        let publicKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw).publicKey.rawRepresentation
        func field(_ bytes: Data) -> Data {
            var count = UInt32(bytes.count).bigEndian
            return Data(bytes: &count, count: 4) + bytes
        }
        let blob = field(Data("ssh-ed25519".utf8)) + field(publicKey)
        return "ssh-ed25519 \(blob.base64EncodedString()) \(comment)\n"
    }

    // MARK: Job graph

    /// The stages of the project's pipeline as Zuul jobs: each depends (hard) on the one before it.
    public func frozenJobs(tenant: CITenant, pipeline pipelineName: String, project name: String) async throws -> [(
        name: String, dependencies: [String]
    )] {
        let project = try await project(name, in: tenant)
        guard let pipeline = try await pipelines.pipelines().first(where: { $0.projectID == project.id && $0.name == pipelineName }) else {
            throw WardenError(.notFound, "pipeline '\(pipelineName)' does not exist for project \(project.pathWithNamespace)")
        }
        return pipeline.plan.stages.enumerated().map { index, stage in
            (stage.name, index == 0 ? [] : [pipeline.plan.stages[index - 1].name])
        }
    }

    public func frozenJob(tenant: CITenant, pipeline pipelineName: String, project name: String, job: String) async throws -> (
        pipeline: CIPipeline, stage: PlanStage
    ) {
        let project = try await project(name, in: tenant)
        guard let pipeline = try await pipelines.pipelines().first(where: { $0.projectID == project.id && $0.name == pipelineName }) else {
            throw WardenError(.notFound, "pipeline '\(pipelineName)' does not exist for project \(project.pathWithNamespace)")
        }
        guard let stage = pipeline.plan.stages.first(where: { $0.name == job }) else {
            throw WardenError(.notFound, "Job \(job) not found in pipeline \(pipelineName) of \(project.pathWithNamespace)")
        }
        return (pipeline, stage)
    }
}
