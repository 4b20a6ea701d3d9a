import Foundation
import Testing

/// Every storage action of the catalogue on a live server (issue 15): a worker bound to it, the real operation that
/// fires it, what a STOP leaves unchanged, what a PROCEED lets through, and the run in the history.
@Suite("the action catalogue, end to end", .serialized)
struct ActionCatalogEndToEndTests {
    /// A synchronous policy that stops whatever names `blocked` (the path, a copy's or move's target, a property).
    static let stopBlocked = """
        export default async (context: PlatformContext, data: any) => {
          const where = data.targetRepoPath ? data.targetRepoPath.id : data.metadata.repoPath.id;
          const what = data.name ? where + ' ' + data.name : where;
          if (what.includes('blocked')) return { status: ActionStatus.STOP, message: 'refused: ' + what };
          return { status: ActionStatus.PROCEED, message: 'ok: ' + what };
        };
        """
    /// An asynchronous worker that says what it was told.
    static let tell = """
        export default async (context: PlatformContext, data: any) => ({ message: JSON.stringify(data) });
        """

    /// The payloads of a worker's successful runs, oldest first.
    static func payloads(_ server: LiveServer, _ key: String) async throws -> [[String: Any]] {
        try await server.history(key).reversed().filter { $0["executionStatus"] as? String == "STATUS_SUCCESS" }
            .compactMap { $0["executionPayload"] as? [String: Any] }
    }

    static func id(_ repoPath: Any?) -> String? { (repoPath as? [String: Any])?["id"] as? String }

    @Test func beforeCreateGuardsUploadsFoldersCopiesAndMovesAndAfterCreateIsTold() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-catalog"))
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.deployWorker(key: "guard-create", action: "BEFORE_CREATE", source: Self.stopBlocked, repos: ["libs"])
        try await server.deployWorker(key: "told-create", action: "AFTER_CREATE", source: Self.tell, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/ok.txt", body: "ok").status == 201)
        let upload = try await server.text("PUT", "/artifactory/libs/blocked/a.txt", body: "a")
        #expect(upload.status == 403 && upload.text.contains("refused: libs:blocked/a.txt"), "\(upload.text)")
        #expect(try await server.text("GET", "/artifactory/libs/blocked/a.txt").status == 404)
        let folder = try await server.text("PUT", "/artifactory/libs/blocked-dir/")
        #expect(folder.status == 403 && folder.text.contains("refused: libs:blocked-dir"), "\(folder.text)")
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/blocked-dir").status == 404)
        let copy = try await server.text("POST", "/artifactory/api/copy/libs/ok.txt?to=/libs/blocked/ok.txt")
        #expect(copy.status == 403 && copy.text.contains("refused: libs:blocked/ok.txt"), "\(copy.text)")
        #expect(try await server.text("GET", "/artifactory/libs/blocked/ok.txt").status == 404)
        let move = try await server.text("POST", "/artifactory/api/move/libs/ok.txt?to=/libs/blocked/ok.txt")
        #expect(move.status == 403)
        #expect(try await server.text("GET", "/artifactory/libs/ok.txt").text == "ok")
        #expect(try await server.text("POST", "/artifactory/api/copy/libs/ok.txt?to=/libs/copies/ok.txt").status == 200)
        #expect(try await server.text("GET", "/artifactory/libs/copies/ok.txt").text == "ok")

        let asked = try await server.history("guard-create")
        let stops = asked.filter { "\($0["executionResult"] ?? "")".contains("refused") }
        #expect(stops.count == 4, "\(asked)")
        #expect(asked.allSatisfy { $0["workerType"] as? String == "BEFORE_CREATE" })
        let folderRun = try #require(
            try await Self.payloads(server, "guard-create").first { Self.id(($0["itemInfo"] as? [String: Any])?["repoPath"]) == "libs:blocked-dir" })
        #expect(((folderRun["metadata"] as? [String: Any])?["repoPath"] as? [String: Any])?["isFolder"] as? Bool == true)
        #expect(((folderRun["userContext"] as? [String: Any])?["id"] as? String)?.hasSuffix("/users/admin") == true)
        try await server.eventually("AFTER_CREATE of the copy") {
            try await Self.payloads(server, "told-create").contains {
                Self.id(($0["metadata"] as? [String: Any])?["repoPath"]) == "libs:copies/ok.txt"
            }
        }
        #expect(try await Self.payloads(server, "told-create").count == 2)
    }

    @Test func copiesAndMovesAreAskedBySourceOrTargetAndTold() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-catalog"))
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.createRepository("release")
        // Bound to the target repository only: a copy into it is asked too. It looks the target up with AQL, as the
        // published restrict-overwrite workers do.
        let noOverwrite = """
            export default async (context: PlatformContext, data: BeforeCopyRequest) => {
              const target = data.targetRepoPath;
              const parts = target.path.split('/');
              const query = { repo: target.key, path: parts.length === 1 ? '.' : parts.slice(0, -1).join('/'), name: parts[parts.length - 1] };
              const found = await context.clients.platformHttp.post('/artifactory/api/search/aql',
                'items.find(' + JSON.stringify(query) + ').include("type").limit(1)', { 'Content-Type': 'text/plain' });
              if (found.data.results.length) return { status: ActionStatus.STOP, message: target.id + ' already exists' };
              return { status: ActionStatus.PROCEED, message: 'new: ' + target.id };
            };
            """
        try await server.deployWorker(key: "no-overwrite", action: "BEFORE_COPY", source: noOverwrite, repos: ["release"])
        let pinned = """
            export default async (context: PlatformContext, data: BeforeMoveRequest) =>
              data.properties.pinned ? { status: 'STOP', message: data.metadata.repoPath.id + ' is pinned' } : { status: 1, message: 'may move' };
            """
        try await server.deployWorker(key: "pinned", action: "BEFORE_MOVE", source: pinned, repos: ["libs"])
        try await server.deployWorker(key: "told-copy", action: "AFTER_COPY", source: Self.tell, repos: ["libs"])
        try await server.deployWorker(key: "told-move", action: "AFTER_MOVE", source: Self.tell, repos: ["release"])
        try await server.deployWorker(key: "told-delete", action: "AFTER_DELETE", source: Self.tell, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/a.jar", body: "a").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/b.jar;pinned=yes", body: "b").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/c.jar", body: "new").status == 201)
        #expect(try await server.text("PUT", "/artifactory/release/c.jar", body: "old").status == 201)

        #expect(try await server.text("POST", "/artifactory/api/copy/libs/a.jar?to=/release/a.jar").status == 200)
        let overwrite = try await server.text("POST", "/artifactory/api/copy/libs/c.jar?to=/release/c.jar")
        #expect(overwrite.status == 403 && overwrite.text.contains("release:c.jar already exists"), "\(overwrite.text)")
        #expect(try await server.text("GET", "/artifactory/release/c.jar").text == "old")
        let stuck = try await server.text("POST", "/artifactory/api/move/libs/b.jar?to=/release/b.jar")
        #expect(stuck.status == 403 && stuck.text.contains("libs:b.jar is pinned"), "\(stuck.text)")
        #expect(try await server.text("GET", "/artifactory/libs/b.jar").text == "b")
        #expect(try await server.text("GET", "/artifactory/release/b.jar").status == 404)
        #expect(try await server.text("POST", "/artifactory/api/move/libs/a.jar?to=/release/moved/a.jar").status == 200)
        #expect(try await server.text("GET", "/artifactory/libs/a.jar").status == 404)
        #expect(try await server.text("GET", "/artifactory/release/moved/a.jar").text == "a")

        let asked = try await server.history("no-overwrite")
        #expect(asked.count == 2 && asked.allSatisfy { $0["workerType"] as? String == "BEFORE_COPY" })
        let copyAsked = try #require(try await Self.payloads(server, "no-overwrite").first)
        #expect(Self.id((copyAsked["metadata"] as? [String: Any])?["repoPath"]) == "libs:a.jar")
        #expect(Self.id(copyAsked["targetRepoPath"]) == "release:a.jar")
        #expect(try await server.history("pinned").count == 2)  // the refused move and the one that went
        try await server.eventually("AFTER_COPY, AFTER_MOVE and AFTER_DELETE") {
            let copies = try await Self.payloads(server, "told-copy")
            let moves = try await Self.payloads(server, "told-move")
            let deletes = try await Self.payloads(server, "told-delete")
            return copies.count == 1 && moves.count == 1 && deletes.count == 1
        }
        let copied = try #require(try await Self.payloads(server, "told-copy").first)
        #expect(Self.id((copied["source"] as? [String: Any])?["repoPath"]) == "libs:a.jar")
        #expect(Self.id((copied["target"] as? [String: Any])?["repoPath"]) == "release:a.jar")
        let moved = try #require(try await Self.payloads(server, "told-move").first)
        #expect(Self.id((moved["target"] as? [String: Any])?["repoPath"]) == "release:moved/a.jar")
        let gone = try #require(try await Self.payloads(server, "told-delete").first)
        #expect((gone["metadata"] as? [String: Any])?["triggeredByMove"] as? Bool == true)
        #expect(Self.id((gone["itemInfo"] as? [String: Any])?["repoPath"]) == "libs:a.jar")
    }

    @Test func deletesAreAskedAndTold() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-catalog"))
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.deployWorker(key: "guard-delete", action: "BEFORE_DELETE", source: Self.stopBlocked, repos: ["libs"])
        try await server.deployWorker(key: "told-delete", action: "AFTER_DELETE", source: Self.tell, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/blocked/keep.txt", body: "k").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/tmp/x.txt", body: "x").status == 201)
        #expect(try await server.text("PUT", "/artifactory/libs/tmp/y.txt", body: "y").status == 201)
        let refused = try await server.text("DELETE", "/artifactory/libs/blocked/keep.txt")
        #expect(refused.status == 403 && refused.text.contains("refused: libs:blocked/keep.txt"))
        #expect(try await server.text("GET", "/artifactory/libs/blocked/keep.txt").text == "k")
        #expect(try await server.text("DELETE", "/artifactory/libs/tmp").status == 204)
        #expect(try await server.text("GET", "/artifactory/libs/tmp/x.txt").status == 404)
        try await server.eventually("AFTER_DELETE of the folder and its files") { try await Self.payloads(server, "told-delete").count == 3 }
        let told = try await Self.payloads(server, "told-delete").compactMap { Self.id(($0["itemInfo"] as? [String: Any])?["repoPath"]) }
        #expect(Set(told) == ["libs:tmp", "libs:tmp/x.txt", "libs:tmp/y.txt"])
        #expect(try await server.history("told-delete").allSatisfy { $0["workerType"] as? String == "AFTER_DELETE" })
    }

    @Test func propertiesAreAskedAndToldOnSetAndDelete() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-catalog"))
        defer { server.stop() }
        try await server.createRepository("libs")
        try await server.deployWorker(key: "guard-set", action: "BEFORE_PROPERTY_CREATE", source: Self.stopBlocked, repos: ["libs"])
        try await server.deployWorker(key: "told-set", action: "AFTER_PROPERTY_CREATE", source: Self.tell, repos: ["libs"])
        try await server.deployWorker(key: "guard-unset", action: "BEFORE_PROPERTY_DELETE", source: Self.stopBlocked, repos: ["libs"])
        try await server.deployWorker(key: "told-unset", action: "AFTER_PROPERTY_DELETE", source: Self.tell, repos: ["libs"])
        #expect(try await server.text("PUT", "/artifactory/libs/a.txt", body: "a").status == 201)
        let properties = "/artifactory/api/storage/libs/a.txt?properties"
        let refusedSet = try await server.text("PUT", "/artifactory/api/storage/libs/a.txt?properties=stage=qa;blocked=1")
        #expect(refusedSet.status == 403 && refusedSet.text.contains("refused: libs:a.txt blocked"))
        #expect(try await server.text("GET", properties).status == 404)
        #expect(try await server.text("PUT", "/artifactory/api/storage/libs/a.txt?properties=stage=qa,prod;owner=ann").status == 204)
        // The guard is asked before the delete of a property the item has: give it one named "blocked" by hand.
        #expect(try await server.text("PUT", "/artifactory/libs/b.txt;blocked=yes", body: "b").status == 201)
        let refusedDelete = try await server.text("DELETE", "/artifactory/api/storage/libs/b.txt?properties=blocked")
        #expect(refusedDelete.status == 403 && refusedDelete.text.contains("refused: libs:b.txt blocked"), "\(refusedDelete.text)")
        #expect(try await server.text("GET", "/artifactory/api/storage/libs/b.txt?properties=blocked").status == 200)
        #expect(try await server.text("DELETE", "/artifactory/api/storage/libs/a.txt?properties=stage,missing").status == 204)
        let left = try await server.request("GET", properties)
        #expect((left.body as? [String: Any])?["properties"] as? [String: [String]] == ["owner": ["ann"]])
        // A name the item does not have is not asked about.
        #expect(try await server.history("guard-unset").count == 2)
        try await server.eventually("AFTER_PROPERTY_CREATE and AFTER_PROPERTY_DELETE") {
            let set = try await Self.payloads(server, "told-set").count
            let unset = try await Self.payloads(server, "told-unset").count
            return set == 2 && unset == 1
        }
        let set = try await Self.payloads(server, "told-set")
        #expect(Set(set.compactMap { $0["name"] as? String }) == ["stage", "owner"])
        #expect(set.contains { $0["values"] as? [String] == ["qa", "prod"] })
        let unset = try #require(try await Self.payloads(server, "told-unset").first)
        #expect(unset["name"] as? String == "stage" && Self.id((unset["itemInfo"] as? [String: Any])?["repoPath"]) == "libs:a.txt")
        #expect(try await server.history("told-unset").first?["workerType"] as? String == "AFTER_PROPERTY_DELETE")
    }

    @Test func savedBuildInfoIsToldToItsWorkers() async throws {
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-catalog"))
        defer { server.stop() }
        try await server.deployWorker(key: "told-build", action: "AFTER_BUILD_INFO_SAVE", source: Self.tell)
        let info: [String: Any] = [
            "name": "app", "number": "7", "started": "2026-12-07T10:00:00.000+0000",
            "modules": [["id": "app", "artifacts": [["name": "app.jar", "sha1": "abc"]]]],
        ]
        #expect(try await server.request("PUT", "/artifactory/api/build", json: info).status == 204)
        let refused = try await server.request("PUT", "/artifactory/api/build", json: ["name": "app"])
        #expect(refused.status == 400)
        try await server.eventually("AFTER_BUILD_INFO_SAVE") { try await Self.payloads(server, "told-build").count == 1 }
        let told = try #require(try await Self.payloads(server, "told-build").first)
        let build = try #require(told["build"] as? [String: Any])
        #expect(build["name"] as? String == "app" && build["number"] as? String == "7")
        #expect((build["modules"] as? [[String: Any]])?.first?["id"] as? String == "app")
        #expect(((told["userContext"] as? [String: Any])?["id"] as? String)?.hasSuffix("/users/admin") == true)
        #expect(try await server.history("told-build").first?["workerType"] as? String == "AFTER_BUILD_INFO_SAVE")
    }
}
