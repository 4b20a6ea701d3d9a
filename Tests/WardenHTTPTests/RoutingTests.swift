import Foundation
import HTTPTypes
import Testing
import WardenCore

@testable import WardenHTTP

/// Routes live in the router (issue 12): hostile or odd paths under a dialect's prefix are answered in that
/// dialect's error shape, never by a crash, and path parameters are percent-decoded as the hand router did.
@Suite("Routes in the router")
struct RoutingTests {
    @Test func oddArtifactPathsAreRefusedInTheArtifactShape() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            for (method, path) in [
                ("GET", "/artifactory/api/storage//"), ("GET", "/artifactory/api/storage"), ("POST", "/artifactory/api/copy//"),
                ("GET", "/artifactory/api/nope"), ("GET", "/artifactory/api"), ("PATCH", "/artifactory/libs/a.txt"),
                ("POST", "/artifactory/api/storage/libs/a.txt"), ("GET", "/artifactory"),
            ] {
                let reply = try await client.send(try #require(HTTPRequest.Method(method)), path)
                #expect(reply.status == .notFound || reply.status == .badRequest, "\(method) \(path): \(reply.status)")
                #expect(reply.error != nil, "\(method) \(path): \(reply.text)")
            }
        }
    }

    @Test func pathParametersArePercentDecoded() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let created = try await client.send(.put, "/artifactory/api/repositories/libs", json: ["rclass": "local"])
            #expect(created.status == .ok, "\(created.text)")
            let read = try await client.send(.get, "/artifactory/api/repositories/li%62s")
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.object["key"] as? String == "libs")
            #expect(try await client.send(.put, "/artifactory/libs/a%20b.txt", raw: "x").status == .created)
            let item = try await client.send(.get, "/artifactory/api/storage/libs/a%20b.txt")
            #expect(item.object["path"] as? String == "/a b.txt", "\(item.text)")
        }
    }

    @Test func segmentsAreDecodedOnlyWhereTheyHaveEscapes() {
        #expect(RequestPath.segments(of: "/a//b%20c/%E2%82%AC/") == ["a", "b c", "€"])
        #expect(RequestPath.segments(of: "/%ZZ/%FF/100%") == ["%ZZ", "%FF", "100%"])
        #expect(RequestPath.segments(of: "/plain;k=v") == ["plain;k=v"])
    }

    @Test func aDownloadsTypeComesFromTheLastExtensionOfItsName() {
        #expect(ArtifactAPI<WardenRequestContext>.mimeType("lib.tar.gz") == "application/x-gzip")
        #expect(ArtifactAPI<WardenRequestContext>.mimeType("NOTES.TXT") == "text/plain")
        #expect(ArtifactAPI<WardenRequestContext>.mimeType(".json") == "application/octet-stream")
        #expect(ArtifactAPI<WardenRequestContext>.mimeType("json") == "application/octet-stream")
        #expect(ArtifactAPI<WardenRequestContext>.mimeType("a.") == "application/octet-stream")
        #expect(
            ArtifactItem(repo: "r", path: "a/b/c.jar", isFolder: false, createdAt: 0, modifiedAt: 0, updatedAt: 0, createdBy: "", modifiedBy: "")
                .name == "c.jar")
    }

    @Test func oddTenantPathsAreRefusedInTheTenantShape() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.post, "/api/tenants", json: ["name": "t"]).status == .created)
            for path in ["/api/tenant/t/build/", "/api/tenant/t/build//", "/api/tenant/t/nothing", "/api/tenant/t/status/change/"] {
                let reply = try await client.send(.get, path)
                #expect(reply.status == .notFound, "\(path): \(reply.status)")
                #expect(reply.object["description"] is String, "\(path): \(reply.text)")
            }
            // An unknown tenant is Zuul's HTML page, on every route of a tenant.
            let unknown = try await client.send(.get, "/api/tenant/nobody/builds")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("<html>"))
        }
    }

    @Test func unknownRunnerPathsAreRefusedTheGitLabWay() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let reply = try await client.send(.get, "/api/v4/nothing/here")
            #expect(reply.status == .notFound)
            #expect((reply.object["message"] as? String)?.hasPrefix("404 ") == true, "\(reply.text)")
        }
    }
}
