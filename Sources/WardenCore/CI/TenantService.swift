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
