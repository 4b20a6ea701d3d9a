import Crypto
import Foundation
import Logging
import CryptoExtras

extension TenantService {
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
}
