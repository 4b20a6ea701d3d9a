import Foundation
import HTTPTypes
import Hummingbird
import Testing
import WardenCore

/// The authorization matrix of docs/permissions.md, read from the page and checked cell by cell (issue 11).
@Suite("Permission matrix")
struct PermissionMatrixTests {
    /// The callers, in the order of the table's columns.
    enum Caller: String, CaseIterable, Sendable {
        case anonymous, user, otherProjectAdmin = "other project admin", workerRun = "worker run token"
        case uploadToken = "runner upload token", dashboardUser = "dashboard user", admin

        /// A name of the caller's own for `{caller}` in a route.
        var slug: String { rawValue.replacingOccurrences(of: " ", with: "-") }
    }

    struct Row: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var expected: [Caller: Int]
    }

    static func rows() throws -> [Row] {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/permissions.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        guard let start = text.range(of: "<!-- matrix -->"), let end = text.range(of: "<!-- /matrix -->") else {
            throw WardenError(.notFound, "docs/permissions.md has no matrix")
        }
        let lines = text[start.upperBound..<end.lowerBound].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let header = lines.first.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        #expect(Array(header.dropFirst()) == Caller.allCases.map(\.rawValue), "the columns of the matrix are the callers")
        return try lines.dropFirst(2).map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let route = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")).split(separator: " ", maxSplits: 1).map(String.init)
            let statuses = cells.dropFirst().compactMap { Int($0) }
            guard cells.count == Caller.allCases.count + 1, route.count == 2, let method = HTTPRequest.Method(route[0]),
                statuses.count == Caller.allCases.count
            else { throw WardenError(.badRequest, "docs/permissions.md: cannot read the row '\(line)'") }
            return Row(
                method: method, path: route[1],
                expected: Dictionary(uniqueKeysWithValues: zip(Caller.allCases, statuses)))
        }
    }

    @Test func everyCellIsWhatThePageSays() async throws {
        let rows = try Self.rows()
        #expect(rows.count >= 14)
        let harness = try await Harness()
        try await harness.session { client in
            // The set-up the page describes.
            #expect(try await client.send(.put, "/artifactory/api/repositories/libs", json: [:]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/api/repositories/public", json: ["anonymousRead": true]).status == .ok)
            #expect(try await client.send(.put, "/artifactory/libs/a.txt", raw: "a").status == .created)
            #expect(try await client.send(.put, "/artifactory/public/readme.txt", raw: "hello").status == .created)
            for caller in Caller.allCases {
                #expect(try await client.send(.put, "/artifactory/libs/del-\(caller.slug).txt", raw: "d").status == .created)
            }
            try await Harness.grant(client, name: "libs-readers", repositories: ["libs"], users: ["user": ["read"]])
            let shared = Harness.genericWorker("shared", project: "p1", extra: ["shared": true])
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: shared).status == .created)
            let owned = Harness.genericWorker("libs-writer", extra: ["platformAccess": ["repositories": ["libs"], "actions": ["read", "write"]]])
            #expect(try await client.send(.post, "/worker/api/v1/workers", json: owned).status == .created)
            let stored = try #require(try await harness.storage.worker(key: "libs-writer"))
            let workerToken = harness.workerTokens.mint(name: "worker:libs-writer", rights: stored.runRights, lifetime: 600, eventDepth: 1)
            #expect(try await client.send(.post, "/api/users", json: ["username": "ada", "password": "correct horse"]).status == .created)
            _ = try await client.send(.post, "/api/v4/projects", json: ["name": "app"])
            let pipeline: [String: Any] = [
                "project": "root/app", "name": "private", "readers": ["user", "ada"],
                "plan": ["stages": [["name": "s", "image": "debian:12", "script": ["true"]]]],
            ]
            let created = try await client.send(.post, "/api/pipelines", json: pipeline)
            #expect(created.object["id"] as? Int == 1, "\(created.text)")
            let uploadToken = harness.workerTokens.mint(
                name: "runner-1", rights: .upload(archiveRepository: "ci-archives", pipeline: 1, run: 1), lifetime: 600)
            let login = try await client.send(.post, "/login", token: nil, json: ["username": "ada", "password": "correct horse"])
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))

            for row in rows {
                for caller in Caller.allCases {
                    let token: String? =
                        switch caller {
                        case .anonymous, .dashboardUser: nil
                        case .user: Harness.user
                        case .otherProjectAdmin: Harness.otherProjectAdmin
                        case .workerRun: workerToken
                        case .uploadToken: uploadToken
                        case .admin: Harness.admin
                        }
                    let path = row.path.replacingOccurrences(of: "{caller}", with: caller.slug)
                    var json: Any?
                    var raw: String?
                    if row.method == .put || row.method == .post {
                        if path == "/api/pipelines" {
                            var body = pipeline
                            body["name"] = "made-by-\(caller.slug)"
                            json = body
                        } else if path.hasPrefix("/artifactory/api/") || path.hasPrefix("/worker/") {
                            json = [String: Any]()
                        } else {
                            raw = "content of \(caller.slug)"
                        }
                    }
                    let reply = try await client.send(
                        row.method, path, token: token, json: json, raw: raw, headers: caller == .dashboardUser ? ["Cookie": cookie] : [:])
                    #expect(Int(reply.status.code) == row.expected[caller], "\(row.method) \(path) as \(caller.rawValue): \(reply.text)")
                }
            }
        }
    }
}
