import Foundation
import Synchronization
import Testing
import WardenTestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two `warden serve` replicas over one PostgreSQL database (the tests' own server) and one shared blob folder, each
/// with its own data folder, the same master key and admin token, driven by a client that alternates between them.
/// One test at a time: each starts two or three servers, and the rest of the tests share the same two cores.
@Suite("Two replicas over one PostgreSQL", .serialized)
struct ReplicasEndToEndTests {
    struct Replicas: Sendable {
        let a: LiveServer
        let b: LiveServer
        let blobs: URL
        let environment: [String: String]
        let root: URL

        /// The replica to ask next: `a`, `b`, `a`, … from `index`.
        func either(_ index: Int) -> LiveServer { index % 2 == 0 ? a : b }

        func stop() {
            a.stop()
            b.stop()
        }
    }

    /// Starts both replicas at once (they make the schema together, once).
    static func start(leaseSeconds: Int = 30, extra: [String: String] = [:]) async throws -> Replicas {
        let url = try await TestPostgres.shared.newDatabaseURL()
        let root = try temporaryFolder("warden-replicas")
        let blobs = root.appendingPathComponent("blobs")
        var key = [UInt8](repeating: 0, count: 32)
        for index in key.indices { key[index] = UInt8.random(in: 0...255) }
        let environment = [
            "WARDEN_DATABASE_URL": url, "WARDEN_BLOBS": blobs.path, "WARDEN_MASTER_KEY": Data(key).base64EncodedString(),
            "WARDEN_EVENTS_LEASE_SECONDS": String(leaseSeconds),
        ].merging(extra) { _, given in given }
        async let a = LiveServer.launch(data: root.appendingPathComponent("a"), environment: environment)
        async let b = LiveServer.launch(data: root.appendingPathComponent("b"), environment: environment)
        return Replicas(a: try await a, b: try await b, blobs: blobs, environment: environment, root: root)
    }

    /// The blob files in the shared folder (not those being uploaded).
    static func blobFiles(_ folder: URL) -> Set<String> {
        var found: Set<String> = []
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        while let name = walker.nextObject() as? String {
            let file = (name as NSString).lastPathComponent
            if !name.hasPrefix("tmp"), file.count == 64 { found.insert(file) }
        }
        return found
    }

    static let guardSource = """
        export default async (context, data) => data.repoPath.path.includes(context.secrets.get('word'))
          ? { status: DownloadStatus.DOWNLOAD_STOP, message: `${data.repoPath.path} says the word` }
          : { status: DownloadStatus.DOWNLOAD_PROCEED, message: 'ok' };
        """

    /// An AFTER_CREATE worker that returns the path it was told of.
    static let countSource = "export default async (context, data) => ({ path: data.metadata.repoPath.path });"

    @Test func aClientAlternatingBetweenReplicasSeesOneServer() async throws {
        let replicas = try await Self.start()
        defer { replicas.stop() }
        let (a, b) = (replicas.a, replicas.b)
        try await a.createRepository("libs")
        // A worker with a secret, deployed on B, runs on A: the same master key opens it.
        try await b.deployWorker(key: "guard", action: "BEFORE_DOWNLOAD", source: Self.guardSource, repos: ["libs"], secrets: ["word": "s3cret"])
        try await a.deployWorker(key: "count", action: "AFTER_CREATE", source: Self.countSource, repos: ["libs"])
        for (index, name) in ["ok.txt", "the-s3cret.txt", "third.txt"].enumerated() {
            let put = try await replicas.either(index + 1).send("PUT", "/artifactory/libs/\(name)", body: Data("content of \(name)".utf8))
            #expect(put.status == 201, "\(String(decoding: put.data, as: UTF8.self))")
        }
        #expect(try await a.text("GET", "/artifactory/libs/ok.txt").text == "content of ok.txt")
        #expect(try await b.text("GET", "/artifactory/libs/third.txt").text == "content of third.txt")
        let stopped = try await a.text("GET", "/artifactory/libs/the-s3cret.txt")
        #expect(stopped.status == 403 && stopped.text.contains("says the word"), "\(stopped)")

        // Disabled on B: A runs it no more (A's list of workers is forgotten when B commits).
        let disabled = try await b.request(
            "PUT", "/worker/api/v1/workers",
            json: [
                "key": "guard", "action": "BEFORE_DOWNLOAD", "sourceCode": Self.guardSource, "enabled": false,
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
            ])
        #expect(disabled.status == 204, "\(disabled)")
        try await a.eventually("replica A to stop running the disabled worker") {
            try await a.text("GET", "/artifactory/libs/the-s3cret.txt").status == 200
        }
        // The history of runs made on A reads the same on B.
        let onA = try await a.history("guard").compactMap { $0["historyEntryId"] as? String }
        let onB = try await b.history("guard").compactMap { $0["historyEntryId"] as? String }
        #expect(!onA.isEmpty && onA == onB)
        // Every upload's AFTER_CREATE ran once, on whichever replica claimed it.
        try await b.eventually("the three AFTER_CREATE runs") { try await b.history("count").count == 3 }
        let paths = try await a.history("count").compactMap { ($0["executionResult"] as? [String: Any])?["result"] as? [String: Any] }
            .compactMap { $0["path"] as? String }
        #expect(paths.sorted() == ["ok.txt", "the-s3cret.txt", "third.txt"], "\(paths)")

        // A token made on A works on B; revoked on B, A refuses it.
        let made = try await a.request("POST", "/worker/api/v1/tokens", json: ["name": "ci", "scope": "admin"])
        let body = try #require(made.body as? [String: Any])
        let (id, value) = (try #require(body["id"] as? String), try #require(body["token"] as? String))
        #expect(try await b.request("GET", "/worker/api/v1/workers", token: value).status == 200)
        #expect(try await a.request("GET", "/worker/api/v1/workers", token: value).status == 200)
        #expect(try await b.request("DELETE", "/worker/api/v1/tokens/\(id)").status == 204)
        #expect(try await b.request("GET", "/worker/api/v1/workers", token: value).status == 401)
        try await a.eventually("replica A to refuse the token revoked on B") {
            try await a.request("GET", "/worker/api/v1/workers", token: value).status == 401
        }

        // One blob per content, in the shared folder, each referred to.
        #expect(Self.blobFiles(replicas.blobs).count == 3)
    }

    /// An AFTER_CREATE worker that counts its runs on the file itself (a property written through the platform: a
    /// durable trace, where a successful run's history entry is written behind the answer).
    static let tallySource = """
        export default async (context, data) => {
          const path = data.metadata.repoPath.path;
          let runs = 0;
          try {
            const got = await context.clients.platformHttp.get(`/artifactory/api/storage/libs/${path}?properties=runs`);
            runs = Number(got.data.properties.runs[0]);
          } catch (error) {}
          await context.clients.platformHttp.put(`/artifactory/api/storage/libs/${path}?properties=runs=${runs + 1}`);
          return { path, runs: runs + 1 };
        };
        """

    @Test func aReplicaKilledDuringUploadsLosesNothingAcknowledgedAndItsEventsRunOnTheOther() async throws {
        let replicas = try await Self.start(leaseSeconds: 3)
        defer { replicas.stop() }
        let (a, b) = (replicas.a, replicas.b)
        try await a.createRepository("libs")
        try await b.deployWorker(key: "tally", action: "AFTER_CREATE", source: Self.tallySource, repos: ["libs"])
        let progress = UploadProgress()
        let total = 500
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while let index = progress.take(below: total) {
                        let path = "up/\(index).bin"
                        let content = "upload \(index) \(UUID().uuidString)"
                        let reply = try? await replicas.either(index).send("PUT", "/artifactory/libs/\(path)", body: Data(content.utf8))
                        // Mid-way, replica A dies at once: no clean stop, its claimed runs and queued writes go with it.
                        if reply?.status == 201, progress.acknowledge(path, content) == 150 { a.crash() }
                    }
                }
            }
            try await group.waitForAll()
        }
        let stored = progress.acknowledged.withLock { $0 }
        #expect(!a.process.isRunning && stored.count >= 250, "\(stored.count) uploads acknowledged")
        // Every acknowledged upload reads back whole from the survivor.
        for (path, content) in stored {
            let read = try await b.text("GET", "/artifactory/libs/\(path)")
            #expect(read.status == 200 && read.text == content, "\(path): \(read.status)")
        }
        // Every acknowledged upload's AFTER_CREATE runs (those A held, once their lease ended, on B) …
        func runs(_ path: String) async throws -> Int? {
            let reply = try await b.request("GET", "/artifactory/api/storage/libs/\(path)?properties=runs")
            return ((reply.body as? [String: Any])?["properties"] as? [String: [String]])?["runs"]?.first.flatMap(Int.init)
        }
        var tallies: [String: Int] = [:]
        try await b.eventually("every acknowledged upload's AFTER_CREATE run") {
            for path in stored.keys where tallies[path] == nil { tallies[path] = try await runs(path) }
            return tallies.count == stored.count && tallies.values.allSatisfy { $0 != nil }
        }
        // … exactly once, or twice with the second shown as a retry in the history.
        let retried = tallies.filter { $0.value > 1 }.map(\.key)
        #expect(tallies.values.allSatisfy { $0 <= 2 }, "\(tallies.filter { $0.value > 2 })")
        if !retried.isEmpty {
            let entries = try await b.request("GET", "/worker/api/v1/execution_history?workerKey=tally&limit=1000").body as? [[String: Any]] ?? []
            let shownAsRetried = Set(
                entries.compactMap { entry -> String? in
                    let result = entry["executionResult"] as? [String: Any]
                    guard (result?["logs"] as? String)?.hasPrefix("warden: attempt") == true else { return nil }
                    return (result?["result"] as? [String: Any])?["path"] as? String
                })
            #expect(Set(retried).isSubset(of: shownAsRetried), "run twice without a retry shown: \(Set(retried).subtracting(shownAsRetried))")
        }
        // The killed replica starts again on its data folder; its sweep leaves no blob that nothing refers to.
        let restarted = try await LiveServer.launch(data: replicas.root.appendingPathComponent("a"), environment: replicas.environment)
        defer { restarted.stop() }
        let listing = try await restarted.request("GET", "/artifactory/api/storage/libs?list&deep=1").body as? [String: Any]
        let referenced = Set(((listing?["files"] as? [[String: Any]]) ?? []).compactMap { $0["sha2"] as? String })
        let files = Self.blobFiles(replicas.blobs)
        #expect(files == referenced, "orphaned: \(files.subtracting(referenced).count), missing: \(referenced.subtracting(files).count)")
        #expect(referenced.count >= stored.count)
    }

    @Test func aReplicaAnswers503WhileItsDatabaseIsAwayAndServesAgainWhenItIsBack() async throws {
        // A PostgreSQL of its own: the other tests' server must not stop.
        let postgres = TestPostgres()
        let url = try await postgres.newDatabaseURL()
        let server = try await LiveServer.launch(data: try temporaryFolder("warden-db-away"), environment: ["WARDEN_DATABASE_URL": url])
        defer { server.stop() }
        try await server.createRepository("libs")
        #expect(try await server.send("PUT", "/artifactory/libs/before.txt", body: Data("kept".utf8)).status == 201)
        try await postgres.stop()
        let refused = try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "during", "scope": "user"])
        #expect(refused.status == 503, "\(refused)")
        let message = ((refused.body as? [String: Any])?["errors"] as? [[String: Any]])?.first?["message"] as? String ?? ""
        #expect(message.contains("database"), "\(message)")
        let readiness = try await server.text("GET", "/worker/api/v1/system/readiness", token: .some(nil))
        #expect(readiness.status == 503 && readiness.text.contains("storage is not ready"), "\(readiness)")
        try await postgres.start()
        // The pool reconnects on its own.
        try await server.eventually("the replica to serve again") {
            try await server.text("GET", "/worker/api/v1/system/readiness", token: .some(nil)).status == 200
        }
        #expect(try await server.text("GET", "/artifactory/libs/before.txt").text == "kept")
        #expect(try await server.send("PUT", "/artifactory/libs/after.txt", body: Data("new".utf8)).status == 201)
        #expect(try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "after", "scope": "user"]).status == 201)
    }

    @Test func theWorkerClientTheSchedulerAndPythonGitlabAcrossReplicas() async throws {
        let replicas = try await Self.start()
        defer { replicas.stop() }
        let (a, b) = (replicas.a, replicas.b)
        // The worker client: its secret added through B, deployed through A (sealed there), executed through B.
        let folder = try temporaryFolder("warden-replicas-worker")
        #expect(try await a.cli(["worker", "init", "GENERIC_EVENT", "cli-worker"], in: folder).status == 0)
        try """
        export default async (context: any, data: any) => ({ doubled: data.n * 2, keyOK: context.secrets.get('apiKey') === 'k-123' });
        """.write(to: folder.appendingPathComponent("worker.ts"), atomically: true, encoding: .utf8)
        let manifestURL = folder.appendingPathComponent("manifest.json")
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any])
        manifest["enabled"] = true
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        #expect(try await b.cli(["worker", "add-secret", "apiKey"], in: folder, input: "k-123\n").status == 0)
        #expect(try await a.cli(["worker", "deploy"], in: folder).stdout.contains("created worker cli-worker"))
        let executed = try await b.cli(["worker", "execute", #"{"n": 21}"#], in: folder)
        #expect(executed.stdout.contains(#""doubled" : 42"#) && executed.stdout.contains(#""keyOK" : true"#), "\(executed)")
        #expect(try await a.cli(["worker", "execution-history", "--format", "json"], in: folder).stdout.contains("STATUS_SUCCESS"))

        // A scheduled worker, deployed through B: each minute runs once, on one of the two.
        let scheduled = try await b.request(
            "POST", "/worker/api/v1/workers",
            json: [
                "key": "every-minute", "action": "SCHEDULED_EVENT", "enabled": true, "sourceCode": "export default async () => ({ ok: true });",
                "filterCriteria": ["schedule": ["cron": "* * * * *", "timezone": "UTC"]],
            ])
        #expect(scheduled.status == 201, "\(scheduled)")
        try await a.eventually("the scheduled minute") { try await a.history("every-minute").count >= 1 }
        let first = try await a.history("every-minute")
        try await Task.sleep(for: .seconds(3))
        let minutes = try await b.history("every-minute").compactMap { ($0["startTimeMillis"] as? Int).map { $0 / 60_000 } }
        #expect(Set(minutes).count == minutes.count, "a minute ran twice: \(minutes)")
        #expect(minutes.count >= first.count)

        // python-gitlab registers runners through A; B lists them.
        let gitlab = try await a.runClientScript("gitlab_conformance.py")
        #expect(gitlab.status == 0, "\(gitlab.text)")
        let onA = try await a.request("GET", "/api/v4/runners/all?per_page=100").body as? [[String: Any]] ?? []
        let onB = try await b.request("GET", "/api/v4/runners/all?per_page=100").body as? [[String: Any]] ?? []
        #expect(onA.count >= 20 && onA.compactMap { $0["id"] as? Int } == onB.compactMap { $0["id"] as? Int }, "\(onA.count) / \(onB.count)")
    }

    @Test func zuulClientEnqueuesThroughOneReplicaAndTheOtherShowsTheBuilds() async throws {
        let secret = "the-replicas-tenant-api-secret-0123456789"
        // Replicas of their own: the conformance scripts each expect an empty server.
        let replicas = try await Self.start(extra: ["WARDEN_TENANT_AUTH_SECRET": secret])
        defer { replicas.stop() }
        let (a, b) = (replicas.a, replicas.b)
        let zuul = try await a.runClientScript("zuul_conformance.py", environment: ["WARDEN_BIN": CLI.warden, "JWT_SECRET": secret])
        #expect(zuul.status == 0, "\(zuul.text)")
        // The same buildsets (their links name the replica that answers).
        func buildsets(_ server: LiveServer) async throws -> [String] {
            let sets = try await server.request("GET", "/api/tenant/example/buildsets").body as? [[String: Any]] ?? []
            return sets.compactMap { $0["uuid"] as? String }
        }
        let onA = try await buildsets(a)
        let onB = try await buildsets(b)
        #expect(!onA.isEmpty && onA == onB, "\(onA) / \(onB)")
    }
}

/// The uploads of a test: which is next, which were acknowledged (path → content).
final class UploadProgress: Sendable {
    let next = Mutex(0)
    let acknowledged = Mutex<[String: String]>([:])

    /// The next upload's index, while below `total`.
    func take(below total: Int) -> Int? {
        next.withLock { value in
            guard value < total else { return nil }
            defer { value += 1 }
            return value
        }
    }

    /// Records an acknowledged upload; how many there are now.
    func acknowledge(_ path: String, _ content: String) -> Int {
        acknowledged.withLock {
            $0[path] = content
            return $0.count
        }
    }
}
