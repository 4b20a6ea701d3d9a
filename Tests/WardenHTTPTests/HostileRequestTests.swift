import Foundation
import HTTPTypes
import Hummingbird
import RunModel
import Testing
import WardenCore
import WardenHTTP

/// The findings of the attacker's review (issue 10), each through the router: numbers that do not fit are refused
/// rather than trapped on, an unreadable or cut verdict never reads as consent, and copies and moves pass the same
/// policies as the downloads, deletes and uploads they amount to.
@Suite("Hostile requests")
struct HostileRequestTests {
    static let huge = "9223372036854775807"

    // MARK: Numbers that do not fit (findings 1, 2, 3, 5, 6)

    @Test func aqlNumbersThatDoNotFitAreRefusedByName() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            for criterion in [#"{"name":1e19}"#, #"{"size":{"$gt":-1e300}}"#, #"{"@p":18446744073709551615}"#] {
                let reply = try await client.send(.post, "/artifactory/api/search/aql", token: nil, raw: "items.find(\(criterion))")
                #expect(reply.status == .badRequest, "\(criterion): \(reply.text)")
                #expect(reply.text.contains("does not fit"), "\(reply.text)")
            }
            let span = try await client.send(.post, "/artifactory/api/search/aql", raw: #"items.find({"created":{"$last":"99999999999999y"}})"#)
            #expect(span.status == .badRequest && span.text.contains("$last"), "\(span.text)")
            // A number that fits is still a number.
            #expect(try await client.send(.post, "/artifactory/api/search/aql", raw: #"items.find({"size":{"$gt":1e18}})"#).status == .ok)
        }
    }

    @Test func pagesAndWindowsFarPastTheEndAreEmptyNotATrap() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "t1"]).status == .created)
            for route in ["builds", "buildsets"] {
                for query in ["skip=\(Self.huge)", "limit=\(Self.huge)", "skip=\(Self.huge)&limit=\(Self.huge)"] {
                    let reply = try await client.send(.get, "/api/tenant/t1/\(route)?\(query)", token: nil)
                    #expect(reply.status == .ok, "\(route)?\(query): \(reply.text)")
                    #expect((reply.json as? [Any])?.isEmpty == true)
                }
            }
            let runners = try await client.send(.get, "/api/v4/runners?page=\(Self.huge)&per_page=100", token: Harness.user)
            #expect(runners.status == .ok && (runners.json as? [Any])?.isEmpty == true, "\(runners.text)")
            #expect(try await client.send(.get, "/api/v4/runners/all?page=\(Self.huge)").status == .ok)
            let tooBig = try await client.send(.get, "/api/v4/runners?page=99999999999999999999", token: Harness.user)
            #expect(tooBig.status == .badRequest && tooBig.text.contains("page"), "\(tooBig.text)")

            let admin = ["Authorization": "token \(Harness.admin)"]
            let group = try #require(try await client.send(.post, "/api/v4/groups", json: ["name": "acme"]).object["id"] as? Int)
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app", "namespace_id": group])
            let agents = try await client.send(.get, "/project/acme/app/runners?page=\(Self.huge)&size=2", token: nil, headers: admin)
            #expect(agents.status == .ok, "\(agents.text)")
        }
    }

    @Test func expiriesPastTenYearsAreRefusedAndAStoredOneNeverTraps() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let token = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "far", "expiresInSeconds": Int64.max])
            #expect(token.status == .badRequest && token.error?.contains("expiresInSeconds") == true, "\(token.text)")
            let fraction = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "far", "expiresInSeconds": 1e300])
            #expect(fraction.status == .badRequest && fraction.error?.contains("expiresInSeconds") == true, "\(fraction.text)")
            #expect(try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "near", "expiresInSeconds": 60]).status == .created)

            #expect(try await client.send(.post, "/api/tenants", json: ["name": "t1"]).status == .created)
            #expect(try await client.send(.post, "/api/v4/projects", json: ["name": "app", "tenant": "t1"]).status == .created)
            let autohold = "/api/tenant/t1/project/root/app/autohold"
            for expiration in [9_223_372_036_854_775 as Int64, Int64.max] {
                let reply = try await client.send(
                    .post, autohold, json: ["job": "unit", "reason": "r", "count": 1, "node_hold_expiration": expiration])
                #expect(reply.status == .badRequest && reply.text.contains("node_hold_expiration"), "\(reply.text)")
            }
            let huge = try await client.send(.post, autohold, json: ["job": "unit", "reason": "r", "count": 1, "node_hold_expiration": 1e30])
            #expect(huge.status == .badRequest && huge.text.contains("node_hold_expiration"), "\(huge.text)")
        }
        // A hold stored before the limit existed, already holding a node: its release time saturates, and resuming
        // it at start-up neither traps nor stops the start.
        let tenant = try #require(try await harness.storage.createTenant(CITenant(name: "old")))
        let project = try await harness.storage.createProject(CIProject(tenantID: tenant.id, namespace: "root", path: "p", name: "p"))
        let stored = try await harness.storage.createAutohold(
            Autohold(
                tenantID: tenant.id, projectID: project.id, job: "unit", refFilter: ".*", maxCount: 2, reason: "r",
                nodeExpiration: 9_223_372_036_854_775, createdAt: 0))
        let held = try #require(
            try await harness.storage.recordHold(id: stored.id, Autohold.HeldNodes(build: "b", nodes: ["runner-1"], heldAt: 1_700_000_000_000)))
        #expect(held.releaseTime(of: held.nodes[0]) == Int64.max)
        #expect(await harness.tenants.resumeHoldExpiries().isEmpty)
    }

    // MARK: Verdicts that fail closed (finding 10)

    static func stopWorker(_ key: String, returning expression: String) -> [String: Any] {
        [
            "key": key, "action": "BEFORE_DOWNLOAD", "enabled": true,
            "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"], "includePatterns": ["internal/**"]]],
            "sourceCode": "export default async (context, data) => { const path = data.repoPath.path; return \(expression); };",
        ]
    }

    func withLibs(failPolicy: FailPolicy = .open, _ body: @escaping @Sendable (Harness.Client, Harness) async throws -> Void) async throws {
        let harness = try await Harness(failPolicy: failPolicy)
        try await harness.session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/api/repositories/public", json: ["rclass": "local"]).status == .ok)
            try await body(client, harness)
        }
    }

    @Test func aStopWhoseMessageCutsAnEmojiInHalfStillStops() async throws {
        try await withLibs { client, _ in
            let worker = Self.stopWorker(
                "no-internal", returning: "({ status: DownloadStatus.DOWNLOAD_STOP, message: 'Blocked ' + path.slice(0, 18) })")
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: worker).status == .created)
            let path = "/artifactory/libs/internal/aaaaaaaa%F0%9F%98%80.txt"
            #expect(try await client.send(.put, path, raw: "secret").status == .created)
            let reply = try await client.send(.get, path)
            #expect(reply.status == .forbidden, "\(reply.text)")
            #expect(reply.error == "Blocked internal/aaaaaaaa\u{FFFD}")
        }
    }

    @Test(arguments: [FailPolicy.open, .closed])
    func anUnreadableVerdictFollowsTheFailPolicy(policy: FailPolicy) async throws {
        try await withLibs(failPolicy: policy) { client, _ in
            let deep =
                "(() => { let v = { status: 2, message: 'deep' }; for (let i = 0; i < 600; i++) v = { status: 2, message: 'deep', v }; return v; })()"
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Self.stopWorker("deep", returning: deep)).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/internal/a.txt", raw: "secret").status == .created)
            let reply = try await client.send(.get, "/artifactory/libs/internal/a.txt")
            #expect(reply.status == (policy == .closed ? .forbidden : .ok), "\(reply.text)")
            let history = try await client.send(.get, "/worker/api/v1/execution_history?workerKey=deep")
            let entry = (history.json as? [[String: Any]])?.first
            #expect(entry?["executionStatus"] as? String == "STATUS_FAIL", "\(history.text)")
            #expect(history.text.contains("nested deeper than"))
        }
    }

    @Test func verdictsOfTheWrongShapeAreFailuresNotConsent() async throws {
        try await withLibs(failPolicy: .closed) { client, _ in
            for (index, answer) in ["'stop'", "[2]", "({ status: { code: 2 } })", "({ status: true })", "42"].enumerated() {
                let key = "shape-\(index)"
                #expect(try await client.send(.post, "/worker/api/v1/workers", json: Self.stopWorker(key, returning: answer)).status == .created)
                #expect(try await client.send(.put, "/artifactory/libs/internal/\(key).txt", raw: "secret").status == .created)
                let reply = try await client.send(.get, "/artifactory/libs/internal/\(key).txt")
                #expect(reply.status == .forbidden, "\(answer): \(reply.text)")
                #expect(try await client.send(.delete, "/worker/api/v1/workers/\(key)").status == .noContent)
            }
            // Nothing returned at all is no objection; `status` as a name still counts.
            let quiet = Self.stopWorker("quiet", returning: "undefined")
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: quiet).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/internal/q.txt", raw: "ok").status == .created)
            #expect(try await client.send(.get, "/artifactory/libs/internal/q.txt").status == .ok)
        }
    }

    // MARK: Copy and move honour the policies (finding 9)

    @Test func copiesAndMovesOfAStoppedPathAreRefusedAndWriteNothing() async throws {
        try await withLibs { client, _ in
            let worker = Self.stopWorker("no-internal", returning: "({ status: DownloadStatus.DOWNLOAD_STOP, message: path + ' is internal' })")
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: worker).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/internal/plans.txt", raw: "secret plans").status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/open/readme.txt", raw: "hello").status == .created)
            // The user may read, write and delete both repositories: only the policy stands in the way.
            try await Harness.grant(client, name: "user-everything", repositories: ["libs", "public"], users: ["user": ["read", "write", "delete"]])
            #expect(try await client.send(.get, "/artifactory/libs/internal/plans.txt", token: Harness.user).status == .forbidden)
            for (verb, query) in [("copy", ""), ("copy", "&dry=1"), ("move", ""), ("move", "&dry=1")] {
                for source in ["libs/internal/plans.txt", "libs/internal", "libs"] {
                    let reply = try await client.send(
                        .post, "/artifactory/api/\(verb)/\(source)?to=/public/taken-\(verb)\(query)", token: Harness.user)
                    #expect(reply.status == .forbidden, "\(verb) \(source)\(query): \(reply.text)")
                    #expect(reply.error == "internal/plans.txt is internal")
                }
            }
            #expect(try await client.send(.get, "/artifactory/api/storage/public/taken-copy").status == .notFound)
            #expect(try await client.send(.get, "/artifactory/api/storage/public/taken-move").status == .notFound)
            #expect(try await client.send(.get, "/artifactory/api/storage/libs/internal/plans.txt").status == .ok)
            // What no policy stops still copies.
            let open = try await client.send(.post, "/artifactory/api/copy/libs/open/readme.txt?to=/public/readme.txt", token: Harness.user)
            #expect(open.status == .ok, "\(open.text)")
            #expect(try await client.send(.get, "/artifactory/public/readme.txt").text == "hello")
        }
    }

    @Test func aMoveAsksTheSourcesDeletePolicyAndACopyTheTargetsUploadPolicy() async throws {
        try await withLibs { client, _ in
            let keep: [String: Any] = [
                "key": "keep-keys", "action": "BEFORE_DELETE", "enabled": true,
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"], "includePatterns": ["**/*.key"]]],
                "sourceCode":
                    "export default async (context, data) => ({ status: BeforeDeleteStatus.BEFORE_DELETE_STOP, message: 'keys stay: ' + data.metadata.triggeredByMove });",
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: keep).status == .created)
            let guardPublic: [String: Any] = [
                "key": "no-keys-in-public", "action": "BEFORE_UPLOAD", "enabled": true,
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["public"], "includePatterns": ["**/*.key"]]],
                "sourceCode": "export default async () => ({ status: UploadStatus.UPLOAD_STOP, message: 'no keys in public' });",
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: guardPublic).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/certs/site.key", raw: "k").status == .created)
            let move = try await client.send(.post, "/artifactory/api/move/libs/certs?to=/libs/elsewhere")
            #expect(move.status == .forbidden && move.error == "keys stay: true", "\(move.text)")
            let delete = try await client.send(.delete, "/artifactory/libs/certs")
            #expect(delete.status == .forbidden && delete.error == "keys stay: false", "\(delete.text)")
            let copy = try await client.send(.post, "/artifactory/api/copy/libs/certs?to=/public/certs")
            #expect(copy.status == .forbidden && copy.error == "no keys in public", "\(copy.text)")
            #expect(try await client.send(.get, "/artifactory/libs/certs/site.key").text == "k")
            #expect(try await client.send(.get, "/artifactory/api/storage/public/certs").status == .notFound)
        }
    }
}

/// A project admin's flood of slow test runs against an admin's global download policy (finding 8), and keyless
/// test runs of two projects (finding 17).
@Suite("Fair executors through the router")
struct FairExecutorTests {
    nonisolated(unsafe) static let policy: [String: Any] = [
        "key": "no-internal", "action": "BEFORE_DOWNLOAD", "enabled": true,
        "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"], "includePatterns": ["internal/**"]]],
        "sourceCode": "export default async () => ({ status: DownloadStatus.DOWNLOAD_STOP, message: 'internal' });",
    ]
    nonisolated(unsafe) static let slowTest: [String: Any] = [
        "code": "export default async (context) => { await context.wait(2500); return { message: 'slept' }; };",
        "action": "GENERIC_EVENT", "data": [:],
    ]

    /// Longer than any late wake-up of a loaded machine between seeing the executor busy and downloading.
    nonisolated(unsafe) static let longTest: [String: Any] = [
        "code": "export default async (context) => { await context.wait(8000); return { message: 'slept' }; };",
        "action": "GENERIC_EVENT", "data": [:],
    ]

    @Test func aFloodOfSlowTestRunsNeverLetsAProtectedFileOut() async throws {
        let pool = try Harness.pool(executors: 2, maxQueueWait: .seconds(1))
        defer { pool.shutdown() }
        let harness = try await Harness(settings: WorkerSettings(executors: 2, maxQueueWait: .seconds(1)), pool: pool)
        try await harness.session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Self.policy).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/internal/plans.txt", raw: "secret").status == .created)
            try await withThrowingTaskGroup(of: Harness.Reply.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await client.send(.post, "/worker/api/v1/test", token: Harness.projectAdmin, json: Self.slowTest) }
                }
                try await Task.sleep(for: .milliseconds(300))
                for _ in 0..<3 {
                    let download = try await client.send(.get, "/artifactory/libs/internal/plans.txt", token: Harness.user)
                    #expect(download.status == .forbidden, "\(download.status): \(download.text)")
                    #expect(download.text != "secret")
                }
                for try await reply in group { #expect(reply.status == .ok) }
            }
        }
    }

    @Test func aPolicyThatCannotRunInTimeRefusesWhateverTheFailPolicy() async throws {
        // One executor, held by a slow caller run: the policy cannot run within the queue wait.
        let pool = try Harness.pool(executors: 1, maxQueueWait: .milliseconds(500))
        defer { pool.shutdown() }
        let settings = WorkerSettings(limits: RunLimits(wallMillis: 20_000), executors: 1, maxQueueWait: .milliseconds(500))
        let harness = try await Harness(settings: settings, failPolicy: .open, pool: pool)
        try await harness.session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Self.policy).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/internal/plans.txt", raw: "secret").status == .created)
            async let slow = client.send(.post, "/worker/api/v1/test", token: Harness.projectAdmin, json: Self.longTest)
            // Downloaded once the slow run holds the executor (a fixed sleep here let the policy run first under load).
            _ = try await Harness.eventually(limit: .seconds(30), every: .milliseconds(10)) { pool.busyExecutors > 0 ? true : nil }
            #expect(pool.busyExecutors == 1)
            let download = try await client.send(.get, "/artifactory/libs/internal/plans.txt")
            #expect(download.status == .serviceUnavailable, "\(download.status): \(download.text)")
            #expect(download.error?.contains("could not run in time") == true)
            #expect(try await slow.status == .ok)
        }
    }

    @Test func keylessTestRunsOfTwoProjectsShareNothing() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let code = "const seen = []; export default async (context) => { seen.push(context.secrets.get('k') ?? 'none'); return { data: seen }; };"
            let first = try await client.send(
                .post, "/worker/api/v1/test", token: Harness.projectAdmin,
                json: ["code": code, "action": "GENERIC_EVENT", "data": [:], "stagedSecrets": [["key": "k", "value": "p1-secret"]]])
            #expect(first.status == .ok && !first.text.contains("p1-secret"), "\(first.text)")
            let second = try await client.send(
                .post, "/worker/api/v1/test", token: Harness.otherProjectAdmin, json: ["code": code, "action": "GENERIC_EVENT", "data": [:]])
            #expect(second.status == .ok, "\(second.text)")
            #expect(!second.text.contains("p1-secret") && !second.text.contains("***"), "\(second.text)")
            #expect(second.text.contains("none"))
        }
    }
}

/// The lesser findings of issue 10 that the router shows.
@Suite("Lesser findings through the router")
struct LesserFindingTests {
    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func jwtAlgorithmIsPinnedAndNotBeforeIsChecked() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "t1"]).status == .created)
            let route = "/api/tenant/t1/promote"
            let payload = #"{"sub":"eve","iss":"warden-tests","aud":["warden"],"exp":4102444800,"zuul":{"admin":["t1"]}}"#
            for header in [#"{"alg":"none","typ":"JWT"}"#, #"{"alg":"RS256","typ":"JWT"}"#, #"{"typ":"JWT"}"#] {
                let token = Self.base64URL(header) + "." + Self.base64URL(payload) + "."
                let reply = try await client.send(.post, route, token: token, json: [:])
                #expect(reply.status == .unauthorized, "\(header): \(reply.text)")
                #expect(reply.text.contains("algorithm"), "\(reply.text)")
            }
            let early = try await TenantAPITests.token("ada", admin: ["t1"], expires: 7200, notBefore: 3600)
            let refused = try await client.send(.post, route, token: early, json: [:])
            #expect(refused.status == .unauthorized && refused.text.contains("nbf"), "\(refused.text)")
            let onTime = try await TenantAPITests.token("ada", admin: ["t1"], expires: 7200, notBefore: -60)
            let accepted = try await client.send(.post, route, token: onTime, json: [:])
            #expect(accepted.status == .badRequest, "\(accepted.text)")
        }
    }

    @Test func loginsAreThrottledPerUserAndASuccessClearsTheCount() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.post, "/api/users", json: ["username": "ada", "password": "correct horse"]).status == .created)
            for _ in 0..<5 {
                #expect(try await client.send(.post, "/login", token: nil, json: ["username": "ada", "password": "wrong"]).status == .unauthorized)
            }
            let throttled = try await client.send(.post, "/login", token: nil, json: ["username": "ada", "password": "correct horse"])
            #expect(throttled.status == .tooManyRequests && throttled.text.contains("try again in"), "\(throttled.text)")
            // Another user is not held back by ada's failures.
            #expect(try await client.send(.post, "/api/users", json: ["username": "bob", "password": "correct horse"]).status == .created)
            #expect(try await client.send(.post, "/login", token: nil, json: ["username": "bob", "password": "correct horse"]).status == .ok)
        }
    }

    @Test func storageInfoShowsNoAbsolutePath() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let info = try await client.send(.get, "/artifactory/api/storageinfo")
            #expect(info.status == .ok)
            #expect(!info.text.contains(FileManager.default.temporaryDirectory.path), "\(info.text)")
            #expect(!info.text.contains("\"/"), "\(info.text)")
        }
    }

    @Test func workersCannotSetCookiesOrTheContentTypeOfAnArtifact() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            let worker: [String: Any] = [
                "key": "headers", "action": "BEFORE_DOWNLOAD", "enabled": true,
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
                "sourceCode": """
                export default async () => ({ status: 1, message: 'ok', headers: {
                  'Set-Cookie': { value: ['candor_session=stolen'] }, 'Content-Type': { value: ['text/html'] },
                  'Location': { value: ['https://evil.test'] }, 'X-Bad\\r\\nInjected': { value: ['1'] },
                  'X-Policy': { value: ['checked'] } } });
                """,
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: worker).status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/page.txt", raw: "<script>alert(1)</script>").status == .created)
            let reply = try await client.send(.get, "/artifactory/libs/page.txt")
            #expect(reply.status == .ok)
            #expect(reply.headers[.setCookie] == nil)
            #expect(reply.headers[values: .contentType] == ["text/plain"], "\(reply.headers)")
            #expect(reply.headers[.location] == nil)
            #expect(reply.headers[HTTPField.Name("X-Policy")!] == "checked")
        }
    }

    @Test func rerunTakesOnlyEntriesOfTheCurrentWorker() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("again")).status == .created)
            #expect(try await client.send(.post, "/worker/api/v1/execute/again", json: ["n": 1]).status == .ok)
            let history = try await client.send(.get, "/worker/api/v1/execution_history?workerKey=again")
            let old = try #require((history.json as? [[String: Any]])?.first?["historyEntryId"] as? String)
            #expect(try await client.send(.post, "/worker/api/v1/rerun/again", json: ["historyEntryId": old]).status == .ok)
            #expect(try await client.send(.delete, "/worker/api/v1/workers/again").status == .noContent)
            try await Task.sleep(for: .milliseconds(5))
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("again")).status == .created)
            let refused = try await client.send(.post, "/worker/api/v1/rerun/again", json: ["historyEntryId": old])
            #expect(refused.status == .notFound, "\(refused.text)")
        }
    }
}
