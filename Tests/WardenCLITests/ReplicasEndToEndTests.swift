import Foundation
import Synchronization
import Testing
import WardenTestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two `warden serve` replicas over one PostgreSQL database (the tests' own server) and one shared blob folder, each
/// with its own data folder, the same master key and admin token, driven by a client that alternates between them.
@Suite("Two replicas over one PostgreSQL")
struct ReplicasEndToEndTests {
    struct Replicas {
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
    static func start(leaseSeconds: Int = 30) async throws -> Replicas {
        let url = try await TestPostgres.shared.newDatabaseURL()
        let root = try temporaryFolder("warden-replicas")
        let blobs = root.appendingPathComponent("blobs")
        var key = [UInt8](repeating: 0, count: 32)
        for index in key.indices { key[index] = UInt8.random(in: 0...255) }
        let environment = [
            "WARDEN_DATABASE_URL": url, "WARDEN_BLOBS": blobs.path, "WARDEN_MASTER_KEY": Data(key).base64EncodedString(),
            "WARDEN_EVENTS_LEASE_SECONDS": String(leaseSeconds),
        ]
        async let a = LiveServer.start(data: root.appendingPathComponent("a"), environment: environment)
        async let b = LiveServer.start(data: root.appendingPathComponent("b"), environment: environment)
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
}
