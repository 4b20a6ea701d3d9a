import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

extension TenantAPI {
    // MARK: Rendering

    static func text(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A string field that may arrive as a number (zuul-client sends change ids as given).
    static func text(_ body: JSONBody, _ key: String) throws -> String? {
        guard body.has(key) else { return nil }
        if let number = body.object[key] as? NSNumber, !Checked.isBoolean(number) { return number.stringValue }
        // zuul-client sends the option it was not given as "".
        return try body.string(key).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func integer(_ body: JSONBody, _ key: String) throws -> Int? {
        guard body.has(key) else { return nil }
        if let number = Checked.wholeNumber(body.object[key]) { return Int(number) }
        if let text = body.object[key] as? String, let number = Int(text) { return number }
        throw WardenError.invalid(key, "must be a whole number that fits in 64 bits")
    }

    /// "YYYY-MM-DDTHH:MM:SS", UTC without a zone, as Zuul writes times.
    static func zuulTime(_ millis: Int64?) -> Any {
        guard let millis else { return NSNull() }
        return String(ISOTime.format(millis: millis).prefix(19))
    }

    static func duration(_ job: CIJob) -> Double? {
        guard let start = job.startedAt, let end = job.finishedAt else { return nil }
        return Double(end - start) / 1000
    }

    static func filter(_ request: Request) throws -> BuildFilter {
        let query = request.uri.queryParameters
        func value(_ key: String) -> String? { query.get(key).flatMap { $0.isEmpty ? nil : $0 } }
        func flag(_ key: String) throws -> Bool? {
            guard let text = value(key) else { return nil }
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw WardenError.invalid(key, "'\(text)' is neither true nor false")
            }
        }
        func number(_ key: String) throws -> Int64? {
            guard let text = value(key) else { return nil }
            guard let number = Int64(text), number >= 0 else { throw WardenError.invalid(key, "'\(text)' is not a whole number") }
            return number
        }
        var filter = BuildFilter()
        filter.project = value("project")
        filter.pipeline = value("pipeline")
        filter.change = value("change")
        filter.branch = value("branch")
        filter.patchset = value("patchset")
        filter.ref = value("ref")
        filter.newrev = value("newrev")
        filter.uuid = value("uuid")
        filter.jobName = value("job_name")
        filter.nodeName = value("node_name")
        filter.result = query[values: "result"].map(String.init).filter { !$0.isEmpty }
        filter.excludeResult = query[values: "exclude_result"].map(String.init).filter { !$0.isEmpty }
        filter.final = try flag("final")
        filter.held = try flag("held")
        filter.complete = try flag("complete")
        filter.voting = try flag("voting")
        filter.idxMin = try number("idx_min")
        filter.idxMax = try number("idx_max")
        filter.limit = Int(try number("limit") ?? 50)
        filter.skip = Int(try number("skip") ?? 0)
        return filter
    }

    @Sendable static func render(_ project: CIProject) -> [String: Any] {
        [
            "name": project.pathWithNamespace, "canonical_name": "warden/\(project.pathWithNamespace)", "connection_name": "warden",
            "type": "untrusted",
        ]
    }

    static func render(_ state: TenantState) -> [String: Any] {
        [
            "trigger_queue_discarding": state.triggerQueueDiscarding, "trigger_queue_paused": state.triggerQueuePaused,
            "result_queue_paused": state.resultQueuePaused, "reason": state.reason ?? NSNull(),
        ]
    }

    @Sendable static func render(_ runner: Runner) -> [String: Any] {
        [
            "id": TenantService.nodeName(runner), "uuid": runner.uuid, "labels": runner.tags, "type": runner.tags, "connection_type": "http",
            "provider": "warden", "external_id": runner.url ?? NSNull(), "state": runner.active ? "ready" : "hold",
            "state_time": runner.contactedAt.map { Double($0) / 1000 } ?? Double(runner.createdAt) / 1000,
            "comment": runner.description,
        ]
    }

    func render(_ request: Autohold, tenant: CITenant, projects: [CIProject]) -> [String: Any] {
        let project = projects.first { $0.id == request.projectID }
        return [
            "id": "\(request.id)", "tenant": tenant.name, "project": project?.pathWithNamespace ?? "", "job": request.job,
            "ref_filter": request.refFilter, "max_count": request.maxCount, "current_count": request.currentCount, "reason": request.reason,
            "node_expiration": request.nodeExpiration,
            // Zuul's `expired`: when the last hold ends (epoch seconds), once the request has held all it asked for.
            "expired": request.isDone
                ? request.nodes.compactMap { request.releaseTime(of: $0) }.max().map { Double($0) / 1000 } ?? NSNull() : NSNull(),
            "nodes": request.nodes.map { ["build": $0.build, "nodes": $0.nodes] },
        ]
    }

    func ref(_ run: CIRun, _ project: CIProject, request: Request) -> [String: Any] {
        let event = run.event
        return [
            "project": project.pathWithNamespace, "branch": RunEvent.branch(of: event) ?? NSNull(), "change": event?.change ?? NSNull(),
            "patchset": event?.patchset ?? NSNull(), "ref": RunEvent.ref(of: event), "oldrev": event?.oldrev ?? NSNull(),
            "newrev": event?.newrev ?? NSNull(), "ref_url": "\(base(request))/\(project.pathWithNamespace)",
        ]
    }

    func render(_ build: TenantBuild, tenant: CITenant, request: Request) -> [String: Any] {
        let base = base(request)
        let artifacts: [[String: Any]] =
            build.isLastStage
            ? build.run.archived.map {
                [
                    "name": $0,
                    "url": "\(base)/artifactory/\(build.pipeline.archiveRepository)/\(build.pipeline.id)/\(build.run.id)/\($0)",
                ]
            } : []
        return [
            "_id": build.job.id, "uuid": build.job.uuid, "job_name": build.job.name, "result": build.result ?? NSNull(), "held": build.held,
            "start_time": Self.zuulTime(build.job.startedAt), "end_time": Self.zuulTime(build.job.finishedAt),
            "duration": Self.duration(build.job) ?? NSNull(), "voting": true,
            "log_url": "\(base)/logs/\(tenant.name)/\(build.job.uuid)/", "nodeset": build.pipeline.tags.joined(separator: "+"),
            "node_name": build.runner.map(TenantService.nodeName) ?? NSNull(),
            "error_detail": build.run.status == "Error" ? "the run could not be completed on its runner" : NSNull(),
            "final": build.run.status != "Running", "artifacts": artifacts, "provides": [],
            "ref": ref(build.run, build.project, request: request), "pipeline": build.pipeline.name,
            "event_id": build.run.event?.id ?? build.run.uuid, "buildset": ["uuid": build.run.uuid],
        ]
    }

    func render(_ set: TenantBuildset, request: Request, tenant: CITenant, withBuilds: Bool) -> [String: Any] {
        var rendered = ref(set.run, set.project, request: request)
        rendered["refs"] = [ref(set.run, set.project, request: request)]
        rendered.merge([
            "_id": set.run.id, "uuid": set.run.uuid, "result": set.result ?? NSNull(),
            "message": set.result.map { "Build \($0 == "SUCCESS" ? "succeeded" : "failed") (\(set.pipeline.name))." } ?? NSNull(),
            "pipeline": set.pipeline.name, "event_id": set.run.event?.id ?? set.run.uuid,
            "event_timestamp": Self.zuulTime(set.run.startedAt),
            "first_build_start_time": Self.zuulTime(set.builds.compactMap(\.job.startedAt).min()),
            "last_build_end_time": Self.zuulTime(set.builds.compactMap(\.job.finishedAt).max()),
        ]) { _, new in new }
        if withBuilds {
            rendered["builds"] = set.builds.map { render($0, tenant: tenant, request: request) }
            rendered["events"] = [
                [
                    "event_time": Self.zuulTime(set.run.startedAt), "event_type": set.run.event == nil ? "trigger" : "enqueue",
                    "description": set.run.event == nil ? "started by a trigger token" : "enqueued through the tenant API",
                ]
            ]
        }
        return rendered
    }

    /// Each stage name of the tenant's pipelines is a job; its variants are the pipelines that have it.
    func jobs(_ tenant: CITenant) async throws -> [String: [[String: Any]]] {
        var jobs: [String: [[String: Any]]] = [:]
        let projects = try await runners.projects()
        for pipeline in try await service.pipelines(of: tenant) {
            let project = projects.first { $0.id == pipeline.projectID }?.pathWithNamespace ?? ""
            for stage in pipeline.plan.stages {
                jobs[stage.name, default: []].append([
                    "parent": NSNull(), "branches": [], "source_context": ["project": project, "branch": "main", "path": pipeline.name],
                    "description": "stage \(stage.name) of \(pipeline.name) (image \(stage.image))",
                ])
            }
        }
        return jobs
    }

    func status(_ request: Request, _ tenant: CITenant) async throws -> [String: Any] {
        let sets = try await service.runningBuildsets(of: tenant, for: await reader(request, tenant))
        var byPipeline: [String: [[String: Any]]] = [:]
        for set in sets {
            let event = set.run.event
            let id = event?.change.map { "\($0),\(event?.patchset ?? "1")" } ?? RunEvent.ref(of: event)
            byPipeline[set.pipeline.name, default: []].append([
                "id": id, "project": set.project.pathWithNamespace, "live": true, "active": true,
                "enqueue_time": set.run.startedAt, "zuul_ref": set.run.uuid,
                "jobs": set.builds.map {
                    ["name": $0.job.name, "uuid": $0.job.uuid, "result": $0.result as Any? ?? NSNull(), "voting": true] as [String: Any]
                },
            ])
        }
        let names = Set(try await service.pipelines(of: tenant).map(\.name)).sorted()
        return [
            "zuul_version": Self.version, "last_reconfigured": 0,
            "pipelines": names.map { ["name": $0, "change_queues": [["name": $0, "heads": (byPipeline[$0] ?? []).map { [$0] }]]] },
        ]
    }

    /// An SVG badge of the latest finished buildset of the tenant's public pipelines (narrowed by `project`,
    /// `pipeline`, `branch`); 404 when there is none.
    func badge(_ request: Request, _ tenant: CITenant) async throws -> Response {
        var filter = try Self.filter(request)
        filter.publicOnly = true
        filter.complete = true
        filter.limit = 1
        guard let set = try await service.buildsets(of: tenant, filter: filter, for: .anyone).first else {
            throw WardenError(.notFound, "No buildset found")
        }
        let passing = set.result == "SUCCESS"
        let (label, color) = passing ? ("passing", "#4c1") : ("failing", "#e05d44")
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="98" height="20" role="img" aria-label="zuul: \(label)">\
            <rect width="37" height="20" fill="#555"/><rect x="37" width="61" height="20" fill="\(color)"/>\
            <g fill="#fff" text-anchor="middle" font-family="Verdana,sans-serif" font-size="11">\
            <text x="18.5" y="14">zuul</text><text x="66.5" y="14">\(label)</text></g></svg>

            """
        return Response(status: .ok, headers: [.contentType: "image/svg+xml"], body: .init(byteBuffer: ByteBuffer(string: svg)))
    }
}
