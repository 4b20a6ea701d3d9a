import Foundation
import HTTPTypes
import Testing
import WardenCore

/// What counts as a download is the core's decision (issue 12, bug 1): a 304 or a 416 is no download, so it is not
/// counted and fires no AFTER_DOWNLOAD worker; the BEFORE_DOWNLOAD policy still runs for a 304.
@Suite("Download rules")
struct DownloadRulesTests {
    @Test func aNotModifiedOrUnsatisfiableAnswerIsNotCountedAndFiresNothing() async throws {
        let harness = try await Harness()
        try await harness.session { client in
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: [:]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/libs/a.txt", raw: "hello").status == .created)
            let after: [String: Any] = [
                "key": "after-download", "action": "AFTER_DOWNLOAD", "enabled": true,
                "sourceCode": "export default async () => ({ message: 'seen' });",
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: after).status == .created)
            func counted() async throws -> (downloads: Int, fired: Int) {
                let stats = try await client.send(.get, "/artifactory/api/storage/libs/a.txt?stats").object
                return (stats["downloadCount"] as? Int ?? -1, try await harness.storage.pending(limit: 100).count)
            }
            let sha1 = try #require(try await client.send(.get, "/artifactory/api/storage/libs/a.txt").object["checksums"] as? [String: Any])["sha1"]
            let future = HTTPDate.format(millis: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000)
            for (headers, status) in [
                (["If-None-Match": "\"\(sha1 ?? "")\""], HTTPResponse.Status.notModified), (["If-None-Match": "*"], .notModified),
                (["If-Modified-Since": future], .notModified), (["Range": "bytes=10-20"], .rangeNotSatisfiable),
                (["Range": "bytes=1-2,3-4"], .rangeNotSatisfiable),
            ] {
                let reply = try await client.send(.get, "/artifactory/libs/a.txt", headers: headers)
                #expect(reply.status == status, "\(headers): \(reply.text)")
                #expect(try await counted() == (0, 0), "\(headers)")
            }
            #expect(try await client.send(.head, "/artifactory/libs/a.txt").status == .ok)
            #expect(try await counted() == (0, 0))
            let part = try await client.send(.get, "/artifactory/libs/a.txt", headers: ["Range": "bytes=1-2"])
            #expect(part.status == .partialContent && part.text == "el" && part.headers[.contentRange] == "bytes 1-2/5")
            #expect(try await counted() == (1, 1))
            #expect(try await client.send(.get, "/artifactory/libs/a.txt").text == "hello")
            #expect(try await counted() == (2, 2))
            // The policy runs before a 304 is given: a stopped file's checksum is not confirmed either.
            let stop: [String: Any] = [
                "key": "stop-all", "action": "BEFORE_DOWNLOAD", "enabled": true,
                "sourceCode": "export default async () => ({ status: DownloadStatus.DOWNLOAD_STOP, message: 'not today' });",
                "filterCriteria": ["artifactFilterCriteria": ["repoKeys": ["libs"]]],
            ]
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: stop).status == .created)
            let stopped = try await client.send(.get, "/artifactory/libs/a.txt", headers: ["If-None-Match": "*"])
            #expect(stopped.status == .forbidden && stopped.error == "not today")
        }
    }
}

/// Creating and changing a repository are the core's decisions, each one transaction (issue 12): of many PUTs of
/// one key at once exactly one creates it and the others are refused, and nothing a refused one sent is stored.
@Suite("Repository rules")
struct RepositoryRulesTests {
    @Test func ofManyCreatesOfOneKeyExactlyOneWinsAndTheOthersChangeNothing() async throws {
        try await Harness().session { client in
            let statuses = try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        (index, try await client.send(.put, "/artifactory/api/repositories/race", json: ["description": "made by \(index)"]).status)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let winners = statuses.filter { $0.value == .ok }.map(\.key)
            #expect(winners.count == 1, "\(statuses)")
            #expect(statuses.values.filter { $0 == .badRequest }.count == 19)
            let stored = try await client.send(.get, "/artifactory/api/repositories/race").object["description"] as? String
            #expect(stored == "made by \(winners.first ?? -1)")
            // An update changes what it names only, and a bad value changes nothing.
            #expect(try await client.send(.post, "/artifactory/api/repositories/race", json: ["anonymousRead": true]).status == .ok)
            let bad = try await client.send(.post, "/artifactory/api/repositories/race", json: ["description": "new", "quotaBytes": -5])
            #expect(bad.status == .badRequest && bad.error?.contains("quotaBytes") == true)
            let after = try await client.send(.get, "/artifactory/api/repositories/race").object
            #expect(after["description"] as? String == stored && after["anonymousRead"] as? Bool == true)
            #expect(try await client.send(.post, "/artifactory/api/repositories/nope", json: [:]).status == .notFound)
        }
    }
}
