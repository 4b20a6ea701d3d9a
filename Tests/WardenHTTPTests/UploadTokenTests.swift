import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import WardenCore

/// The upload token a runner gets with a run (issue 11, finding 2): it writes its run's archive folder and nothing
/// else, and it ends with the run.
@Suite("Runner upload tokens")
struct UploadTokenTests {
    /// What the runner saw when it tried its token, by probe.
    struct Probes: Sendable {
        var token = ""
        var archiveFolder = ""
        var statuses: [String: HTTPResponse.Status] = [:]
        var repositoryList = ""
    }

    @Test func aRunnersUploadTokenWritesOnlyItsRunsArchiveFolderAndEndsWithTheRun() async throws {
        try await Harness().session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: [:]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/libs/team/a.txt", raw: "a").status == .created)
            #expect(
                try await client.send(.post, "/worker/api/v1/workers", json: Harness.genericWorker("open", extra: ["shared": true])).status
                    == .created)
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app"])
            let created = try await client.send(
                .post, "/api/pipelines",
                json: ["project": "root/app", "name": "build", "plan": ["stages": [["name": "s", "image": "debian:12", "script": ["true"]]]]])
            let pipelineID = try #require(created.object["id"] as? Int, "\(created.text)")
            let trigger = try #require(created.object["triggerToken"] as? String)

            // The runner: it answers the run after trying its token against the server.
            let probes = Mutex(Probes())
            let router = Router()
            router.get("/") { _, _ in "OK" }
            router.get("/logs/{id}") { _, _ in "log\n" }
            router.post("/run") { request, _ in
                let body = try await request.body.collect(upTo: 1 << 20)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                let upload = object?["upload"] as? [String: Any]
                let token = upload?["token"] as? String ?? ""
                let folder = (upload?["url"] as? String ?? "").replacingOccurrences(of: "http://127.0.0.1:8080", with: "")
                var seen = Probes(token: token, archiveFolder: folder)
                let tries: [(String, HTTPRequest.Method, String)] = [
                    ("own archive", .put, "\(folder)/out.txt"),
                    ("own archive, read", .get, "\(folder)/out.txt"),
                    ("own archive, delete", .delete, "\(folder)/out.txt"),
                    ("another run's archive", .put, "/artifactory/ci-archives/\(pipelineID)/999/x.txt"),
                    ("another repository", .put, "/artifactory/libs/team/b.txt"),
                    ("another repository, read", .get, "/artifactory/libs/team/a.txt"),
                    ("another repository, delete", .delete, "/artifactory/libs/team/a.txt"),
                    ("pipelines", .get, "/api/pipelines/\(pipelineID)"),
                    ("shared worker", .post, "/worker/api/v1/execute/open"),
                    ("workers", .get, "/worker/api/v1/workers"),
                    ("runners", .get, "/api/v4/runners/all"),
                ]
                for (name, method, uri) in tries {
                    seen.statuses[name] = try await client.send(method, uri, token: token, raw: method == .put ? "archived" : nil).status
                }
                seen.repositoryList = try await client.send(.get, "/artifactory/api/repositories", token: token).text
                probes.withLock { $0 = seen }
                let answer: [String: Any] = [
                    "status": "Passed", "stages": [["name": "s", "status": "Passed", "exitCode": 0]], "archived": ["out.txt"],
                ]
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: answer))))
            }
            let runner = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await runner.test(.live) { runnerClient in
                let port = try #require(runnerClient.port)
                let registration = try #require(
                    try await client.send(.post, "/api/v4/runners/reset_registration_token").object["token"] as? String)
                let registered = try await client.send(
                    .post, "/api/v4/runners", token: nil,
                    json: ["token": registration, "url": "http://127.0.0.1:\(port)", "control_token": "control", "description": "prober"])
                #expect(registered.status == .created, "\(registered.text)")
                let triggered = try await client.send(.post, "/trigger/\(trigger)", token: nil, json: [:])
                #expect(triggered.status == .ok, "\(triggered.text)")
                #expect(try await Harness.endedRunStatus(client, pipeline: pipelineID) == "Passed")
            }
            let seen = probes.withLock { $0 }
            #expect(seen.archiveFolder == "/artifactory/ci-archives/\(pipelineID)/1")
            let expected: [String: HTTPResponse.Status] = [
                "own archive": .created, "own archive, read": .forbidden, "own archive, delete": .forbidden, "another run's archive": .forbidden,
                "another repository": .forbidden, "another repository, read": .forbidden, "another repository, delete": .forbidden,
                "pipelines": .forbidden, "shared worker": .forbidden, "workers": .forbidden, "runners": .forbidden,
            ]
            #expect(seen.statuses == expected)
            #expect(seen.repositoryList == "[]")
            // The archive is there, nothing else changed, and the token died with the run.
            #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/archive?file=out.txt").text == "archived")
            #expect(try await client.send(.get, "/artifactory/libs/team/a.txt").text == "a")
            #expect(try await client.send(.get, "/artifactory/api/storage/libs/team/b.txt").status == .notFound)
            #expect(try await client.send(.put, "\(seen.archiveFolder)/late.txt", token: seen.token, raw: "late").status == .unauthorized)
        }
    }

    /// A runner that archives `out.txt` (with its upload token) and passes.
    static func archivingRunner(_ client: Harness.Client) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in "OK" }
        router.get("/logs/{id}") { _, _ in "log\n" }
        router.post("/run") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let upload = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["upload"] as? [String: Any]
            let folder = (upload?["url"] as? String ?? "").replacingOccurrences(of: "http://127.0.0.1:8080", with: "")
            _ = try await client.send(.put, "\(folder)/out.txt", token: upload?["token"] as? String, raw: "archived")
            let answer: [String: Any] = ["status": "Passed", "stages": [["name": "s", "status": "Passed", "exitCode": 0]], "archived": ["out.txt"]]
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: answer))))
        }
        return router
    }

    /// Candor's archive route (issue 12, bug 2): the download is the caller's, not a made-up admin's: the archive
    /// repository's BEFORE_DOWNLOAD workers see the caller and may stop it, and it is counted for the caller.
    @Test func anArchiveIsDownloadedAsItsReaderWithThePoliciesOfItsRepository() async throws {
        try await Harness().session { client in
            for name in ["ada", "bob"] {
                #expect(try await client.send(.post, "/api/users", json: ["username": name, "password": "correct horse"]).status == .created)
            }
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app"])
            let created = try await client.send(
                .post, "/api/pipelines",
                json: [
                    "project": "root/app", "name": "build", "readers": ["ada", "bob"],
                    "plan": ["stages": [["name": "s", "image": "debian:12", "script": ["true"]]]],
                ])
            let pipelineID = try #require(created.object["id"] as? Int, "\(created.text)")
            let trigger = try #require(created.object["triggerToken"] as? String)
            let policy: [String: Any] = [
                "key": "no-bob", "action": "BEFORE_DOWNLOAD", "enabled": true,
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["ci-archives"]]],
                "sourceCode":
                    "export default async (context, data) => data.userContext.id.endsWith('/users/bob') ? { status: DownloadStatus.DOWNLOAD_STOP, message: 'not for bob' } : { status: DownloadStatus.DOWNLOAD_PROCEED, message: 'ok' };",
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: policy).status == .created)
            let runner = Application(router: Self.archivingRunner(client), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await runner.test(.live) { runnerClient in
                let port = try #require(runnerClient.port)
                let registration = try #require(
                    try await client.send(.post, "/api/v4/runners/reset_registration_token").object["token"] as? String)
                _ = try await client.send(
                    .post, "/api/v4/runners", token: nil,
                    json: ["token": registration, "url": "http://127.0.0.1:\(port)", "control_token": "control", "description": "archiver"])
                let triggered = try await client.send(.post, "/trigger/\(trigger)", token: nil, json: [:])
                #expect(triggered.status == .ok, "\(triggered.text)")
                #expect(try await Harness.endedRunStatus(client, pipeline: pipelineID) == "Passed")
            }
            func login(_ name: String) async throws -> String {
                let reply = try await client.send(.post, "/login", token: nil, json: ["username": name, "password": "correct horse"])
                return try #require(reply.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            }
            let archive = "/api/runs/\(pipelineID)/last/archive?file=out.txt"
            let stats = "/artifactory/api/storage/ci-archives/\(pipelineID)/1/out.txt?stats"
            let ada = try await client.send(.get, archive, token: nil, headers: ["Cookie": try await login("ada")])
            #expect(ada.status == .ok && ada.text == "archived", "\(ada.text)")
            var counted = try await client.send(.get, stats).object
            #expect(counted["downloadCount"] as? Int == 1 && counted["lastDownloadedBy"] as? String == "ada", "\(counted)")
            let bob = try await client.send(.get, archive, token: nil, headers: ["Cookie": try await login("bob")])
            #expect(bob.status == .forbidden && bob.text.contains("not for bob"), "\(bob.text)")
            #expect(try await client.send(.get, archive).text == "archived")
            counted = try await client.send(.get, stats).object
            #expect(counted["downloadCount"] as? Int == 2 && counted["lastDownloadedBy"] as? String == "admin", "\(counted)")
            #expect(try await client.send(.get, "/api/runs/\(pipelineID)/last/archive?file=other.txt").status == .notFound)
            // The finished run published its build info, with the file it archived as the module's artifact.
            let info = try await Harness.eventually {
                let reply = try await client.send(.get, "/artifactory/api/build/root%2Fapp%2Fbuild/1")
                return reply.status == .ok ? reply.object["buildInfo"] as? [String: Any] : nil
            }
            let module = try #require((info?["modules"] as? [[String: Any]])?.first)
            let artifact = try #require((module["artifacts"] as? [[String: Any]])?.first)
            #expect(artifact["name"] as? String == "out.txt" && (artifact["sha1"] as? String)?.count == 40, "\(artifact)")
            #expect((info?["properties"] as? [String: String])?["candor.status"] == "Passed")
        }
    }
}
