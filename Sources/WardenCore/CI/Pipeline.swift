import Foundation

/// One stage of a Candor plan.
public struct PlanStage: Sendable, Equatable, Codable {
    public var name: String
    public var image: String
    public var runtime: String?
    public var environment: [String]
    public var script: [String]

    public init(name: String, image: String, runtime: String? = nil, environment: [String] = [], script: [String] = []) {
        self.name = name
        self.image = image
        self.runtime = runtime
        self.environment = environment
        self.script = script
    }

    /// `runtime`, `environment` and `script` may be missing or null (seed 002: "Nullable: yes").
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        image = try container.decode(String.self, forKey: .image)
        runtime = try container.decodeIfPresent(String.self, forKey: .runtime)
        environment = try container.decodeIfPresent([String].self, forKey: .environment) ?? []
        script = try container.decodeIfPresent([String].self, forKey: .script) ?? []
    }
}

/// A Candor plan: stages run in order, then the archived paths are kept.
public struct PipelinePlan: Sendable, Equatable, Codable {
    public var stages: [PlanStage]
    public var archive: [String]?

    public init(stages: [PlanStage], archive: [String]? = nil) {
        self.stages = stages
        self.archive = archive
    }

    /// Refuses a plan a runner could not run, naming the part.
    public func validate(field: String = "plan") throws(WardenError) {
        for (index, stage) in stages.enumerated() {
            if stage.name.trimmingCharacters(in: .whitespaces).isEmpty { throw WardenError.invalid("\(field).stages[\(index)].name", "is required") }
            if stage.image.trimmingCharacters(in: .whitespaces).isEmpty {
                throw WardenError.invalid("\(field).stages[\(index)].image", "is required")
            }
            for variable in stage.environment where !variable.contains("=") || variable.hasPrefix("=") {
                throw WardenError.invalid("\(field).stages[\(index)].environment", "'\(variable)' is not KEY=VALUE")
            }
        }
        for path in archive ?? [] where path.isEmpty || path.hasPrefix("/") || path.split(separator: "/").contains("..") {
            throw WardenError.invalid("\(field).archive", "'\(path)' must be a relative path inside the work folder")
        }
    }

    /// The plan with every `%name%` replaced by its parameter.
    public func filled(with parameters: [String: String]) -> PipelinePlan {
        func fill(_ text: String) -> String {
            var out = text
            for (name, value) in parameters { out = out.replacingOccurrences(of: "%\(name)%", with: value) }
            return out
        }
        return PipelinePlan(
            stages: stages.map {
                PlanStage(
                    name: $0.name, image: fill($0.image), runtime: $0.runtime.map(fill), environment: $0.environment.map(fill),
                    script: $0.script.map(fill))
            }, archive: archive?.map(fill))
    }
}

/// A pipeline: a plan, its trigger token (stored hashed), the parameters a trigger may fill, the header and body
/// values a trigger must carry, the runner tags it needs, and the artifact repository its archives go to.
public struct CIPipeline: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var plan: PipelinePlan
    public var triggerTokenHash: String
    public var parameters: [String]
    public var headerConstraints: [String: String]
    public var bodyConstraints: [String: String]
    public var tags: [String]
    public var archiveRepository: String
    public var assignees: [String]
    /// Users and groups (by name) who may read it besides its assignees: tokens and dashboard users.
    public var readers: [String]
    public var isPublic: Bool
    public var createdAt: Int64

    public init(
        id: Int64 = 0, projectID: Int64, name: String, plan: PipelinePlan, triggerTokenHash: String, parameters: [String] = [],
        headerConstraints: [String: String] = [:], bodyConstraints: [String: String] = [:], tags: [String] = [],
        archiveRepository: String = "ci-archives", assignees: [String] = [], readers: [String] = [], isPublic: Bool = false,
        createdAt: Int64 = 0
    ) {
        self.readers = readers
        self.id = id
        self.projectID = projectID
        self.name = name
        self.plan = plan
        self.triggerTokenHash = triggerTokenHash
        self.parameters = parameters
        self.headerConstraints = headerConstraints
        self.bodyConstraints = bodyConstraints
        self.tags = tags
        self.archiveRepository = archiveRepository
        self.assignees = assignees
        self.isPublic = isPublic
        self.createdAt = createdAt
    }
}

/// Who reads a pipeline on the dashboard.
public enum PipelineViewer: Sendable, Equatable {
    case anonymous
    /// An admin's Warden token.
    case admin
    /// Another Warden token (by its name) or a logged-in dashboard user (by username), with the groups it is in.
    case user(String, groups: Set<String>)
    /// A token that reaches only what it was made for (a worker run's, a runner's upload token): no pipeline.
    case limited
}

extension CIPipeline {
    /// Public pipelines are readable by anyone; the others by admins, their assignees and their readers (a user
    /// named there, or a member of a group named there).
    public func isReadable(by viewer: PipelineViewer) -> Bool {
        if isPublic { return true }
        switch viewer {
        case .anonymous, .limited: return false
        case .admin: return true
        case .user(let name, let groups): return assignees.contains(name) || readers.contains(name) || readers.contains(where: groups.contains)
        }
    }
}

/// A run of a pipeline (GitLab: pipeline; Zuul: buildset): Running, then Passed, Failed or Error.
public struct CIRun: Sendable, Equatable {
    public var id: Int64
    /// The tenant dialect's buildset uuid (32 hex digits).
    public var uuid: String
    public var pipelineID: Int64
    /// What started the run, when the tenant dialect enqueued it (a change or a ref).
    public var event: RunEvent?
    public var status: String
    public var runnerID: Int64?
    public var log: String
    public var archived: [String]
    public var startedAt: Int64
    public var finishedAt: Int64?

    public init(
        id: Int64 = 0, uuid: String = CIRun.newUUID(), pipelineID: Int64, event: RunEvent? = nil, status: String = "Running",
        runnerID: Int64? = nil, log: String = "", archived: [String] = [], startedAt: Int64, finishedAt: Int64? = nil
    ) {
        self.id = id
        self.uuid = uuid
        self.event = event
        self.pipelineID = pipelineID
        self.status = status
        self.runnerID = runnerID
        self.log = log
        self.archived = archived
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension CIRun {
    /// 32 lowercase hex digits, as Zuul's uuids.
    public static func newUUID() -> String { RandomID.hex128() }
}

/// What a tenant-dialect enqueue names (Zuul's trigger event): a change (and patchset) or a ref with its revisions.
public struct RunEvent: Sendable, Equatable, Codable {
    public var change: Int?
    public var patchset: String?
    public var ref: String?
    public var oldrev: String?
    public var newrev: String?
    public var branch: String?
    /// Zuul's event id.
    public var id: String

    public init(
        change: Int? = nil, patchset: String? = nil, ref: String? = nil, oldrev: String? = nil, newrev: String? = nil, branch: String? = nil,
        id: String = CIRun.newUUID()
    ) {
        self.change = change
        self.patchset = patchset
        self.ref = ref
        self.oldrev = oldrev
        self.newrev = newrev
        self.branch = branch
        self.id = id
    }
}

extension RunEvent {
    /// Reads the stored JSON of an event with `JSONSerialization` (lists read thousands; `JSONDecoder` was most of
    /// their cost); `nil` when it is not an event's JSON.
    public static func fromJSON(_ text: String) -> RunEvent? {
        // A body that is not a JSON object with an id is refused below.
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let id = object["id"] as? String else {
            return nil
        }
        return RunEvent(
            change: (object["change"] as? NSNumber)?.intValue, patchset: object["patchset"] as? String, ref: object["ref"] as? String,
            oldrev: object["oldrev"] as? String, newrev: object["newrev"] as? String, branch: object["branch"] as? String, id: id)
    }

    /// The git ref a run is for: the ref given, a change's `refs/changes/NN/<change>/<patchset>`, or the branch's head.
    public static func ref(of event: RunEvent?) -> String {
        if let ref = event?.ref { return ref }
        if let change = event?.change {
            return "refs/changes/\(String(format: "%02d", change % 100))/\(change)/\(event?.patchset ?? "1")"
        }
        return "refs/heads/\(event?.branch ?? "main")"
    }

    /// The branch: the one named, the head a `refs/heads/…` ref points at, `main` for changes and plain triggers,
    /// none for other refs (tags).
    public static func branch(of event: RunEvent?) -> String? {
        if let branch = event?.branch { return branch }
        if let ref = event?.ref { return ref.hasPrefix("refs/heads/") ? String(ref.dropFirst(11)) : nil }
        return "main"
    }
}

extension PipelineStore {
    /// A run followed by the one server of its database.
    public func startRun(_ run: CIRun, stages: [String], projectID: Int64) async throws -> CIRun? {
        try await startRun(run, stages: stages, projectID: projectID, driver: nil)
    }

    /// Every run still marked running.
    public func abandonRunningRuns(note: String, at millis: Int64) async throws -> Int {
        try await abandonRunningRuns(note: note, at: millis, drivenBy: nil)
    }
}

public protocol PipelineStore: Sendable {
    func createPipeline(_ pipeline: CIPipeline) async throws -> CIPipeline
    func pipelines() async throws -> [CIPipeline]
    func pipeline(id: Int64) async throws -> CIPipeline?
    func pipeline(triggerTokenHash: String) async throws -> CIPipeline?
    /// Creates the run and one job per stage, unless a run of the pipeline is running (then `nil`). `driver` names
    /// the server that follows the run (among several on one database), so that its restart can end it.
    func startRun(_ run: CIRun, stages: [String], projectID: Int64, driver: String?) async throws -> CIRun?
    func run(pipelineID: Int64, id: Int64?) async throws -> CIRun?
    func runs(pipelineID: Int64) async throws -> [CIRun]
    /// Up to `limit` runs of these pipelines older than run `before` (all when `nil`), newest first, without their
    /// logs (`log` is empty: lists need no log); only those enqueued for `change` when it is given.
    func runs(pipelineIDs: [Int64], before: Int64?, limit: Int, change: Int?) async throws -> [CIRun]
    /// The jobs of these runs, by id.
    func jobs(runIDs: [Int64]) async throws -> [CIJob]
    /// The run (without its log) that has this uuid, or that holds the job with this uuid.
    func run(uuid: String) async throws -> CIRun?
    func run(ofJob uuid: String) async throws -> CIRun?
    func finishRun(_ run: CIRun, jobs: [(stage: String, status: String)], at millis: Int64) async throws
    func jobs(runID: Int64) async throws -> [CIJob]
    /// Ends every run still marked running as `Error` with `note` added to its log (after a restart nobody waits for
    /// them any more), only those `driver` followed when it is given; returns how many.
    func abandonRunningRuns(note: String, at millis: Int64, drivenBy driver: String?) async throws -> Int
}
