import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Each ready-made hook of hooks/ deployed to a live server and triggered by real uploads, downloads and deletes.
@Suite("ready-made hooks, end to end", .serialized)
struct HookEndToEndTests {
    static func source(_ hook: String) throws -> String {
        try String(contentsOf: CLI.repository.appendingPathComponent("hooks/\(hook)/worker.ts"), encoding: .utf8)
    }

    /// What the hook's hook.json declares its run token may reach (the manifest's `platformAccess`).
    static func access(_ hook: String) throws -> Any? {
        let text = try String(contentsOf: CLI.repository.appendingPathComponent("hooks/\(hook)/hook.json"), encoding: .utf8)
        return CLI.json(text)?["platformAccess"]
    }

    /// Each hook folder carries its own copy of hooks/types.ts (a folder is deployable on its own); they stay equal.
    @Test func everyHookFolderHasTheSameTypes() throws {
        let hooks = CLI.repository.appendingPathComponent("hooks")
        let types = try String(contentsOf: hooks.appendingPathComponent("types.ts"), encoding: .utf8)
        let folders = try FileManager.default.contentsOfDirectory(atPath: hooks.path).filter {
            FileManager.default.fileExists(atPath: hooks.appendingPathComponent("\($0)/worker.ts").path)
        }
        #expect(folders.count >= 13)
        for folder in folders {
            #expect(try String(contentsOf: hooks.appendingPathComponent("\(folder)/types.ts"), encoding: .utf8) == types, "hooks/\(folder)/types.ts")
        }
    }

    func start(_ extra: [String] = [], environment: [String: String] = [:]) async throws -> LiveServer {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-hooks"), arguments: extra, environment: environment)
        try await server.createRepository("libs")
        return server
    }

    func resultMessages(_ server: LiveServer, _ key: String) async throws -> [String] {
        try await server.history(key).compactMap { (($0["executionResult"] as? [String: Any])?["result"] as? [String: Any])?["message"] as? String }
    }

    @Test func blockFlaggedDownloads() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(
            key: "block-flagged", action: "BEFORE_DOWNLOAD", source: try Self.source("block-flagged-downloads"), repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/app.jar", body: "jar").status == 201)
        #expect(try await server.text("GET", "/artifactory/libs/app.jar").status == 200)
        #expect(try await server.text("PUT", "/artifactory/api/storage/libs/app.jar?properties=quarantine=true").status == 204)
        let blocked = try await server.text("GET", "/artifactory/libs/app.jar")
        #expect(blocked.status == 403 && blocked.text.contains("libs:app.jar is blocked: quarantine=true"))
        #expect(try await server.text("DELETE", "/artifactory/api/storage/libs/app.jar?properties=quarantine").status == 204)
        #expect(try await server.text("GET", "/artifactory/libs/app.jar").text == "jar")
    }

    @Test func uploadPathAllowlist() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(key: "allowlist", action: "BEFORE_UPLOAD", source: try Self.source("upload-path-allowlist"), repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/releases/1.0/a.txt", body: "a").status == 201)
        let refused = try await server.text("PUT", "/artifactory/libs/tmp/a.txt", body: "a")
        #expect(refused.status == 403 && refused.text.contains("tmp/a.txt is not under releases/** or snapshots/**"))
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/tmp/a.txt").status == 404)
    }

    @Test func folderQuota() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(key: "quota", action: "BEFORE_UPLOAD", source: try Self.source("folder-quota"), repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/team-a/", body: "").status == 201)
        #expect(try await server.text("PUT", "/artifactory/api/storage/libs/team-a?properties=quota.bytes=10").status == 204)
        #expect(try await server.text("PUT", "/artifactory/libs/team-a/one.bin", body: "123456").status == 201)
        let over = try await server.text("PUT", "/artifactory/libs/team-a/sub/two.bin", body: "123456")
        #expect(over.status == 403 && over.text.contains("team-a is over its quota: 6 + 6 > 10 bytes"))
        // Replacing a file counts the new size only.
        #expect(try await server.text("PUT", "/artifactory/libs/team-a/one.bin", body: "12345678").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/team-b/free.bin", body: String(repeating: "z", count: 50)).status == 201)
    }

    @Test func refuseOverwrites() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(key: "immutable", action: "BEFORE_UPLOAD", source: try Self.source("refuse-overwrites"), repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/rel/1.0/app.zip", body: "first").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/top.txt", body: "top").status == 201)
        let again = try await server.text("PUT", "/artifactory/libs/rel/1.0/app.zip", body: "second")
        #expect(again.status == 403 && again.text.contains("libs:rel/1.0/app.zip already exists"))
        #expect(try await server.text("PUT", "/artifactory/libs/top.txt", body: "again").status == 403)
        #expect(try await server.text("GET", "/artifactory/libs/rel/1.0/app.zip").text == "first")
    }

    @Test func reportDownloadsToAnOutsideEndpointWithABearerSecret() async throws {
        // The endpoint is on loopback: allowed by name on any port, and as an internal address.
        let server = try await start(["--allow-hosts", "127.0.0.1:*"], environment: ["WARDEN_EGRESS_PRIVATE_HOSTS": "127.0.0.1:*"])
        defer { server.stop() }
        // The outside endpoint: this server's own execute endpoint, which wants a valid bearer token.
        try await server.deployWorker(
            key: "recorder", action: "GENERIC_EVENT", source: "export default async (context, data) => ({ received: data });")
        try await server.deployWorker(
            key: "report", action: "AFTER_DOWNLOAD", source: try Self.source("report-downloads"), repos: ["libs"],
            properties: ["reportUrl": "\(server.url)/worker/api/v1/execute/recorder"], secrets: ["reportToken": server.token])
        #expect(try await server.text("PUT", "/artifactory/libs/app.jar", body: "jar").status == 201)
        #expect(try await server.text("GET", "/artifactory/libs/app.jar").status == 200)
        try await server.eventually("the recorder to receive the report") {
            try await server.history("recorder").contains {
                let payload = $0["executionPayload"] as? [String: Any]
                return payload?["artifact"] as? String == "libs:app.jar" && (payload?["user"] as? String)?.hasSuffix("/users/admin") == true
            }
        }
        try await server.eventually("the report's own run") { try await resultMessages(server, "report").contains("reported libs:app.jar (200)") }
        // The secret is masked in what the history shows.
        #expect(!"\(try await server.history("report"))".contains(server.token))
    }

    @Test func copyNewArchivesToAnotherRepository() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.createRepository("archive")
        try await server.deployWorker(
            key: "copy-zips", action: "AFTER_CREATE", source: try Self.source("copy-new-archives"), repos: ["libs"],
            properties: ["extension": ".zip", "targetRepo": "archive"], platformAccess: try Self.access("copy-new-archives"))
        #expect(try await server.text("PUT", "/artifactory/libs/builds/7/out.zip", body: "zip!").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/builds/7/notes.txt", body: "txt").status == 201)
        try await server.eventually("the copy") { try await server.text("GET", "/artifactory/archive/builds/7/out.zip").text == "zip!" }
        try await server.eventually("both runs") { try await resultMessages(server, "copy-zips").count == 2 }
        #expect(try await server.text("GET", "/artifactory/archive/builds/7/notes.txt").status == 404)
    }

    @Test func cleanupStaleArtifacts() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(
            key: "cleanup", action: "GENERIC_EVENT", source: try Self.source("cleanup-stale-artifacts"),
            platformAccess: try Self.access("cleanup-stale-artifacts"))
        #expect(try await server.text("PUT", "/artifactory/libs/old/stale.bin", body: "stale").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/used.bin", body: "used").status == 201)
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(try await server.text("GET", "/artifactory/libs/used.bin").status == 200)
        let dry = try await server.request("POST", "/worker/api/v1/execute/cleanup", json: ["repo": "libs", "olderThan": "2s"])
        let dryResult = try #require((dry.body as? [String: Any])?["data"] as? [String: Any], "\(String(describing: dry.body))")
        #expect(dryResult["candidates"] as? [String] == ["old/stale.bin"])
        #expect(dryResult["deleted"] as? [String] == [])
        // Still there (asked through the storage API: a download would make it fresh).
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/old/stale.bin").status == 200)
        let real = try await server.request("POST", "/worker/api/v1/execute/cleanup", json: ["repo": "libs", "olderThan": "2s", "dryRun": false])
        #expect(
            ((real.body as? [String: Any])?["data"] as? [String: Any])?["deleted"] as? [String] == ["old/stale.bin"],
            "\(String(describing: real.body))")
        #expect(try await server.text("GET", "/artifactory/libs/old/stale.bin").status == 404)
        #expect(try await server.text("GET", "/artifactory/libs/used.bin").status == 200)
    }

    @Test func repositoryStatistics() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.createRepository("docs")
        try await server.deployWorker(
            key: "stats", action: "GENERIC_EVENT", source: try Self.source("repository-statistics"),
            platformAccess: try Self.access("repository-statistics"))
        #expect(try await server.text("PUT", "/artifactory/libs/a/one.bin", body: "1").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/two.bin", body: "22").status == 201)
        #expect(try await server.text("PUT", "/artifactory/docs/readme.md", body: "333").status == 201)
        for _ in 0..<3 { _ = try await server.text("GET", "/artifactory/libs/two.bin") }
        _ = try await server.text("GET", "/artifactory/docs/readme.md")
        let reply = try await server.request("POST", "/worker/api/v1/execute/stats", json: ["top": 5])
        let report = try #require((reply.body as? [String: Any])?["data"] as? [String: Any], "\(String(describing: reply.body))")
        let totals = report["totals"] as? [String: Any]
        #expect(totals?["files"] as? Int == 3 && totals?["bytes"] as? Int == 6)
        let top = (report["mostDownloaded"] as? [[String: Any]])?.map { "\($0["id"] ?? ""):\($0["downloads"] ?? "")" }
        #expect(top == ["libs:two.bin:3", "docs:readme.md:1"])
    }

    @Test func labelNewArtifactsWithTheRightsOfItsOwner() async throws {
        let server = try await start()
        defer { server.stop() }
        func labels(_ path: String) async throws -> [String: Any]? {
            (try await server.request("GET", "/artifactory/api/storage/libs/\(path)?properties=uploaded.by,uploaded.at").body as? [String: Any])?[
                "properties"] as? [String: Any]
        }
        try await server.deployWorker(key: "label", action: "AFTER_CREATE", source: try Self.source("label-new-artifacts"), repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/app/1.0.jar", body: "jar").status == 201)
        try await server.eventually("the label") { try await labels("app/1.0.jar")?["uploaded.by"] as? [String] == ["admin"] }
        #expect((try await labels("app/1.0.jar")?["uploaded.at"] as? [String])?.first?.hasPrefix("20") == true)
        // Saved by a project admin who may not annotate libs, the same worker labels nothing (its run fails).
        let made = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "pa", "scope": "project-admin", "projectKey": "p1"])
        let projectAdmin = try #require((made.body as? [String: Any])?["token"] as? String)
        let deleted = try await server.request("DELETE", "/worker/api/v1/workers/label")
        #expect(deleted.status == 204)
        let body: [String: Any] = [
            "key": "label", "action": "AFTER_CREATE", "sourceCode": try Self.source("label-new-artifacts"), "enabled": true, "projectKey": "p1",
            "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
        ]
        #expect(try await server.request("POST", "/worker/api/v1/workers", json: body, token: projectAdmin).status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/app/2.0.jar", body: "jar").status == 201)
        try await server.eventually("the refused run") {
            try await server.history("label").contains { "\($0["executionResult"] ?? "")".contains("403") }
        }
        #expect(try await labels("app/2.0.jar") == nil)
        // Granted annotate on libs, its next run labels.
        let target: [String: Any] = ["name": "pa-annotates", "repo": ["repositories": ["libs"], "actions": ["users": ["pa": ["annotate"]]]]]
        #expect(try await server.request("POST", "/artifactory/api/v2/security/permissions", json: target).status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/app/3.0.jar", body: "jar").status == 201)
        try await server.eventually("the label") { try await labels("app/3.0.jar")?["uploaded.by"] as? [String] == ["admin"] }
    }

    @Test func noOverwriteOnCopyOrMoveGuardsBothFromTheTargetsFilter() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.createRepository("release")
        for action in ["BEFORE_COPY", "BEFORE_MOVE"] {
            try await server.deployWorker(
                key: "no-overwrite-\(action.lowercased().replacingOccurrences(of: "_", with: "-"))", action: action,
                source: try Self.source("no-overwrite-on-copy-or-move"), repos: ["release"])
        }
        #expect(try await server.text("PUT", "/artifactory/libs/a.jar", body: "new").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/b.jar", body: "b").status == 201)
        #expect(try await server.text("PUT", "/artifactory/release/a.jar", body: "old").status == 201)
        let copy = try await server.text("POST", "/artifactory/api/copy/libs/a.jar?to=/release/a.jar")
        #expect(copy.status == 403 && copy.text.contains("release:a.jar already exists"), "\(copy.text)")
        let move = try await server.text("POST", "/artifactory/api/move/libs/a.jar?to=/release/a.jar")
        #expect(move.status == 403 && move.text.contains("release:a.jar already exists"))
        #expect(try await server.text("GET", "/artifactory/release/a.jar").text == "old")
        #expect(try await server.text("GET", "/artifactory/libs/a.jar").text == "new")
        #expect(try await server.text("POST", "/artifactory/api/move/libs/b.jar?to=/release/b.jar").status == 200)
        #expect(try await server.text("GET", "/artifactory/release/b.jar").text == "b")
        #expect(try await server.history("no-overwrite-before-move").count == 2)
    }

    @Test func tokenPolicyAndPinnedTokensThroughTheAccessAPI() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(
            key: "token-policy", action: "BEFORE_CREATE_TOKEN", source: try Self.source("token-policy"),
            properties: ["maxDays": "30", "maxTokens": "2"])
        try await server.deployWorker(key: "keep-pinned", action: "BEFORE_REVOKE_TOKEN", source: try Self.source("keep-pinned-tokens"))
        func create(_ fields: [String: Any]) async throws -> (status: Int, body: [String: Any]) {
            let reply = try await server.request("POST", "/access/api/v1/tokens", json: fields)
            return (reply.status, reply.body as? [String: Any] ?? [:])
        }
        let forever = try await create(["username": "ci-bot", "scope": "applied-permissions/user"])
        #expect(forever.status == 403 && "\(forever.body)".contains("tokens must expire within 30 days"), "\(forever.body)")
        let first = try await create(["username": "ci-bot", "expires_in": 3600, "description": "nightly [pinned]"])
        #expect(first.status == 200, "\(first.body)")
        let value = try #require(first.body["access_token"] as? String)
        #expect(first.body["scope"] as? String == "applied-permissions/user" && first.body["expires_in"] as? Int == 3600)
        // The new token works, and is the same kind of token as the worker API's.
        #expect(try await server.request("GET", "/artifactory/api/repositories", token: value).status == 200)
        #expect(try await create(["username": "ci-bot", "expires_in": 3600]).status == 200)
        let third = try await create(["username": "ci-bot", "expires_in": 3600])
        #expect(third.status == 403 && "\(third.body)".contains("already holds 2 tokens"), "\(third.body)")
        let listed = try #require((try await server.request("GET", "/access/api/v1/tokens").body as? [String: Any])?["tokens"] as? [[String: Any]])
        let mine = listed.filter { ($0["subject"] as? String)?.hasSuffix("/users/ci-bot") == true }
        #expect(mine.count == 2)
        let pinned = try #require(mine.first { ($0["description"] as? String) == "nightly [pinned]" }?["token_id"] as? String)
        let other = try #require(mine.first { ($0["description"] as? String) == "" }?["token_id"] as? String)
        let refused = try await server.text("DELETE", "/access/api/v1/tokens/\(pinned)")
        #expect(refused.status == 403 && refused.text.contains("is pinned"), "\(refused.text)")
        #expect(try await server.request("GET", "/artifactory/api/repositories", token: value).status == 200)
        #expect(try await server.text("DELETE", "/access/api/v1/tokens/\(other)").status == 200)
        #expect(try await server.text("GET", "/access/api/v1/tokens/\(other)").status == 404)
        let policyRuns = try await server.history("token-policy")
        #expect(policyRuns.count == 4 && policyRuns.allSatisfy { $0["workerType"] as? String == "BEFORE_CREATE_TOKEN" })
        let payload = try #require(policyRuns.last?["executionPayload"] as? [String: Any])
        #expect(((payload["tokenSpec"] as? [String: Any])?["subject"] as? String)?.hasSuffix("/users/ci-bot") == true)
        #expect(try await server.history("keep-pinned").count == 2)
        // The worker API's token routes are the same tokens, under the same policies.
        let viaWorkerAPI = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "ops", "scope": "user"])
        #expect(viaWorkerAPI.status == 403)
    }

    @Test func tagBuildArtifactsSoThatDeletingTheBuildTakesThem() async throws {
        let server = try await start()
        defer { server.stop() }
        try await server.deployWorker(
            key: "tag-build", action: "AFTER_BUILD_INFO_SAVE", source: try Self.source("tag-build-artifacts"),
            platformAccess: try Self.access("tag-build-artifacts"))
        #expect(try await server.text("PUT", "/artifactory/libs/app/1.0/app.jar", body: "jar").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/app/1.0/app.pom", body: "pom").status == 201)
        let info: [String: Any] = [
            "name": "app", "number": "1",
            "modules": [
                [
                    "id": "app",
                    "artifacts": [
                        ["name": "app.jar", "path": "libs/app/1.0/app.jar"], ["name": "gone.jar", "path": "libs/gone.jar"], ["name": "loose"],
                    ],
                ]
            ],
        ]
        #expect(try await server.request("PUT", "/artifactory/api/build", json: info).status == 204)
        try await server.eventually("the tags") {
            let tags = try await server.request("GET", "/artifactory/api/storage/libs/app/1.0/app.jar?properties").body as? [String: Any]
            return (tags?["properties"] as? [String: [String]]) == ["build.name": ["app"], "build.number": ["1"]]
        }
        let run = try #require(try await server.history("tag-build").first)
        #expect("\(run["executionResult"] ?? "")".contains("tagged 1 artifact(s), skipped 2"))
        #expect(try await server.text("DELETE", "/artifactory/api/build/app/1?artifacts=1").status == 200)
        #expect(try await server.text("GET", "/artifactory/libs/app/1.0/app.jar").status == 404)
        #expect(try await server.text("GET", "/artifactory/libs/app/1.0/app.pom").text == "pom")
    }
}
