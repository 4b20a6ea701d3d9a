import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore
import WardenHTTP

/// The builds API through the router: publish, list, read and delete build info in the reference's shapes, with
/// permissions on the `artifactory-build-info` repository and refusals that name the field.
@Suite("Builds API")
struct BuildsAPITests {
    static func info(_ name: String, _ number: String, started: String = "2026-12-07T10:00:00.000+0100", extra: [String: Any] = [:]) -> [String: Any]
    {
        var info: [String: Any] = [
            "version": "1.0.1", "name": name, "number": number, "started": started, "durationMillis": 1200,
            "modules": [["id": "org.acme:app:1.0", "artifacts": [["type": "jar", "name": "app.jar", "sha1": "abc"]]]],
        ]
        info.merge(extra) { $1 }
        return info
    }

    @Test func publishListReadAndDelete() async throws {
        try await Harness().session { client in
            #expect(
                try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "1", started: "2026-12-07T10:00:00.000+0100")).status
                    == .noContent)
            #expect(
                try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "2", started: "2026-12-07T11:00:00Z")).status
                    == .noContent)
            #expect(try await client.send(.put, "/artifactory/api/build", json: Self.info("team/lib", "7")).status == .noContent)
            let all = try await client.send(.get, "/artifactory/api/build")
            #expect(all.status == .ok)
            let builds = try #require(all.object["builds"] as? [[String: Any]])
            #expect(builds.map { $0["uri"] as? String } == ["/app", "/team%2Flib"])
            #expect(builds.first?["lastStarted"] as? String == "2026-12-07T11:00:00Z")
            let runs = try await client.send(.get, "/artifactory/api/build/app")
            #expect((runs.object["buildsNumbers"] as? [[String: Any]])?.map { $0["uri"] as? String } == ["/2", "/1"])
            #expect((runs.object["builds"] as? [[String: Any]])?.map { $0["number"] as? String } == ["2", "1"])
            let one = try await client.send(.get, "/artifactory/api/build/app/1")
            let info = try #require(one.object["buildInfo"] as? [String: Any])
            #expect(info["name"] as? String == "app" && info["number"] as? String == "1" && info["durationMillis"] as? Int == 1200)
            #expect((info["modules"] as? [[String: Any]])?.first?["id"] as? String == "org.acme:app:1.0")
            #expect(try await client.send(.get, "/artifactory/api/build/team%2Flib/7").status == .ok)
            #expect(try await client.send(.get, "/artifactory/api/build/app/3").status == .notFound)
            #expect(try await client.send(.get, "/artifactory/api/build/none").status == .notFound)
            // Publishing the same name and number again replaces it.
            #expect(
                try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "1", extra: ["durationMillis": 5])).status == .noContent)
            #expect(
                (try await client.send(.get, "/artifactory/api/build/app/1").object["buildInfo"] as? [String: Any])?["durationMillis"] as? Int == 5)
            // Deleting: one number, several, or every run (which must be asked for).
            #expect(try await client.send(.delete, "/artifactory/api/build/app").status == .badRequest)
            #expect(try await client.send(.delete, "/artifactory/api/build/app/2").status == .ok)
            #expect(try await client.send(.delete, "/artifactory/api/build/app/2").status == .notFound)
            #expect(try await client.send(.delete, "/artifactory/api/build/app?buildNumbers=1").status == .ok)
            let everyRun = try await client.send(.delete, "/artifactory/api/build/team%2Flib?deleteAll=1")
            #expect(everyRun.status == .ok, "\(everyRun.text)")
            #expect((try await client.send(.get, "/artifactory/api/build").object["builds"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func deletingWithArtifactsDeletesTheFilesItPublished() async throws {
        try await Harness().session { client async throws in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/libs/app-1.jar;build.name=app;build.number=1", raw: "1").status == .created)
            #expect(try await client.send(.put, "/artifactory/libs/app-2.jar;build.name=app;build.number=2", raw: "2").status == .created)
            #expect(try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "1")).status == .noContent)
            #expect(try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "2")).status == .noContent)
            let withFiles = try await client.send(.delete, "/artifactory/api/build/app/1?artifacts=1")
            #expect(withFiles.status == .ok, "\(withFiles.text)")
            #expect(try await client.send(.get, "/artifactory/libs/app-1.jar").status == .notFound)
            #expect(try await client.send(.get, "/artifactory/libs/app-2.jar").status == .ok)
            #expect(try await client.send(.delete, "/artifactory/api/build/app/2?artifacts=0").status == .ok)
            #expect(try await client.send(.get, "/artifactory/libs/app-2.jar").status == .ok)
        }
    }

    @Test func permissionsAreThoseOfTheBuildInfoRepository() async throws {
        try await Harness().session { client in
            #expect(try await client.send(.put, "/artifactory/api/build", json: Self.info("app", "1")).status == .noContent)
            #expect(try await client.send(.get, "/artifactory/api/build", token: nil).status == .unauthorized)
            #expect(try await client.send(.put, "/artifactory/api/build", token: Harness.user, json: Self.info("app", "2")).status == .forbidden)
            #expect(try await client.send(.get, "/artifactory/api/build/app/1", token: Harness.user).status == .forbidden)
            #expect((try await client.send(.get, "/artifactory/api/build", token: Harness.user).object["builds"] as? [Any])?.isEmpty == true)
            // A permission target on artifactory-build-info grants it, by build name.
            try await Harness.grant(
                client, name: "app-builds", repositories: ["artifactory-build-info"], include: ["app/**"], users: ["user": ["read", "write"]])
            #expect(try await client.send(.put, "/artifactory/api/build", token: Harness.user, json: Self.info("app", "2")).status == .noContent)
            #expect(try await client.send(.get, "/artifactory/api/build/app/1", token: Harness.user).status == .ok)
            #expect(try await client.send(.put, "/artifactory/api/build", token: Harness.user, json: Self.info("other", "1")).status == .forbidden)
            #expect(try await client.send(.delete, "/artifactory/api/build/app/1", token: Harness.user).status == .forbidden)
            // Nobody makes a repository of that name.
            let reserved = try await client.send(.put, "/artifactory/api/repositories/artifactory-build-info", json: ["rclass": "local"])
            #expect(reserved.status == .badRequest && reserved.error?.contains("build info") == true)
        }
    }

    @Test(arguments: [
        (#"[1]"#, "JSON object"), (#"{"number": "1"}"#, "name"), (#"{"name": "a"}"#, "number"), (#"{"name": "a", "number": 1}"#, "number"),
        (#"{"name": "", "number": "1"}"#, "name"), (#"{"name": "a", "number": "1/2"}"#, "number"),
        (#"{"name": "a", "number": "1", "started": "yesterday"}"#, "started"), (#"{"name": "a", "number": "1", "modules": {}}"#, "modules"),
        (#"{"name": "a\u0001", "number": "1"}"#, "name"),
    ])
    func refusalsNameTheField(body: String, field: String) async throws {
        try await Harness().session { client in
            let reply = try await client.send(.put, "/artifactory/api/build", raw: body)
            #expect(reply.status == .badRequest && reply.error?.contains(field) == true, "\(body): \(reply.text)")
            #expect((try await client.send(.get, "/artifactory/api/build").object["builds"] as? [Any])?.isEmpty == true)
        }
    }
}
