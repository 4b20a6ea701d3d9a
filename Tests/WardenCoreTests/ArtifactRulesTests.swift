import Foundation
import Testing
import RunModel

@testable import WardenCore

@Suite("Ant patterns, AQL parsing and the run guard")
struct ArtifactRulesTests {
    @Test(arguments: [
        ("**", "a/b/c.txt", true), ("*.jar", "a.jar", true), ("*.jar", "lib/a.jar", false), ("**/*.jar", "lib/x/a.jar", true),
        ("**/*.jar", "a.jar", true), ("release/**", "release", true), ("release/**", "release/1/a", true), ("release/**", "releases/a", false),
        ("a/?/c", "a/b/c", true), ("a/?/c", "a/bb/c", false), ("a/**/c", "a/c", true), ("a/**/c", "a/x/y/c", true), ("a/*", "a/b/c", false),
    ])
    func antPatterns(pattern: String, path: String, matches: Bool) {
        #expect(AntPattern(pattern).matches(path) == matches)
    }

    @Test func filtersSelectByRepositoryAndPatternsWithExcludeWinning() {
        let filter = ArtifactFilter(repoKeys: ["libs"], includePatterns: ["release/**"], excludePatterns: ["**/*.tmp"])
        #expect(filter.selects(repo: "libs", path: "release/a.jar"))
        #expect(!filter.selects(repo: "libs", path: "release/a.tmp"))
        #expect(!filter.selects(repo: "libs", path: "snapshot/a.jar"))
        #expect(!filter.selects(repo: "other", path: "release/a.jar"))
        #expect(ArtifactFilter(anyLocal: true).selects(repo: "any", path: "x"))
    }

    static func item(_ path: String, size: Int64 = 1, created: Int64 = 0, downloads: Int64 = 0, lastDownloaded: Int64? = nil) -> ArtifactItem {
        ArtifactItem(
            repo: "libs", path: path, isFolder: false, size: size, sha256: "s", sha1: "h", md5: "m", createdAt: created, modifiedAt: created,
            updatedAt: created, createdBy: "u", modifiedBy: "u", downloadCount: downloads, lastDownloaded: lastDownloaded)
    }

    @Test func relativeTimesAndNeverDownloaded() throws {
        let day: Int64 = 86_400_000
        let now = 100 * day
        let rows: [(ArtifactItem, ArtifactProperties)] = [
            (Self.item("old-never.bin", created: now - 40 * day), [:]),
            (Self.item("old-used.bin", created: now - 40 * day, downloads: 3, lastDownloaded: now - 2 * day), [:]),
            (Self.item("old-stale.bin", created: now - 40 * day, downloads: 1, lastDownloaded: now - 35 * day), ["q": ["a", "b"]]),
            (Self.item("new.bin", created: now - day), [:]),
        ]
        let query = try AQLQuery.parse(
            #"items.find({"$or":[{"stat.downloaded":{"$before":"30d"}},{"$and":[{"stat.downloads":{"$eq":null}},{"created":{"$before":"30d"}}]}]}).sort({"$asc":["name"]})"#
        )
        #expect(query.evaluate(rows, now: now)?.results.map { $0["name"] as? String } == ["old-never.bin", "old-stale.bin"])
        let property = try AQLQuery.parse(#"items.find({"@q":"b"})"#)
        #expect(property.evaluate(rows, now: now)?.results.count == 1)
        let notProperty = try AQLQuery.parse(#"items.find({"@q":{"$ne":"b"}}).sort({"$asc":["name"]})"#)
        #expect(notProperty.evaluate(rows, now: now)?.results.count == 3)
        #expect(try AQLQuery.parse(#"items.find({"repo":"libs"})"#).repositoryKeys == ["libs"])
        #expect(try AQLQuery.parse(#"items.find({"$or":[{"repo":"a"},{"repo":"b"}]})"#).repositoryKeys == ["a", "b"])
        #expect(try AQLQuery.parse(#"items.find({"$or":[{"repo":"a"},{"name":"b"}]})"#).repositoryKeys == nil)
    }

    @Test(arguments: [
        (#"items.find({"size":true})"#, "boolean"), (#"items.find({"name":{"$regex":"x"}})"#, "$regex"), (#"items.find({"$not":[]})"#, "$not"),
        (#"items.find({}).include("color")"#, "color"), (#"items.find({}).sort({"$asc":["size","sha256"]})"#, "sha256"),
        (#"items.find({}).offset(x)"#, "offset"), (#"items.find({}) trailing"#, "unexpected"),
    ])
    func refusals(query: String, part: String) {
        #expect(throws: WardenError.self) { try AQLQuery.parse(query) }
        do {
            _ = try AQLQuery.parse(query)
        } catch {
            #expect(error.message.contains(part), "\(error.message)")
        }
    }

    @Test func executorCrashesCountTowardSuspensionAndWaitsAreBounded() async throws {
        let guardian = RunGuard(executors: 2, tripAfter: 3, cooldown: .seconds(60), maxWait: .milliseconds(300))
        for _ in 0..<3 {
            guard case .run(let ticket) = await guardian.admit("crasher") else {
                Issue.record("the crashing worker was not admitted")
                return
            }
            guardian.finish("crasher", ticket: ticket, outcome: .executorCrashed("signal 5"))
        }
        guard case .suspended = await guardian.admit("crasher") else {
            Issue.record("three executor crashes in a row did not suspend the worker")
            return
        }
        // A worker on probation runs one at a time; a second run waits at most maxWait, then gives up.
        guard case .run(let first) = await guardian.admit("slow") else { return }
        guardian.finish("slow", ticket: first, outcome: .wallLimit)
        guard case .run(let held) = await guardian.admit("slow") else { return }
        guard case .timedOut = await guardian.admit("slow") else {
            Issue.record("a run held back by the guard waited past its queue wait")
            return
        }
        guardian.finish("slow", ticket: held, outcome: .success(resultJSON: nil))
    }

    @Test func aRunawayWorkerIsHeldBackThenSuspendedAndOthersAreNot() async throws {
        let guardian = RunGuard(executors: 2, tripAfter: 3, cooldown: .seconds(60))
        // Quick runs of a healthy worker are admitted side by side.
        guard case .run(let a) = await guardian.admit("healthy"), case .run(let b) = await guardian.admit("healthy") else {
            Issue.record("a healthy worker was held back")
            return
        }
        guardian.finish("healthy", ticket: a, outcome: .success(resultJSON: nil))
        guardian.finish("healthy", ticket: b, outcome: .success(resultJSON: nil))
        // After a limit break the worker runs one at a time: the second waits until the first ends.
        guard case .run(let first) = await guardian.admit("loop") else { return }
        guardian.finish("loop", ticket: first, outcome: .cpuLimit)
        guard case .run(let second) = await guardian.admit("loop") else { return }
        let waiting = Task { await guardian.admit("loop") }
        try await Task.sleep(for: .milliseconds(100))
        guardian.finish("loop", ticket: second, outcome: .wallLimit)
        guard case .run(let third) = await waiting.value else {
            Issue.record("the waiting run was not admitted")
            return
        }
        guardian.finish("loop", ticket: third, outcome: .cpuLimit)
        guard case .suspended(let seconds) = await guardian.admit("loop") else {
            Issue.record("three limit breaks in a row did not suspend the worker")
            return
        }
        #expect(seconds > 50)
        // Another worker is not affected.
        guard case .run(let other) = await guardian.admit("healthy") else {
            Issue.record("a healthy worker was suspended too")
            return
        }
        guardian.finish("healthy", ticket: other, outcome: .success(resultJSON: nil))
    }
}
