import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore
@testable import WardenHTTP

/// The artifact API's routes and refusals through the router (no workers bound: events select nothing).
@Suite("Artifact API contract")
struct ArtifactAPITests {
    nonisolated(unsafe) static let repoBody: [String: Any] = ["rclass": "local", "packageType": "generic", "description": "libraries"]

    func withRepository(_ body: @escaping @Sendable (Harness.Client, Harness) async throws -> Void) async throws {
        let harness = try await Harness()
        try await harness.session { client in
            let created = try await client.send(.put, "/artifactory/api/repositories/libs", json: Self.repoBody)
            #expect(created.status == .ok, "\(created.text)")
            try await body(client, harness)
        }
    }

    @Test func repositoryLifecycleAndRefusals() async throws {
        try await withRepository { client, _ in
            let got = try await client.send(.get, "/artifactory/api/repositories/libs")
            #expect(got.object["rclass"] as? String == "local")
            #expect(got.object["packageType"] as? String == "generic")
            #expect(got.object["anonymousRead"] as? Bool == false)
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: Self.repoBody).status == .badRequest)
            // A remote repository needs its upstream; types other than generic and maven are refused by name.
            let remote = try await client.send(.put, "/artifactory/api/repositories/r1", json: ["rclass": "remote"])
            #expect(remote.status == .badRequest && remote.error?.contains("url") == true)
            let npm = try await client.send(.put, "/artifactory/api/repositories/m1", json: ["packageType": "npm"])
            #expect(npm.status == .badRequest && npm.error?.contains("packageType") == true)
            let badKey = try await client.send(.put, "/artifactory/api/repositories/bad%20key", json: [:])
            #expect(badKey.status == .badRequest && badKey.error?.contains("key") == true)
            let wrongType = try await client.send(.post, "/artifactory/api/repositories/libs", json: ["anonymousRead": [1]])
            #expect(wrongType.status == .badRequest && wrongType.error?.contains("anonymousRead") == true)
            #expect(try await client.send(.put, "/artifactory/api/repositories/x1", token: Harness.user, json: [:]).status == .forbidden)
            #expect(try await client.send(.put, "/artifactory/api/repositories/x1", token: nil, json: [:]).status == .unauthorized)
            #expect(try await client.send(.get, "/artifactory/api/repositories/nope").status == .notFound)
            let list = try await client.send(.get, "/artifactory/api/repositories")
            #expect((list.json as? [[String: Any]])?.map { $0["key"] as? String } == ["libs"])
            // Anonymous read: off → 401, on → 200.
            #expect(try await client.send(.put, "/artifactory/libs/a.txt", raw: "hello").status == .created)
            #expect(try await client.send(.get, "/artifactory/libs/a.txt", token: nil).status == .unauthorized)
            #expect(try await client.send(.post, "/artifactory/api/repositories/libs", json: ["anonymousRead": true]).status == .ok)
            let anonymous = try await client.send(.get, "/artifactory/libs/a.txt", token: nil)
            #expect(anonymous.status == .ok && anonymous.text == "hello")
            #expect(try await client.send(.put, "/artifactory/libs/b.txt", token: nil, raw: "x").status == .unauthorized)
            // A repository with content needs force.
            let refused = try await client.send(.delete, "/artifactory/api/repositories/libs")
            #expect(refused.status == .conflict && refused.error?.contains("force") == true)
            #expect(try await client.send(.get, "/artifactory/libs/a.txt").text == "hello")
            #expect(try await client.send(.delete, "/artifactory/api/repositories/libs?force=true").status == .ok)
            #expect(try await client.send(.get, "/artifactory/libs/a.txt").status == .notFound)
        }
    }

    @Test func blobsNoItemRefersToAreRemovedAndTheOthersKept() async throws {
        try await withRepository { client, harness in
            #expect(try await client.send(.put, "/artifactory/libs/kept.txt", raw: "kept").status == .created)
            // A blob renamed into place whose transaction never committed (a crash between the two).
            let staged = try harness.artifacts.blobs.stage()
            try Data("orphan".utf8).withUnsafeBytes { try staged.append($0) }
            let digest = try staged.seal()
            try harness.artifacts.blobs.materialize(staged, digest: digest)
            let orphan = harness.artifacts.blobs.filePath(sha256: digest.sha256)
            #expect(FileManager.default.fileExists(atPath: orphan))
            #expect(try await harness.artifacts.removeUnreferencedBlobs() == 1)
            #expect(!FileManager.default.fileExists(atPath: orphan))
            #expect(try await harness.artifacts.removeUnreferencedBlobs() == 0)
            #expect(try await client.send(.get, "/artifactory/libs/kept.txt").text == "kept")
        }
    }

    @Test func deployDownloadChecksumsRangesAndConditionalRequests() async throws {
        try await withRepository { client, harness in
            let deployed = try await client.send(.put, "/artifactory/libs/org/app/1.0/app.txt;team=core;tags=a,b", raw: "0123456789")
            #expect(deployed.status == .created)
            #expect(deployed.object["size"] as? String == "10")
            let sums = deployed.object["checksums"] as? [String: Any]
            #expect(sums?["sha256"] as? String == "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882")
            #expect(sums?["sha1"] as? String == "87acec17cd9dcd20a716cc2cf67417b71c8a7016")
            #expect(sums?["md5"] as? String == "781e5e245d69b566979b86e28d23f2c7")
            let file = try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt")
            #expect(file.text == "0123456789")
            #expect(file.headers[.contentLength] == "10")
            #expect(file.headers[.eTag] == "\"87acec17cd9dcd20a716cc2cf67417b71c8a7016\"")
            #expect(file.headers[HTTPField.Name("X-Checksum-Sha256")!] == "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882")
            #expect(file.headers[.lastModified] != nil)
            let head = try await client.send(.head, "/artifactory/libs/org/app/1.0/app.txt")
            #expect(head.status == .ok && head.text.isEmpty && head.headers[.contentLength] == "10")
            let part = try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: ["Range": "bytes=2-4"])
            #expect(part.status == .partialContent && part.text == "234" && part.headers[.contentRange] == "bytes 2-4/10")
            let tail = try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: ["Range": "bytes=-3"])
            #expect(tail.text == "789")
            #expect(
                try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: ["Range": "bytes=20-"]).status == .rangeNotSatisfiable)
            let etag = file.headers[.eTag]!
            #expect(try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: ["If-None-Match": etag]).status == .notModified)
            // If-None-Match, when given, decides alone (RFC 9110): another tag is a change whatever the date says.
            let later = ["If-None-Match": "\"other\"", "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"]
            #expect(try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: later).status == .ok)
            #expect(
                try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt", headers: ["If-None-Match": "\"x\", \(etag)"]).status
                    == .notModified)
            // Checksum headers: a mismatch is 409 and stores nothing; a match stores.
            let mismatch = try await client.send(
                .put, "/artifactory/libs/c.txt", raw: "abc", headers: ["X-Checksum-Sha1": String(repeating: "0", count: 40)])
            #expect(mismatch.status == .conflict && mismatch.error?.contains("SHA-1") == true)
            #expect(try await client.send(.get, "/artifactory/libs/c.txt").status == .notFound)
            let malformed = try await client.send(.put, "/artifactory/libs/c.txt", raw: "abc", headers: ["X-Checksum-Md5": "xyz"])
            #expect(malformed.status == .badRequest && malformed.error?.contains("X-Checksum-Md5") == true)
            let matched = try await client.send(
                .put, "/artifactory/libs/c.txt", raw: "abc",
                headers: ["X-Checksum-Sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"])
            #expect(matched.status == .created)
            // Equal content is stored once.
            #expect(try await client.send(.put, "/artifactory/libs/copy-of-c.txt", raw: "abc").status == .created)
            let blobs = harness.artifacts.blobs
            #expect(
                FileManager.default.fileExists(atPath: blobs.filePath(sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")))
            #expect(blobs.usedBytes() == 13)
            // Storage info counts distinct contents from the items: the two equal files are one binary.
            let binaries = try await client.send(.get, "/artifactory/api/storageinfo").object["binariesSummary"] as? [String: Any]
            #expect(binaries?["binariesCount"] as? String == "2" && binaries?["binariesSize"] as? String == "13 bytes")
            #expect(binaries?["artifactsCount"] as? String == "3" && binaries?["artifactsSize"] as? String == "16 bytes")
            // Overwrite keeps one item with the new content; the old blob goes when nothing refers to it.
            #expect(try await client.send(.put, "/artifactory/libs/org/app/1.0/app.txt", raw: "new").status == .created)
            #expect(try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt").text == "new")
            #expect(
                !FileManager.default.fileExists(atPath: blobs.filePath(sha256: "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882")))
            // Paths: no '..', no file over a folder, no folder under a file.
            let traversal = try await client.send(.put, "/artifactory/libs/a/%2E%2E/b.txt", raw: "x")
            #expect(traversal.status == .badRequest && traversal.error?.contains("path") == true)
            #expect(try await client.send(.put, "/artifactory/libs/org", raw: "x").status == .conflict)
            #expect(try await client.send(.put, "/artifactory/libs/c.txt/inner.txt", raw: "x").status == .conflict)
            #expect(try await client.send(.put, "/artifactory/nope/a.txt", raw: "x").status == .notFound)
            // Folder listing.
            let listing = try await client.send(.get, "/artifactory/libs/org/app/")
            #expect(listing.status == .ok && listing.text.contains("1.0/"))
            // Delete.
            #expect(try await client.send(.delete, "/artifactory/libs/org").status == .noContent)
            #expect(try await client.send(.get, "/artifactory/libs/org/app/1.0/app.txt").status == .notFound)
            #expect(try await client.send(.delete, "/artifactory/libs/org").status == .notFound)
        }
    }

    @Test func storageApiPropertiesStatsListCopyMove() async throws {
        try await withRepository { client, _ in
            try await client.send(.put, "/artifactory/libs/a/b/one.txt;team=core", raw: "one")
            try await client.send(.put, "/artifactory/libs/a/two.txt", raw: "two!")
            let info = try await client.send(.get, "/artifactory/api/storage/libs/a/b/one.txt")
            #expect(info.object["path"] as? String == "/a/b/one.txt")
            #expect(info.object["size"] as? String == "3")
            #expect((info.object["downloadUri"] as? String)?.hasSuffix("/artifactory/libs/a/b/one.txt") == true)
            #expect((info.object["checksums"] as? [String: Any])?["sha256"] != nil)
            let folder = try await client.send(.get, "/artifactory/api/storage/libs/a")
            let children = (folder.object["children"] as? [[String: Any]])?.map { $0["uri"] as? String }
            #expect(children == ["/b", "/two.txt"])
            let deep = try await client.send(.get, "/artifactory/api/storage/libs?list&deep=1&listFolders=0")
            #expect((deep.object["files"] as? [[String: Any]])?.map { $0["uri"] as? String } == ["/a/b/one.txt", "/a/two.txt"])
            let props = try await client.send(.get, "/artifactory/api/storage/libs/a/b/one.txt?properties")
            #expect((props.object["properties"] as? [String: [String]]) == ["team": ["core"]])
            #expect(try await client.send(.get, "/artifactory/api/storage/libs/a/two.txt?properties").status == .notFound)
            #expect(try await client.send(.put, "/artifactory/api/storage/libs/a?properties=owner=ann|tier=1,2&recursive=1").status == .noContent)
            let two = try await client.send(.get, "/artifactory/api/storage/libs/a/two.txt?properties=tier")
            #expect((two.object["properties"] as? [String: [String]]) == ["tier": ["1", "2"]])
            #expect(try await client.send(.delete, "/artifactory/api/storage/libs/a/two.txt?properties=tier").status == .noContent)
            #expect(try await client.send(.get, "/artifactory/api/storage/libs/a/two.txt?properties=tier").status == .notFound)
            // The reference's separators: `;` between properties, `,` between values, `\` escapes (%5C in a URL).
            #expect(
                try await client.send(.put, "/artifactory/api/storage/libs/a/two.txt?properties=a=1,2;b=x;c=y%5C,z;d=p%5C;q").status == .noContent)
            let separated = try await client.send(.get, "/artifactory/api/storage/libs/a/two.txt?properties=a,b,c,d")
            #expect((separated.object["properties"] as? [String: [String]]) == ["a": ["1", "2"], "b": ["x"], "c": ["y,z"], "d": ["p", "q"]])
            #expect(try await client.send(.delete, "/artifactory/api/storage/libs/a/two.txt?properties=a,b,c,d").status == .noContent)
            #expect(try await client.send(.put, "/artifactory/libs/m/three.txt;team=core;tags=x%5C,y,z", raw: "3").status == .created)
            let matrix = try await client.send(.get, "/artifactory/api/storage/libs/m/three.txt?properties")
            #expect((matrix.object["properties"] as? [String: [String]]) == ["team": ["core"], "tags": ["x,y", "z"]])
            #expect(try await client.send(.delete, "/artifactory/libs/m").status == .noContent)
            let noName = try await client.send(.put, "/artifactory/api/storage/libs/a/two.txt?properties=")
            #expect(noName.status == .badRequest && noName.error?.contains("properties") == true)
            _ = try await client.send(.get, "/artifactory/libs/a/two.txt")
            let stats = try await client.send(.get, "/artifactory/api/storage/libs/a/two.txt?stats")
            #expect(stats.object["downloadCount"] as? Int == 1)
            #expect(stats.object["lastDownloadedBy"] as? String == "admin")
            // Copy and move.
            let dry = try await client.send(.post, "/artifactory/api/copy/libs/a?to=/libs/z&dry=1")
            #expect(dry.status == .ok && "\(dry.object)".contains("would be copied"))
            #expect(try await client.send(.get, "/artifactory/api/storage/libs/z").status == .notFound)
            #expect(try await client.send(.post, "/artifactory/api/copy/libs/a?to=/libs/z").status == .ok)
            #expect(try await client.send(.get, "/artifactory/libs/z/b/one.txt").text == "one")
            let copiedProps = try await client.send(.get, "/artifactory/api/storage/libs/z/b/one.txt?properties=team")
            #expect((copiedProps.object["properties"] as? [String: [String]]) == ["team": ["core"]])
            #expect(try await client.send(.post, "/artifactory/api/move/libs/z/two.txt?to=/libs/moved.txt").status == .ok)
            #expect(try await client.send(.get, "/artifactory/libs/moved.txt").text == "two!")
            #expect(try await client.send(.get, "/artifactory/libs/z/two.txt").status == .notFound)
            let into = try await client.send(.post, "/artifactory/api/copy/libs/a?to=/libs/a/b")
            #expect(into.status == .badRequest && into.error?.contains("to") == true)
            #expect(try await client.send(.post, "/artifactory/api/copy/libs/a").status == .badRequest)
            let storage = try await client.send(.get, "/artifactory/api/storageinfo")
            let summary = (storage.object["repositoriesSummaryList"] as? [[String: Any]])?.first
            #expect(summary?["filesCount"] as? Int == 4)
            #expect(try await client.send(.get, "/artifactory/api/system/ping").text == "OK")
            #expect(try await client.send(.get, "/artifactory/api/v1/system/readiness", token: nil).status == .ok)
        }
    }

    @Test func aqlSubset() async throws {
        try await withRepository { client, _ in
            try await client.send(.put, "/artifactory/libs/a/one.jar;team=core", raw: "1")
            try await client.send(.put, "/artifactory/libs/a/two.jar;team=web", raw: "22")
            try await client.send(.put, "/artifactory/libs/b/three.txt", raw: "333")
            _ = try await client.send(.get, "/artifactory/libs/a/two.jar")
            func names(_ query: String) async throws -> [String]? {
                let reply = try await client.send(.post, "/artifactory/api/search/aql", raw: query)
                #expect(reply.status == .ok, "\(query): \(reply.text)")
                return (reply.object["results"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            }
            #expect(try await names(#"items.find({"repo":"libs"}).sort({"$asc":["name"]})"#) == ["one.jar", "three.txt", "two.jar"])
            #expect(try await names(#"items.find({"name":{"$match":"*.jar"}}).sort({"$desc":["name"]})"#) == ["two.jar", "one.jar"])
            #expect(try await names(#"items.find({"@team":"core"})"#) == ["one.jar"])
            #expect(try await names(#"items.find({"size":{"$gte":2},"path":{"$ne":"b"}})"#) == ["two.jar"])
            #expect(
                try await names(#"items.find({"$or":[{"name":"one.jar"},{"name":"three.txt"}]}).sort({"$asc":["name"]})"#) == [
                    "one.jar", "three.txt",
                ])
            #expect(try await names(#"items.find({"stat.downloads":{"$gt":0}})"#) == ["two.jar"])
            // A repeated key is ANDed, as the reference does: a cleanup worker's query must never widen to the
            // whole repository (it deleted a file it should have kept when only the last "$or" counted).
            #expect(try await names(#"items.find({"$or":[{"name":"one.jar"}],"$or":[{"repo":"libs"}]})"#) == ["one.jar"])
            #expect(try await names(#"items.find({"property.key":"team","property.value":{"$match":"w*"}})"#) == ["two.jar"])
            #expect(try await names(#"items.find({"created":{"$before":"1d"}})"#) == [])
            #expect(try await names(#"items.find({"created":{"$last":"1d"},"name":{"$nmatch":"*.jar"}})"#) == ["three.txt"])
            #expect(try await names(#"items.find({"type":"folder","repo":"libs"}).sort({"$asc":["name"]})"#) == ["a", "b"])
            let paged = try await client.send(
                .post, "/artifactory/api/search/aql",
                raw: #"items.find({"repo":"libs"}).include("name","size","property").sort({"$asc":["name"]}).offset(1).limit(1)"#)
            let range = paged.object["range"] as? [String: Any]
            #expect(range?["start_pos"] as? Int == 1 && range?["end_pos"] as? Int == 2 && range?["limit"] as? Int == 1)
            let row = (paged.object["results"] as? [[String: Any]])?.first
            #expect(row?["name"] as? String == "three.txt" && row?["size"] as? Int == 3 && row?["properties"] as? [Any] != nil)
            for (query, part) in [
                (#"builds.find({})"#, "items.find"), (#"items.find({"color":"red"})"#, "color"), (#"items.find({"name":{"$in":["a"]}})"#, "$in"),
                (#"items.find({}).distinct(true)"#, "distinct"), (#"items.find({"name":"a"}"#, "never closed"), (#"items.find({name:1})"#, "JSON"),
                (#"items.find({}).limit(-1)"#, "limit"),
            ] {
                let reply = try await client.send(.post, "/artifactory/api/search/aql", raw: query)
                #expect(reply.status == .badRequest && reply.error?.contains(part) == true, "\(query): \(reply.text)")
            }
        }
    }
}

@Suite("Property text in URLs")
struct PropertyTextTests {
    @Test(arguments: [
        ("a=1,2;b=x;c=y", ["a": ["1", "2"], "b": ["x"], "c": ["y"]]),
        ("a=1|b=2", ["a": ["1"], "b": ["2"]]),
        (#"a=1\=1"#, ["a": ["1=1"]]),
        (#"a=x\,y,z"#, ["a": ["x,y", "z"]]),
        (#"a=p\;q"#, ["a": ["p", "q"]]),
        (#"a=pipe\|in;b=back\\slash"#, ["a": ["pipe|in"], "b": [#"back\slash"#]]),
        (#"k\=ey=v"#, ["k=ey": ["v"]]),
        ("flag;;a=", ["flag": [""], "a": [""]]),
        ("a=1;a=2", ["a": ["1", "2"]]),
        (#"a=trailing\"#, ["a": [#"trailing\"#]]),
    ])
    func storageParameter(text: String, expected: [String: [String]]) {
        #expect(PropertyText.storageParameter(text) == expected)
    }

    @Test func matrixParameters() {
        #expect(PropertyText.matrix("a.jar").0 == "a.jar")
        let (name, properties) = PropertyText.matrix(#"a.jar;team=core;tags=x\,y,z;note=a\;b"#)
        #expect(name == "a.jar")
        #expect(properties == ["team": ["core"], "tags": ["x,y", "z"], "note": ["a", "b"]])
    }
}

@Suite("Maven repositories")
struct MavenRepositoryTests {
    @Test func releaseAndSnapshotRulesMetadataAndSettings() async throws {
        try await Harness().session { client async throws in
            let releases: [String: Any] = ["rclass": "local", "packageType": "maven", "handleSnapshots": false]
            #expect(try await client.send(.put, "/artifactory/api/repositories/maven-releases", json: releases).status == .ok)
            let snapshots: [String: Any] = ["rclass": "local", "packageType": "Maven", "handleReleases": false, "handleSnapshots": true]
            #expect(try await client.send(.put, "/artifactory/api/repositories/maven-snapshots", json: snapshots).status == .ok)
            let settings = try await client.send(.get, "/artifactory/api/repositories/maven-releases").object
            #expect(settings["packageType"] as? String == "maven" && settings["rclass"] as? String == "local")
            #expect(settings["handleReleases"] as? Bool == true && settings["handleSnapshots"] as? Bool == false)
            let listed = try #require(try await client.send(.get, "/artifactory/api/repositories").json as? [[String: Any]])
            #expect(listed.first { $0["key"] as? String == "maven-releases" }?["packageType"] as? String == "Maven")

            for version in ["1.0", "1.10", "1.2"] {
                let path = "/artifactory/maven-releases/org/acme/lib/\(version)/lib-\(version).jar"
                #expect(try await client.send(.put, path, raw: version).status == .created)
            }
            #expect(try await client.send(.put, "/artifactory/maven-releases/org/acme/lib/1.2/lib-1.2-sources.jar", raw: "s").status == .created)
            let snapshot = try await client.send(.put, "/artifactory/maven-releases/org/acme/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar", raw: "s")
            #expect(snapshot.status == .conflict && snapshot.error?.contains("does not take snapshots") == true, "\(snapshot.text)")
            let hidden = try await client.send(.put, "/artifactory/maven-releases/org/acme/lib/2.0/lib-2.0-SNAPSHOT.jar", raw: "s")
            #expect(hidden.status == .conflict)
            let release = try await client.send(.put, "/artifactory/maven-snapshots/org/acme/lib/1.0/lib-1.0.jar", raw: "r")
            #expect(release.status == .conflict && release.error?.contains("does not take releases") == true, "\(release.text)")
            #expect(
                try await client.send(.put, "/artifactory/maven-snapshots/org/acme/lib/2.0-SNAPSHOT/lib-2.0-20261207.101010-1.jar", raw: "t").status
                    == .created)
            #expect(
                try await client.send(.put, "/artifactory/maven-snapshots/org/acme/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.pom", raw: "p").status
                    == .created)
            // Metadata and files outside the layout are taken by both.
            #expect(try await client.send(.put, "/artifactory/maven-snapshots/org/acme/lib/maven-metadata.xml.sha1", raw: "x").status == .created)
            #expect(try await client.send(.put, "/artifactory/maven-releases/README.txt", raw: "x").status == .created)
            // A copy is held to the target's rules.
            let copied = try await client.send(
                .post, "/artifactory/api/copy/maven-snapshots/org/acme/lib/2.0-SNAPSHOT?to=/maven-releases/org/acme/lib/2.0-SNAPSHOT")
            #expect(copied.status == .conflict, "\(copied.text)")
            #expect(try await client.send(.get, "/artifactory/maven-releases/org/acme/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.pom").status == .notFound)

            let metadata = try await client.send(.get, "/artifactory/maven-releases/org/acme/lib/maven-metadata.xml")
            #expect(metadata.status == .ok && metadata.headers[.contentType] == "application/xml")
            #expect(metadata.text.contains("<groupId>org.acme</groupId>") && metadata.text.contains("<artifactId>lib</artifactId>"))
            #expect(metadata.text.contains("<latest>1.10</latest>") && metadata.text.contains("<release>1.10</release>"))
            #expect(
                metadata.text.contains("<version>1.0</version>\n      <version>1.2</version>\n      <version>1.10</version>"), "\(metadata.text)")
            let snapshotMetadata = try await client.send(.get, "/artifactory/maven-snapshots/org/acme/lib/maven-metadata.xml")
            #expect(snapshotMetadata.text.contains("<latest>2.0-SNAPSHOT</latest>") && !snapshotMetadata.text.contains("<release>"))
            #expect(try await client.send(.get, "/artifactory/maven-releases/org/acme/none/maven-metadata.xml").status == .notFound)

            // The class and the package type are chosen once.
            let changed = try await client.send(.post, "/artifactory/api/repositories/maven-releases", json: ["packageType": "generic"])
            #expect(changed.status == .badRequest && changed.error?.contains("cannot change") == true)
            #expect(try await client.send(.post, "/artifactory/api/repositories/maven-releases", json: ["handleSnapshots": true]).status == .ok)
            #expect(
                try await client.send(.put, "/artifactory/maven-releases/org/acme/lib/3.0-SNAPSHOT/lib-3.0-SNAPSHOT.jar", raw: "s").status == .created
            )
        }
    }

    @Test(arguments: [
        (#"{"rclass": "local", "packageType": "npm"}"#, "packageType"), (#"{"rclass": "virtual"}"#, "rclass"), (#"{"rclass": "remote"}"#, "url"),
        (#"{"rclass": "remote", "url": "ftp://x.example.com"}"#, "url"),
        (#"{"rclass": "remote", "url": "https://user:pw@x.example.com"}"#, "credentials"),
        (#"{"rclass": "remote", "url": "https://x.example.com", "retrievalCachePeriodSecs": -1}"#, "retrievalCachePeriodSecs"),
        (#"{"rclass": "local", "url": "https://x.example.com"}"#, "url"), (#"{"rclass": "local", "offline": true}"#, "offline"),
        (#"{"packageType": "maven", "handleReleases": "yes"}"#, "handleReleases"),
    ])
    func badRepositorySettingsNameTheField(body: String, field: String) async throws {
        try await Harness().session { client in
            let reply = try await client.send(.put, "/artifactory/api/repositories/bad", raw: body)
            #expect(reply.status == .badRequest && reply.error?.contains(field) == true, "\(body): \(reply.text)")
            #expect(try await client.send(.get, "/artifactory/api/repositories/bad").status == .notFound)
        }
    }
}
