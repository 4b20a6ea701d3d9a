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

    static let cleanupRows: [(ArtifactItem, ArtifactProperties)] = [
        (item("old-unused.bin", size: 10), ["p1": ["x", "y"], "team": ["core"]]),
        (item("recent.bin", size: 20, downloads: 1), ["p1": ["z"]]),
        (item("other.bin", size: 30), ["team": ["x"]]),
    ]

    static func names(_ query: String) throws -> [String] {
        let result = try AQLQuery.parse(query).evaluate(cleanupRows, now: 0)
        return (result?.results ?? []).compactMap { $0["name"] as? String }.sorted()
    }

    @Test func aRepeatedKeyIsAndedNeverDropped() throws {
        // The published cleanup sample writes two "$or" in one object; only the last one counted and the worker
        // deleted a file it should have kept.
        #expect(try Self.names(#"items.find({"$or":[{"name":"old-unused.bin"}],"$or":[{"repo":"libs"}]})"#) == ["old-unused.bin"])
        #expect(try Self.names(#"items.find({"$or":[{"repo":"libs"}],"$or":[{"name":"old-unused.bin"}]})"#) == ["old-unused.bin"])
        #expect(try Self.names(#"items.find({"name":"recent.bin","name":"other.bin"})"#) == [])
        #expect(try Self.names(#"items.find({"size":{"$gt":5},"size":{"$lt":25}})"#) == ["old-unused.bin", "recent.bin"])
        #expect(try Self.names(#"items.find({"size":{"$gt":5,"$gt":15}})"#) == ["other.bin", "recent.bin"])
        #expect(try Self.names(#"items.find({"$and":[{"size":{"$gt":5}}],"$and":[{"size":{"$lt":15}}]})"#) == ["old-unused.bin"])
    }

    @Test func propertyKeyAndValueCriteria() throws {
        #expect(try Self.names(#"items.find({"property.key":"p1"})"#) == ["old-unused.bin", "recent.bin"])
        #expect(try Self.names(#"items.find({"property.key":"p1","property.value":"x"})"#) == ["old-unused.bin"])
        #expect(try Self.names(#"items.find({"property.key":{"$eq":"team"}})"#) == ["old-unused.bin", "other.bin"])
        #expect(try Self.names(#"items.find({"property.value":{"$match":"?"}})"#) == ["old-unused.bin", "other.bin", "recent.bin"])
        #expect(try Self.names(#"items.find({"property.key":{"$match":"te*"}})"#) == ["old-unused.bin", "other.bin"])
        #expect(try Self.names(#"items.find({"property.key":{"$ne":"team"}})"#) == ["recent.bin"])
        // Without $msp the key and the value may belong to different properties, as in the reference; with it, to one.
        #expect(try Self.names(#"items.find({"property.key":"team","property.value":"x"})"#) == ["old-unused.bin", "other.bin"])
        #expect(try Self.names(#"items.find({"$msp":[{"property.key":"team"},{"property.value":"x"}]})"#) == ["other.bin"])
        #expect(try Self.names(#"items.find({"$msp":[{"@p1":"y"},{"property.value":{"$match":"y"}}]})"#) == ["old-unused.bin"])
    }

    @Test(arguments: [
        (#"items.find({"size":true})"#, "boolean"), (#"items.find({"name":{"$regex":"x"}})"#, "$regex"), (#"items.find({"$not":[]})"#, "$not"),
        (#"items.find({}).include("color")"#, "color"), (#"items.find({}).sort({"$asc":["size","sha256"]})"#, "sha256"),
        (#"items.find({}).offset(x)"#, "offset"), (#"items.find({}) trailing"#, "unexpected"),
        (#"items.find({"property.name":"a"})"#, "property.name"), (#"items.find({"$msp":[{"name":"a"}]})"#, "$msp"),
        (#"items.find({"name":{}})"#, "no operator"), (#"items.find({"name":[1]})"#, "name"),
        (#"items.find({"a":1,})"#, "JSON"), (#"items.find({"name":"a" "b"})"#, "JSON"),
        (#"items.find({}).sort({"$asc":["name"],"$desc":["size"]})"#, "sort"),
    ])
    func refusals(query: String, part: String) {
        #expect(throws: WardenError.self) { try AQLQuery.parse(query) }
        do {
            _ = try AQLQuery.parse(query)
        } catch {
            #expect(error.message.contains(part), "\(error.message)")
        }
    }

    @Test func orderedJSONKeepsEveryMemberInOrderAndRefusesWhatIsNotJSON() throws {
        let value = try OrderedJSON.parse(#" {"b":1,"a":[true,null,"\u00e9\ud83d\ude00\n"],"b":-2.5e1} "#)
        #expect(value.members?.map(\.key) == ["b", "a", "b"])
        #expect(value.members?[1].value == .array([.bool(true), .null, .string("é😀\n")]))
        #expect(value.members?[2].value == .number(-25))
        for bad in ["", "{", "[1,]", "01", "1.", "-", "\"a", "\"\\x\"", "{\"a\" 1}", "tru", "1 2", "\"\u{01}\"", "1e999"] {
            #expect(throws: OrderedJSONError.self, "\(bad)") { try OrderedJSON.parse(bad) }
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: OrderedJSONError.self) { try OrderedJSON.parse(deep) }
        #expect(try OrderedJSON.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).elements != nil)
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
