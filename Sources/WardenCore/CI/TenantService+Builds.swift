import Crypto
import Foundation
import Logging
import CryptoExtras

extension TenantService {
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
}
