import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

extension TenantAPI {
    // MARK: Projects, frozen jobs and logs

    /// `/project/<name…>[/autohold|/enqueue|/dequeue]`.
    func projectRoute(_ request: Request, tenant: CITenant, _ rest: [String]) async throws -> Response {
        guard !rest.isEmpty else { throw WardenError(.notFound, "no project named") }
        let actions = ["autohold", "enqueue", "dequeue"]
        let action = rest.count > 1 ? rest.last.flatMap { actions.contains($0) ? $0 : nil } : nil
        let name = (action == nil ? rest : Array(rest.dropLast())).joined(separator: "/")
        switch (request.method, action) {
        case (.get, nil):
            let project = try await service.project(name, in: tenant)
            let pipelines = try await service.pipelines(of: tenant).filter { $0.projectID == project.id }
            var rendered = Self.render(project)
            rendered["configs"] = [
                [
                    "source_context": ["project": project.pathWithNamespace, "branch": "main", "path": "warden"],
                    "is_template": false, "templates": [], "default_branch": "main", "merge_mode": "merge-resolve",
                    "pipelines": pipelines.map { ["name": $0.name, "queue_name": NSNull(), "jobs": [$0.plan.stages.map { ["name": $0.name] }]] },
                ]
            ]
            return Response.json(rendered)
        case (.get, "autohold"):
            let project = try await service.project(name, in: tenant)
            let projects = try await runners.projects()
            return Response.json(
                try await service.autoholds(of: tenant).filter { $0.projectID == project.id }.map { render($0, tenant: tenant, projects: projects) })
        case (.post, "autohold"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            _ = try await service.autohold(
                tenant: tenant, project: name, job: try body.string("job") ?? "", change: try Self.text(body, "change"),
                ref: try Self.text(body, "ref"), reason: try body.string("reason") ?? "", count: try Self.integer(body, "count") ?? 1,
                nodeExpiration: try Self.integer(body, "node_hold_expiration") ?? 86_400)
            return Response.json(true)
        case (.post, "enqueue"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let pipeline = try body.string("pipeline") else { throw WardenError.invalid("pipeline", "is required") }
            var event = RunEvent()
            if let change = try Self.text(body, "change") {
                let parts = change.split(separator: ",", maxSplits: 1).map(String.init)
                guard let number = Int(parts[0]) else { throw WardenError.invalid("change", "'\(change)' is not <number>[,<patchset>]") }
                event.change = number
                event.patchset = parts.count > 1 ? parts[1] : "1"
            }
            event.ref = try Self.text(body, "ref")
            event.oldrev = try Self.text(body, "oldrev")
            event.newrev = try Self.text(body, "newrev")
            _ = try await service.enqueue(tenant: tenant, project: name, pipeline: pipeline, event: event)
            return Response.json(true)
        case (.post, "dequeue"):
            try await requireAdmin(request, tenant)
            let body = try await JSONBody.read(request)
            guard let pipeline = try body.string("pipeline") else { throw WardenError.invalid("pipeline", "is required") }
            try await service.dequeue(
                tenant: tenant, project: name, pipeline: pipeline, change: try Self.text(body, "change"), ref: try Self.text(body, "ref"))
            return Response.json(true)
        default:
            throw WardenError(.notFound, "no such resource: \(request.method) \(request.uri.path)")
        }
    }

    /// `/pipeline/<p>/project/<name…>/branch/<b…>/freeze-jobs` and `…/freeze-job/<job>`.
    func freeze(_ request: Request, _ tenant: CITenant, _ rest: [String]) async throws -> Response {
        var parts = rest
        var job: String?
        if parts.last == "freeze-jobs" {
            parts.removeLast()
        } else if parts.count >= 2, parts[parts.count - 2] == "freeze-job" {
            job = parts.removeLast()
            parts.removeLast()
        } else {
            throw WardenError(.notFound, "no such resource: \(request.uri.path)")
        }
        guard parts.count >= 5, parts[1] == "project", let branchIndex = parts.dropFirst(3).firstIndex(of: "branch"), branchIndex + 1 < parts.count
        else { throw WardenError(.notFound, "no such resource: \(request.uri.path)") }
        let pipeline = parts[0]
        let project = parts[2..<branchIndex].joined(separator: "/")
        let branch = parts[(branchIndex + 1)...].joined(separator: "/")
        if let job {
            let (found, stage) = try await service.frozenJob(tenant: tenant, pipeline: pipeline, project: project, job: job)
            var environment: [String: String] = [:]
            for variable in stage.environment {
                let pair = variable.split(separator: "=", maxSplits: 1).map(String.init)
                environment[pair[0]] = pair.count > 1 ? pair[1] : ""
            }
            return Response.json([
                "job": stage.name, "branch": branch, "timeout": NSNull(), "post_timeout": NSNull(), "ansible_version": NSNull(),
                "workspace_scheme": "golang", "override_checkout": NSNull(),
                "nodeset": [
                    "name": found.tags.isEmpty ? "untagged" : found.tags.joined(separator: "+"), "nodes": [["name": "runner", "label": found.tags]],
                    "groups": [],
                ],
                "vars": ["image": stage.image, "runtime": stage.runtime ?? NSNull(), "environment": environment, "script": stage.script],
                "pre_playbooks": [], "playbooks": [], "post_playbooks": [], "cleanup_playbooks": [],
            ])
        }
        let jobs = try await service.frozenJobs(tenant: tenant, pipeline: pipeline, project: project)
        return Response.json(jobs.map { ["name": $0.name, "dependencies": $0.dependencies.map { ["name": $0, "soft": false] }] })
    }

    // MARK: Reading rules

    func requireAdmin(_ request: Request, _ tenant: CITenant) async throws {
        _ = try await service.auth.admin(authorization: request.headers[.authorization], tenant: tenant.name)
    }

    /// Whether the request's token administers the tenant (a refused or missing token does not).
    func isAdmin(_ request: Request, _ tenant: CITenant) async -> Bool {
        (try? await service.auth.admin(authorization: request.headers[.authorization], tenant: tenant.name)) != nil
    }

    /// Who the caller is to the tenant's builds (the core decides what each may read).
    func reader(_ request: Request, _ tenant: CITenant) async -> TenantReader {
        await isAdmin(request, tenant) ? .admin : .anyone
    }

    /// `/logs/<tenant>/<build uuid>/job-output.txt` (the build's stage of the run log) and
    /// `/logs/<tenant>/<build uuid>/zuul-info/inventory.yaml`.
    func buildLog(_ request: Request) async throws -> Response {
        let segments = RequestPath.segments(of: request.uri.path)
        guard segments.count >= 4 else { throw WardenError(.notFound, "no such log") }
        let tenant = try await service.tenant(segments[1])
        let build = try await service.build(uuid: segments[2], of: tenant, for: await reader(request, tenant))
        switch segments.dropFirst(3).joined(separator: "/") {
        case "job-output.txt":
            return Self.text(try await service.log(of: build))
        case "zuul-info/inventory.yaml":
            let node = build.runner.map(TenantService.nodeName) ?? "runner"
            let stage = build.pipeline.plan.stages.first { $0.name == build.job.name }
            return Self.text(
                """
                all:
                  hosts:
                    \(node):
                      warden_image: "\(stage?.image ?? "")"
                  vars:
                    zuul:
                      build: \(build.job.uuid)
                      buildset: \(build.run.uuid)
                      job: "\(build.job.name)"
                      pipeline: "\(build.pipeline.name)"
                      project:
                        name: "\(build.project.pathWithNamespace)"
                      tenant: "\(tenant.name)"

                """)
        default:
            throw WardenError(.notFound, "no such log file")
        }
    }
}
