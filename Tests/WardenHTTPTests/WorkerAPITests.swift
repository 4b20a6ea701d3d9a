import Foundation
import Hummingbird
import Testing
import WardenCore

@Suite("Worker API routes")
struct WorkerAPITests {
    @Test func livenessAndReadinessNeedNoCredentials() async throws {
        try await Harness().session { client in
            let live = try await client.send(.get, "/worker/api/v1/system/liveness", token: nil)
            #expect(live.status == .ok)
            let ready = try await client.send(.get, "/worker/api/v1/system/readiness", token: nil)
            #expect(ready.status == .ok)
            #expect(ready.object["code"] as? String == "OK")
            #expect(ready.headers[.contentType] == "application/json; charset=utf-8")
        }
    }

    @Test func theCommercialCLISequenceWorks() async throws {
        try await Harness().session { client in
            // create via v2 → 201
            var body = Harness.genericWorker("cli-worker")
            body["action"] = ["application": "worker", "name": "GENERIC_EVENT"]
            body["secrets"] = [["key": "token", "value": "first"]]
            body["version"] = ["versionNumber": "1.0.0", "commitSha": "abc"]
            let created = try await client.send(.post, "/worker/api/v2/workers", json: body)
            #expect(created.status == .created, "\(created.text)")
            // the secret is never returned, only its name
            let read = try await client.send(.get, "/worker/api/v1/workers/cli-worker")
            #expect(read.status == .ok)
            #expect(read.object["secrets"] as? [[String: String]] == [["key": "token"]])
            #expect(!read.text.contains("first"))
            #expect(read.object["action"] as? String == "GENERIC_EVENT")
            // update with remove-then-add → 204, and the worker sees the new value
            body["secrets"] = [["key": "token", "markedForRemoval": true], ["key": "token", "value": "second"]]
            body["description"] = "updated"
            let updated = try await client.send(.put, "/worker/api/v2/workers", json: body)
            #expect(updated.status == .noContent, "\(updated.text)")
            let test = try await client.send(
                .post, "/worker/api/v1/test/cli-worker",
                json: ["code": "export default async (c) => c.secrets.get('token') === 'second';", "action": "GENERIC_EVENT", "data": [:]])
            #expect((test.object["genericEvent"] as? [String: Any])?["data"] as? Bool == true, "\(test.text)")
            // delete → 204, then 404 on GET and DELETE
            #expect(try await client.send(.delete, "/worker/api/v1/workers/cli-worker").status == .noContent)
            let gone = try await client.send(.get, "/worker/api/v1/workers/cli-worker")
            #expect(gone.status == .notFound)
            #expect(gone.error == "worker 'cli-worker' does not exist")
            #expect(try await client.send(.delete, "/worker/api/v1/workers/cli-worker").status == .notFound)
            #expect(try await client.send(.put, "/worker/api/v1/workers", json: body).status == .notFound)
        }
    }

    @Test func listFiltersByActionAndGivesKeysOnly() async throws {
        try await Harness().session { client in
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("gen-a"))
            try await client.send(
                .post, "/worker/api/v1/workers",
                json: [
                    "key": "dl-a", "action": "BEFORE_DOWNLOAD", "sourceCode": "export default async () => ({ status: 1, message: '' });",
                    "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
                ])
            let all = try await client.send(.get, "/worker/api/v1/workers")
            #expect(((all.object["workers"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String } == ["dl-a", "gen-a"])
            let downloads = try await client.send(.get, "/worker/api/v1/workers?action=BEFORE_DOWNLOAD&keysOnly=true")
            #expect(downloads.object["keys"] as? [String] == ["dl-a"])
            let bad = try await client.send(.get, "/worker/api/v1/workers?action=NOPE")
            #expect(bad.status == .badRequest)
            #expect(bad.error?.hasPrefix("action: unknown action 'NOPE'") == true)
        }
    }

    static let badWorkers: [(String, String)] = [
        (#"{}"#, "key: is required"),
        (#"{"key": "1abc"}"#, "key: must start with a letter"),
        (#"{"key": "a"}"#, "key: must be 2 to 64 characters, got 1"),
        (#"{"key": "a12345678901234567890123456789012345678901234567890123456789012345"}"#, "key: must be 2 to 64 characters, got 66"),
        (#"{"key": "has.dot"}"#, "key: may contain only letters, digits, '-' and '_'"),
        (#"{"key": "_under"}"#, "key: must start with a letter"),
        (#"{"key": "ok-key"}"#, "sourceCode: is required"),
        (#"{"key": "ok-key", "sourceCode": "export default async () => 1;"}"#, "action: is required"),
        (#"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "NOPE"}"#, "action: unknown action"),
        (#"{"key": "ok-key", "sourceCode": "export default async () => {", "action": "GENERIC_EVENT"}"#, "sourceCode: line 1"),
        (
            #"{"key": "ok-key", "sourceCode": "import x from 'fs';\nexport default async () => x;", "action": "GENERIC_EVENT"}"#,
            "sourceCode: line 1, column 1: import from 'fs'"
        ),
        (#"{"key": "ok-key", "sourceCode": "base64:!!!", "action": "GENERIC_EVENT"}"#, "sourceCode: starts with 'base64:'"),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "BEFORE_CREATE_TOKEN", "projectKey": "p1"}"#,
            "projectKey: BEFORE_CREATE_TOKEN workers act for the whole server"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "BEFORE_UPLOAD"}"#,
            "filterCriteria.artifactFilterCriteria: an enabled BEFORE_UPLOAD worker"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "SCHEDULED_EVENT"}"#,
            "filterCriteria.schedule: a SCHEDULED_EVENT worker needs a schedule"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "SCHEDULED_EVENT", "filterCriteria": {"schedule": {"cron": "* * *"}}}"#,
            "filterCriteria.schedule.cron: '* * *' has 3 fields"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "SCHEDULED_EVENT", "filterCriteria": {"schedule": {"cron": "61 * * * *"}}}"#,
            "filterCriteria.schedule.cron: minute field '61'"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "SCHEDULED_EVENT", "filterCriteria": {"schedule": {"cron": "*/5 * * * *", "timezone": "Mars/Olympus"}}}"#,
            "filterCriteria.schedule.timezone: 'Mars/Olympus' is not an IANA time zone"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "BEFORE_DOWNLOAD", "shared": true, "enabled": false}"#,
            "shared: only GENERIC_EVENT"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "GENERIC_EVENT", "secrets": [{"key": "a"}]}"#,
            "secrets[0].value: is required"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "GENERIC_EVENT", "enabled": "maybe"}"#,
            "enabled: must be true or false"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "GENERIC_EVENT", "properties": [{"value": "x"}]}"#,
            "properties[0].key: is required"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "GENERIC_EVENT", "version": {"versionNumber": "99999999999999999999999999999999999999999999999999999999999999999"}}"#,
            "version.versionNumber: is 65 characters"
        ),
        (
            #"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": "GENERIC_EVENT", "filterCriteria": {"artifactFilterCriteria": {"repoKeys": "libs"}}}"#,
            "filterCriteria.artifactFilterCriteria.repoKeys: must be an array of strings"
        ),
        (#"{"key": "ok-key", "sourceCode": "export default async () => 1;", "action": {"application": "worker"}}"#, "action.name: is required"),
    ]

    @Test(arguments: badWorkers)
    func badWorkersAreRefusedNamingTheFieldAndNothingIsStored(_ body: String, _ message: String) async throws {
        try await Harness().session { client in
            let reply = try await client.send(.post, "/worker/api/v1/workers", raw: body)
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply.error?.hasPrefix(message) == true, "got \(reply.error ?? reply.text)")
            let list = try await client.send(.get, "/worker/api/v1/workers?keysOnly=true")
            #expect(list.object["keys"] as? [String] == [])
        }
    }

    @Test func malformedBodiesAreRefused() async throws {
        try await Harness().session { client in
            let notJSON = try await client.send(.post, "/worker/api/v1/workers", raw: "{nope")
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.error == "the body is not valid JSON")
            let array = try await client.send(.post, "/worker/api/v1/workers", raw: "[1]")
            #expect(array.error == "the body must be a JSON object")
            let huge = try await client.send(.post, "/worker/api/v1/workers", raw: "\"" + String(repeating: "x", count: 3 << 20) + "\"")
            #expect(huge.status == .contentTooLarge)
        }
    }

    @Test func duplicatesConflictAndUpdatesKeepTheProjectAndWhatIsNotSent() async throws {
        try await Harness().session { client in
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("dup", project: "p1")).status == .created)
            let again = try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("dup"))
            #expect(again.status == .conflict)
            #expect(again.error == "worker 'dup' already exists")
            let moved = try await client.send(.put, "/worker/api/v1/workers", json: ["key": "dup", "projectKey": "p2"])
            #expect(moved.status == .badRequest)
            #expect(moved.error?.hasPrefix("projectKey: is set once") == true)
            #expect(try await client.send(.put, "/worker/api/v1/workers", json: ["key": "dup", "description": "only this"]).status == .noContent)
            let read = try await client.send(.get, "/worker/api/v1/workers/dup")
            #expect(read.object["description"] as? String == "only this")
            #expect(read.object["sourceCode"] as? String == Harness.generic)
            #expect(read.object["projectKey"] as? String == "p1")
            let badUpdate = try await client.send(.put, "/worker/api/v1/workers", json: ["key": "dup", "sourceCode": "export default 1 +;"])
            #expect(badUpdate.status == .badRequest)
            #expect(try await client.send(.get, "/worker/api/v1/workers/dup").object["sourceCode"] as? String == Harness.generic)
        }
    }

    @Test func testRunsGiveTheEnvelopeUseStagedSecretsAndAreRecordedAsTestRuns() async throws {
        try await Harness().session { client in
            let run = try await client.send(
                .post, "/worker/api/v1/test",
                json: [
                    "code":
                        "export default async (context, data) => { console.log('key', context.secrets.get('k')); return { status: DownloadStatus.DOWNLOAD_STOP, message: data.m }; };",
                    "action": "BEFORE_DOWNLOAD", "data": ["m": "stop it"], "stagedSecrets": [["key": "k", "value": "staged-value"]],
                ])
            #expect(run.status == .ok, "\(run.text)")
            let body = try #require(run.object["beforeDownload"] as? [String: Any])
            #expect(body["status"] as? Int == 2)
            #expect(body["message"] as? String == "stop it")
            #expect(body["executionStatus"] as? String == "STATUS_SUCCESS")
            #expect(run.object["logs"] as? String == "[info ] - key ***")
            let failed = try await client.send(
                .post, "/worker/api/v2/test/nope",
                json: ["code": "export default async () => 1;", "action": ["application": "worker", "name": "GENERIC_EVENT"]])
            #expect(failed.status == .notFound)
            let throwing = try await client.send(
                .post, "/worker/api/v1/test",
                json: ["code": "export default async () => { throw new TypeError('bad'); };", "action": "GENERIC_EVENT"])
            #expect(throwing.status == .ok)
            #expect((throwing.object["genericEvent"] as? [String: Any])?["executionStatus"] as? String == "STATUS_FAIL")
            let hidden = try await client.send(.get, "/worker/api/v1/execution_history")
            #expect((hidden.json as? [Any])?.isEmpty == true)
            let shown = try await client.send(.get, "/worker/api/v1/execution_history?showTestRun=true")
            let entries = try #require(shown.json as? [[String: Any]])
            #expect(entries.count == 2)
            #expect(entries.allSatisfy { $0["testRun"] as? Bool == true })
            #expect(!shown.text.contains("staged-value"))
        }
    }

    @Test func executeRunsGenericWorkersOnly() async throws {
        try await Harness().session { client in
            try await client.send(
                .post, "/worker/api/v1/workers", json: Harness.genericWorker("gen", extra: ["secrets": [["key": "token", "value": "hidden-value"]]]))
            let ran = try await client.send(.post, "/worker/api/v1/execute/gen", json: ["x": 1])
            #expect(ran.status == .ok)
            #expect(ran.object["executionStatus"] as? String == "STATUS_SUCCESS")
            #expect((ran.object["data"] as? [String: Any])?["seen"] as? String == "***")
            try await client.send(
                .post, "/worker/api/v1/workers",
                json: Harness.genericWorker("says-fail", extra: ["sourceCode": "export default async () => ({ executionStatus: 2, why: 'no' });"]))
            let said = try await client.send(.post, "/worker/api/v1/execute/says-fail")
            #expect(said.object["executionStatus"] as? String == "STATUS_FAIL")
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("off", extra: ["enabled": false]))
            #expect(try await client.send(.post, "/worker/api/v1/execute/off").status == .conflict)
            try await client.send(
                .post, "/worker/api/v1/workers",
                json: ["key": "dl", "action": "BEFORE_DOWNLOAD", "sourceCode": "export default async () => 1;", "enabled": false])
            let wrong = try await client.send(.post, "/worker/api/v1/execute/dl")
            #expect(wrong.status == .badRequest)
            #expect(try await client.send(.post, "/worker/api/v1/execute/none").status == .notFound)
            let notJSON = try await client.send(.post, "/worker/api/v1/execute/gen", raw: "{")
            #expect(notJSON.status == .badRequest)
            let history = try await client.send(.get, "/worker/api/v1/execution_history?workerKey=gen")
            let entry = try #require((history.json as? [[String: Any]])?.first)
            #expect(entry["workerType"] as? String == "GENERIC_EVENT")
            #expect(entry["triggeredBy"] as? String == "admin")
            #expect(entry["executionPayload"] as? [String: Int] == ["x": 1])
            #expect(!history.text.contains("hidden-value"))
            let stats = (entry["executionResult"] as? [String: Any])?["workerStats"] as? [String: Any]
            #expect(stats?["cpuTimeMillis"] != nil)
        }
    }

    @Test func rerunRunsARecordedPayloadAgain() async throws {
        try await Harness(settings: WorkerSettings(recordSuccessfulRuns: false)).session { client in
            try await client.send(
                .post, "/worker/api/v1/workers",
                json: Harness.genericWorker(
                    "again", extra: ["sourceCode": "export default async (c, d) => { if (d.fail) throw new Error('failed ' + d.n); return d.n; };"]))
            try await client.send(.post, "/worker/api/v1/execute/again", json: ["fail": true, "n": 7])
            let recorded = try #require(
                (try await client.send(.get, "/worker/api/v1/execution_history?workerKey=again").json as? [[String: Any]])?.first)
            let id = try #require(recorded["historyEntryId"] as? String)
            let rerun = try await client.send(.post, "/worker/api/v1/rerun/again?forceRecord=true", json: ["historyEntryId": id])
            #expect(rerun.status == .ok)
            #expect((rerun.object["genericEvent"] as? [String: Any])?["error"] != nil)
            #expect((try await client.send(.get, "/worker/api/v1/execution_history?workerKey=again").json as? [Any])?.count == 2)
            #expect(try await client.send(.post, "/worker/api/v1/rerun/again", json: ["historyEntryId": "nope"]).status == .notFound)
            #expect(try await client.send(.post, "/worker/api/v1/rerun/again", json: [:]).error == "historyEntryId: is required")
            #expect(
                try await client.send(.post, "/worker/api/v1/rerun/again", token: Harness.user, json: ["historyEntryId": id]).status == .forbidden)
        }
    }

    @Test func historyPagingAndBadParameters() async throws {
        try await Harness().session { client in
            try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("paged"))
            for index in 0..<5 { try await client.send(.post, "/worker/api/v1/execute/paged", json: ["i": index]) }
            let page = try await client.send(.get, "/worker/api/v1/execution_history?workerKey=paged&limit=2&offset=1")
            #expect((page.json as? [[String: Any]])?.map { ($0["executionPayload"] as? [String: Int])?["i"] ?? -1 } == [3, 2])
            #expect(try await client.send(.get, "/worker/api/v1/execution_history?limit=abc").error == "limit: must be a whole number, got 'abc'")
            #expect(try await client.send(.get, "/worker/api/v1/execution_history?limit=5000").status == .badRequest)
            #expect(try await client.send(.get, "/worker/api/v1/execution_history?showTestRun=perhaps").status == .badRequest)
        }
    }

    @Test func actionsAndOptions() async throws {
        try await Harness().session { client in
            let names = try await client.send(.get, "/worker/api/v1/system/actions")
            let served = Set((names.json as? [String]) ?? [])
            #expect(
                served.isSuperset(of: [
                    "BEFORE_DOWNLOAD", "AFTER_DOWNLOAD", "BEFORE_UPLOAD", "BEFORE_CREATE", "AFTER_CREATE", "BEFORE_DELETE", "AFTER_DELETE",
                    "BEFORE_COPY", "AFTER_COPY", "BEFORE_MOVE", "AFTER_MOVE", "BEFORE_PROPERTY_CREATE", "AFTER_PROPERTY_CREATE",
                    "BEFORE_PROPERTY_DELETE", "AFTER_PROPERTY_DELETE", "GENERIC_EVENT", "SCHEDULED_EVENT",
                ]))
            // An action of the reference's catalogue nothing here fires is neither listed nor accepted, and the refusal says why.
            #expect(!served.contains("AFTER_WORKLOAD_STATE_CHANGE"))
            let unserved = try await client.send(
                .post, "/worker/api/v1/workers",
                json: ["key": "workload", "action": "AFTER_WORKLOAD_STATE_CHANGE", "sourceCode": "export default async () => ({ message: 'x' });"])
            #expect(unserved.status == .badRequest && unserved.error?.contains("runtime workloads do not exist") == true, "\(unserved.text)")
            #expect(try await client.send(.get, "/worker/api/v1/actions").text == names.text)
            let metadata = try await client.send(.get, "/worker/api/v2/actions")
            let first = try #require((metadata.json as? [[String: Any]])?.first)
            #expect((first["action"] as? [String: String]) == ["application": "artifactory", "name": "BEFORE_DOWNLOAD"])
            #expect(first["filterType"] as? String == "FILTER_REPO")
            #expect((first["typesDefinitions"] as? String)?.contains("export interface BeforeDownloadRequest") == true)
            #expect(first["async"] as? Bool == false)
            let options = try await client.send(.get, "/worker/api/v1/options")
            #expect((options.object["edition"] as? [String: Int])?["maxCodeChars"] == 100_000)
        }
    }

    @Test func everyActionsSampleCodeCompilesAndRunsOnItsSamplePayload() async throws {
        try await Harness().session { client in
            let metadata = try #require(try await client.send(.get, "/worker/api/v2/actions").json as? [[String: Any]])
            for action in metadata {
                let name = try #require((action["action"] as? [String: String])?["name"])
                let payload = try JSONSerialization.jsonObject(with: Data(try #require(action["samplePayload"] as? String).utf8))
                let run = try await client.send(.post, "/worker/api/v1/test", json: ["code": action["sampleCode"]!, "action": name, "data": payload])
                #expect(run.status == .ok, "\(name): \(run.text)")
                #expect(run.text.contains("STATUS_SUCCESS"), "\(name): \(run.text)")
            }
        }
    }

    @Test func typesDefinitionsMatchHooksTypesFile() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("hooks/types.ts")
        let expected = try String(contentsOf: file, encoding: .utf8)
        try await Harness().session { client in
            let metadata = try #require(try await client.send(.get, "/worker/api/v2/actions").json as? [[String: Any]])
            #expect((metadata.first?["typesDefinitions"] as? String).map { $0 + "\n" } == expected)
        }
    }
}

@Suite("Scheduled workers")
struct SchedulerTests {
    @Test func scheduledWorkersFireOncePerSlotAcrossReplicas() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let created = try await client.send(
                .post, "/worker/api/v1/workers",
                json: [
                    "key": "every-five", "action": "SCHEDULED_EVENT",
                    "sourceCode": "export default async (context, data) => ({ message: 'tick ' + data.triggerID });",
                    "filterCriteria": ["schedule": ["cron": "*/5 * * * *", "timezone": "Europe/Paris"]],
                ])
            #expect(created.status == .created, "\(created.text)")
        }
        let first = WorkerScheduler(workers: harness.storage, claims: harness.storage, events: harness.events)
        let second = WorkerScheduler(workers: harness.storage, claims: harness.storage, events: harness.events)
        let due = try #require(ISO8601DateFormatter().date(from: "2026-11-23T10:05:30Z"))
        let notDue = try #require(ISO8601DateFormatter().date(from: "2026-11-23T10:06:30Z"))
        async let a = first.tick(at: due)
        async let b = second.tick(at: due)
        let fired = await a + b
        #expect(fired == ["every-five"])
        #expect(await first.tick(at: notDue) == [])
        // A successful run's entry is written behind it (WriteBehind): wait for it rather than race the write.
        let entries: [HistoryEntry] =
            try await Harness.eventually {
                let entries = try await harness.storage.entries(HistoryQuery(workerKey: "every-five"))
                return entries.isEmpty ? nil : entries
            } ?? []
        #expect(entries.count == 1)
        #expect(entries.first?.triggeredBy == "scheduler")
        #expect(entries.first?.payloadJSON.contains("every-five@") == true)
        #expect(entries.first?.resultJSON?.contains("tick every-five@") == true)
    }
}

@Suite("Token management")
struct TokenTests {
    @Test func adminsCreateListAndRevokeTokens() async throws {
        try await Harness().session { client in
            let created = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "ci", "scope": "project-admin", "projectKey": "p9"])
            #expect(created.status == .created, "\(created.text)")
            let value = try #require(created.object["token"] as? String)
            let id = try #require(created.object["id"] as? String)
            // the new token works, with its scope
            #expect(
                try await client.send(.post, "/worker/api/v1/workers", token: value, json: Harness.genericWorker("p9-w", project: "p9")).status
                    == .created)
            #expect(
                try await client.send(.post, "/worker/api/v1/workers", token: value, json: Harness.genericWorker("p8-w", project: "p8")).status
                    == .forbidden)
            let listed = try await client.send(.get, "/worker/api/v1/tokens")
            #expect(!listed.text.contains(value))
            #expect(
                ((listed.object["tokens"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == id && $0["projectKey"] as? String == "p9" })
            #expect(try await client.send(.delete, "/worker/api/v1/tokens/\(id)").status == .noContent)
            // The token was just used, so it is verified from memory: the revoke reaches that at once.
            #expect(try await client.send(.get, "/worker/api/v1/workers", token: value).status == .unauthorized)
            #expect(try await client.send(.delete, "/worker/api/v1/tokens/\(id)").status == .notFound)
            // the last admin token stays
            #expect(try await client.send(.delete, "/worker/api/v1/tokens/admin").status == .conflict)
        }
    }

    @Test func tokenRulesAndAccess() async throws {
        try await Harness().session { client in
            let noName = try await client.send(.post, "/worker/api/v1/tokens", json: ["scope": "user"])
            #expect(noName.error == "name: is required")
            let badScope = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "x", "scope": "root"])
            #expect(badScope.error?.hasPrefix("scope: 'root'") == true)
            let noProject = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "x", "scope": "project-admin"])
            #expect(noProject.error?.hasPrefix("projectKey:") == true)
            let negative = try await client.send(.post, "/worker/api/v1/tokens", json: ["name": "x", "expiresInSeconds": -5])
            #expect(negative.error == "expiresInSeconds: must be positive")
            for token in [Harness.user, Harness.projectAdmin] {
                let create = try await client.send(.post, "/worker/api/v1/tokens", token: token, json: ["name": "x"])
                #expect(create.status == .forbidden)
                let list = try await client.send(.get, "/worker/api/v1/tokens", token: token)
                #expect(list.status == .forbidden)
            }
            let anonymous = try await client.send(.get, "/worker/api/v1/tokens", token: nil)
            #expect(anonymous.status == .unauthorized)
        }
    }
}

@Suite("Access API tokens")
struct AccessTokenTests {
    @Test func createListReadAndRevokeInTheAccessShapes() async throws {
        try await Harness().session { client in
            let made = try await client.send(
                .post, "/access/api/v1/tokens", json: ["username": "pa", "scope": "applied-permissions/roles:p9:Project Admin", "expires_in": 60])
            #expect(made.status == .ok, "\(made.text)")
            let value = try #require(made.object["access_token"] as? String)
            let id = try #require(made.object["token_id"] as? String)
            #expect(
                made.object["token_type"] as? String == "Bearer" && made.object["scope"] as? String == "applied-permissions/roles:p9:project-admin")
            // The token is a project admin's, as the worker API makes them.
            #expect(
                try await client.send(.post, "/worker/api/v1/workers", token: value, json: Harness.genericWorker("p9-w", project: "p9")).status
                    == .created)
            let one = try await client.send(.get, "/access/api/v1/tokens/\(id)")
            #expect(
                (one.object["subject"] as? String)?.hasPrefix("jfac@") == true && (one.object["subject"] as? String)?.hasSuffix("/users/pa") == true)
            #expect(one.object["expiry"] as? Int != nil && one.object["issued_at"] as? Int != nil && !one.text.contains(value))
            // A form body, as curl -d sends it; the caller's own name when no username is given.
            let form = try await client.send(
                .post, "/access/api/v1/tokens", raw: "scope=applied-permissions%2Fuser&description=from+a+form",
                headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(form.status == .ok, "\(form.text)")
            let listed = try #require(try await client.send(.get, "/access/api/v1/tokens").object["tokens"] as? [[String: Any]])
            #expect(
                listed.contains { $0["description"] as? String == "from a form" && ($0["subject"] as? String)?.hasSuffix("/users/admin") == true })
            #expect(listed.contains { $0["token_id"] as? String == id })
            // Only admins: a project admin's token may neither list nor make tokens.
            #expect(try await client.send(.get, "/access/api/v1/tokens", token: value).status == .forbidden)
            #expect(try await client.send(.post, "/access/api/v1/tokens", token: value, json: ["username": "x"]).status == .forbidden)
            let revoked = try await client.send(.delete, "/access/api/v1/tokens/\(id)")
            #expect(revoked.status == .ok && revoked.text == "Token revoked")
            #expect(try await client.send(.get, "/worker/api/v1/workers", token: value).status == .unauthorized)
            #expect(try await client.send(.delete, "/access/api/v1/tokens/\(id)").status == .notFound)
            #expect(try await client.send(.get, "/access/api/v1/tokens", token: nil).status == .unauthorized)
        }
    }

    @Test(arguments: [
        (#"{"refreshable": true}"#, "refreshable"), (#"{"include_reference_token": true}"#, "include_reference_token"),
        (#"{"scope": "applied-permissions/groups:readers"}"#, "scope"), (#"{"expires_in": -5}"#, "expires_in"),
        (#"{"expires_in": "soon"}"#, "expires_in"), (#"{"expires_in": 999999999999}"#, "expires_in"),
        (#"{"grant_type": "password"}"#, "grant_type"), (#"{"audience": "jfrt@*"}"#, "audience"),
        (#"{"scope": "applied-permissions/user", "project_key": "p1"}"#, "project_key"), (#"{"username": ""}"#, "name"),
        (#"{"username": 5}"#, "username"), (#"[1]"#, "JSON object"),
    ])
    func refusalsNameTheField(body: String, field: String) async throws {
        try await Harness().session { client in
            let before = (try await client.send(.get, "/access/api/v1/tokens").object["tokens"] as? [Any])?.count
            let reply = try await client.send(.post, "/access/api/v1/tokens", raw: body)
            #expect(reply.status == .badRequest && reply.error?.contains(field) == true, "\(body): \(reply.text)")
            #expect((try await client.send(.get, "/access/api/v1/tokens").object["tokens"] as? [Any])?.count == before)
        }
    }
}
