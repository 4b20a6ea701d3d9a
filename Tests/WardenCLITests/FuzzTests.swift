import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A bounded, seeded fuzz of every route family against a live server on loopback: wrong types, huge and negative
/// numbers, deep nesting, odd unicode, broken JSON and hostile path segments, as anonymous, a user and an admin. Any
/// 5xx (other than a 503 that says to try again), a crash of the server or a request that hangs fails the test.
/// The seed is fixed, so a failure repeats; `WARDEN_FUZZ_SEED` and `WARDEN_FUZZ_REQUESTS` change it and the count.
@Suite("fuzz every route on a live server", .serialized)
struct FuzzTests {
    /// A route: method, path (with `{x}` for a path segment the fuzzer fills), the query keys it reads, the body
    /// fields it reads.
    struct Route: Sendable {
        var method: String
        var path: String
        var query: [String] = []
        var fields: [String] = []
    }

    static let routes: [Route] = [
        // The server's own.
        Route(method: "GET", path: "/api/version"), Route(method: "GET", path: "/metrics"),
        // The worker service.
        Route(method: "GET", path: "/worker/api/v1/system/readiness"), Route(method: "GET", path: "/worker/api/v1/options"),
        Route(method: "GET", path: "/worker/api/v1/workers", query: ["action", "keysOnly", "projectKey"]),
        Route(method: "GET", path: "/worker/api/v1/workers/{x}"), Route(method: "DELETE", path: "/worker/api/v1/workers/{x}"),
        Route(
            method: "POST", path: "/worker/api/v1/workers",
            fields: [
                "key", "action", "sourceCode", "enabled", "debug", "filterCriteria", "secrets", "properties", "shared", "projectKey", "description",
                "platformAccess",
            ]),
        Route(
            method: "PUT", path: "/worker/api/v2/workers", fields: ["key", "action", "sourceCode", "enabled", "filterCriteria", "secrets", "version"]),
        Route(method: "POST", path: "/worker/api/v1/test", query: ["debug"], fields: ["code", "action", "data", "stagedSecrets"]),
        Route(method: "POST", path: "/worker/api/v2/test/{x}", fields: ["code", "action", "data", "stagedSecrets"]),
        Route(method: "POST", path: "/worker/api/v1/execute/{x}", fields: ["n", "data"]),
        Route(
            method: "GET", path: "/worker/api/v1/execution_history", query: ["workerKey", "showTestRun", "projectKey", "limit", "offset"]),
        Route(method: "POST", path: "/worker/api/v1/rerun/{x}", query: ["forceRecord"], fields: ["historyEntryId"]),
        Route(method: "POST", path: "/worker/api/v1/tokens", fields: ["name", "scope", "projectKey", "expiresInSeconds"]),
        Route(method: "DELETE", path: "/worker/api/v1/tokens/{x}"),
        Route(
            method: "POST", path: "/access/api/v1/tokens", fields: ["username", "scope", "expires_in", "description", "refreshable", "project_key"]),
        Route(method: "GET", path: "/access/api/v1/tokens/{x}"),
        Route(method: "DELETE", path: "/access/api/v1/tokens/{x}"),
        Route(method: "PUT", path: "/artifactory/api/build", fields: ["name", "number", "started", "modules", "properties", "vcs"]),
        Route(method: "GET", path: "/artifactory/api/build/{x}"), Route(method: "GET", path: "/artifactory/api/build/{x}/{x}"),
        Route(method: "DELETE", path: "/artifactory/api/build/{x}/{x}", query: ["artifacts"]),
        // Artifacts.
        Route(method: "PUT", path: "/artifactory/api/repositories/{x}", fields: ["rclass", "packageType", "description", "anonymousRead"]),
        Route(method: "GET", path: "/artifactory/api/repositories/{x}"),
        Route(method: "DELETE", path: "/artifactory/api/repositories/{x}", query: ["force"]),
        Route(method: "PUT", path: "/artifactory/libs/{x}/{x}"), Route(method: "GET", path: "/artifactory/libs/{x}"),
        Route(method: "HEAD", path: "/artifactory/libs/{x}"), Route(method: "DELETE", path: "/artifactory/libs/{x}"),
        Route(method: "GET", path: "/artifactory/api/storage/libs/{x}", query: ["list", "deep", "depth", "properties", "stats", "listFolders"]),
        Route(method: "PUT", path: "/artifactory/api/storage/libs/{x}", query: ["properties", "recursive"]),
        Route(method: "DELETE", path: "/artifactory/api/storage/libs/{x}", query: ["properties", "recursive"]),
        Route(method: "POST", path: "/artifactory/api/copy/libs/{x}", query: ["to", "dry"]),
        Route(method: "POST", path: "/artifactory/api/move/libs/{x}", query: ["to", "dry"]),
        Route(method: "POST", path: "/artifactory/api/search/aql"), Route(method: "GET", path: "/artifactory/api/storageinfo"),
        Route(method: "POST", path: "/artifactory/api/repositories/{x}", fields: ["description", "anonymousRead", "quotaBytes"]),
        // Permission targets and groups.
        Route(method: "POST", path: "/artifactory/api/v2/security/permissions", fields: ["name", "repo"]),
        Route(method: "PUT", path: "/artifactory/api/v2/security/permissions/{x}", fields: ["name", "repo"]),
        Route(method: "GET", path: "/artifactory/api/v2/security/permissions/{x}"),
        Route(method: "DELETE", path: "/artifactory/api/v2/security/permissions/{x}"),
        Route(method: "PUT", path: "/artifactory/api/security/groups/{x}", fields: ["name", "description", "autoJoin", "userNames"]),
        Route(method: "POST", path: "/artifactory/api/security/groups/{x}", fields: ["description", "autoJoin", "userNames"]),
        Route(method: "GET", path: "/artifactory/api/security/groups/{x}"), Route(method: "DELETE", path: "/artifactory/api/security/groups/{x}"),
        // Runners API v4 and the agents API.
        Route(method: "GET", path: "/api/v4/runners", query: ["page", "per_page", "type", "status", "paused", "tag_list"]),
        Route(method: "GET", path: "/api/v4/runners/all", query: ["page", "per_page"]),
        Route(method: "POST", path: "/api/v4/runners", fields: ["token", "description", "tag_list", "run_untagged", "locked", "maximum_timeout"]),
        Route(method: "GET", path: "/api/v4/runners/{x}"),
        Route(method: "PUT", path: "/api/v4/runners/{x}", fields: ["description", "maximum_timeout", "active"]),
        Route(method: "GET", path: "/api/v4/runners/{x}/jobs", query: ["status", "page", "per_page"]),
        Route(method: "POST", path: "/api/v4/projects", fields: ["name", "path", "namespace_id", "tenant"]),
        Route(method: "GET", path: "/api/v4/projects/{x}"), Route(method: "POST", path: "/api/v4/groups", fields: ["name", "path"]),
        Route(method: "GET", path: "/api/v4/projects/{x}/runners", query: ["page", "per_page"]),
        Route(method: "GET", path: "/project/{x}/{x}/runners", query: ["page", "size", "jobStatus"]),
        Route(method: "POST", path: "/project/{x}/{x}/runners/{x}/edit", fields: ["name", "isActive", "tags", "maxTimeoutInSec"]),
        Route(method: "GET", path: "/company/{x}/runners/all/jobs", query: ["page", "size"]),
        // Candor.
        Route(method: "POST", path: "/login", fields: ["username", "password"]),
        Route(method: "POST", path: "/api/users", fields: ["username", "password"]),
        Route(method: "POST", path: "/api/pipelines", fields: ["project", "name", "tags", "parameters", "plan", "public", "assignees", "readers"]),
        Route(method: "GET", path: "/api/pipelines/{x}"), Route(method: "POST", path: "/trigger/{x}", query: ["who"]),
        Route(method: "GET", path: "/api/runs/{x}/{x}/log"), Route(method: "GET", path: "/api/runs/{x}/{x}/archive", query: ["file", "mode"]),
        // The tenant dialect.
        Route(method: "GET", path: "/api/tenants"), Route(method: "POST", path: "/api/tenants", fields: ["name"]),
        Route(method: "GET", path: "/api/tenant/t1/builds", query: ["skip", "limit", "change", "idx_min", "idx_max", "result", "complete"]),
        Route(method: "GET", path: "/api/tenant/t1/buildsets", query: ["skip", "limit", "change"]),
        Route(method: "GET", path: "/api/tenant/t1/build/{x}"), Route(method: "GET", path: "/api/tenant/{x}/status"),
        Route(
            method: "POST", path: "/api/tenant/t1/project/{x}/autohold",
            fields: ["job", "change", "ref", "reason", "count", "node_hold_expiration"]),
        Route(method: "POST", path: "/api/tenant/t1/project/{x}/enqueue", fields: ["pipeline", "change", "ref", "oldrev", "newrev"]),
        Route(method: "POST", path: "/api/tenant/t1/promote", fields: ["pipeline", "changes"]),
        Route(method: "POST", path: "/api/tenant/t1/state", fields: ["state", "reason"]),
        Route(method: "PUT", path: "/api/tenant/t1/nodes/{x}", fields: ["state"]),
        Route(method: "GET", path: "/api/tenant/t1/key/{x}.pub"),
        Route(method: "GET", path: "/api/tenant/t1/badge", query: ["project", "pipeline", "branch"]),
    ]

    /// Values chosen to break parsers and arithmetic.
    static let hostileStrings: [String] = [
        "", " ", "0", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "99999999999999999999999", "1e308",
        "NaN", "Infinity", "-0", "0x10", "true", "null", "..", "../../etc/passwd", "%2e%2e%2f", "a/../../b", "\u{0}", "\u{202E}txt.exe",
        "😀", "\u{FFFD}", "e\u{301}", String(repeating: "a", count: 5_000), String(repeating: "*a", count: 60) + "b", "${jndi:x}",
        "<script>", "' OR 1=1 --", "\\\\", "\"", "libs", "t1", "root/app", "admin", "@", "a,b,c", "name=value;x=y",
    ]

    nonisolated(unsafe) static let hostileNumbers: [Any] = [
        0, -1, 1, Int64.max, Int64.min, 1e19, -1e19, 1e308, -1e308, 0.5, 2.000001, 9_223_372_036_854_775_806, 4_294_967_296,
    ]

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? "x"
    }

    @Test(.timeLimit(.minutes(10)))
    func everyRouteAnswersHostileRequestsWithoutAServerError() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["WARDEN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x0F0F_2026
        let count = min(20_000, environment["WARDEN_FUZZ_REQUESTS"].flatMap { Int($0) } ?? 2_500)
        let server = try await LiveServer.launch(
            data: try temporaryFolder("warden-fuzz"),
            environment: ["WARDEN_TENANT_AUTH_SECRET": "a-tenant-jwt-secret-for-the-fuzz-suite-of-warden", "WARDEN_LIMITS_WALL_MILLIS": "2000"])
        defer { server.stop() }
        // Something for the routes to find: a repository with a file, a worker, a tenant with a project.
        try await server.createRepository("libs")
        _ = try await server.text("PUT", "/artifactory/libs/dir/a.txt", body: "hello")
        try await server.deployWorker(key: "echo", action: "GENERIC_EVENT", source: "export default async (c, d) => ({ d });")
        _ = try await server.request("POST", "/api/tenants", json: ["name": "t1"])
        _ = try await server.request("POST", "/api/v4/projects", json: ["name": "app", "tenant": "t1"])
        let user = try #require(
            (try await server.request("POST", "/worker/api/v1/tokens", json: ["name": "fuzz-user", "scope": "user"]).body as? [String: Any])?["token"]
                as? String)

        var fuzz = RequestGenerator(seed: seed)
        var requests: [(method: String, target: String, body: Data?, token: String?)] = []
        for _ in 0..<count {
            let route = fuzz.pick(Self.routes)
            requests.append((route.method, fuzz.target(for: route), fuzz.body(for: route), fuzz.pick([nil, user, server.token])))
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 20
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration)
        let failures = Failures()
        let url = server.url
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                let mine = requests.enumerated().filter { $0.offset % 4 == lane }.map(\.element)
                group.addTask {
                    var previous = ""
                    for request in mine {
                        defer { previous = "\(request.method) \(request.target.prefix(120))" }
                        guard let address = URL(string: url + request.target) else { continue }
                        var http = URLRequest(url: address)
                        http.httpMethod = request.method
                        http.httpBody = request.body
                        if let token = request.token { http.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
                        http.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        do {
                            let (data, response) = try await session.data(for: http)
                            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                            failures.count(status)
                            let text = String(decoding: data.prefix(300), as: UTF8.self)
                            if status >= 500 && !(status == 503 && text.lowercased().contains("try again")) {
                                failures.add("\(request.method) \(request.target.prefix(200)) → \(status) \(text)")
                            }
                        } catch {
                            failures.add(
                                "\(request.method) \(request.target.prefix(200)) → no answer (after \(previous)): \(String("\(error)".prefix(120)))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(server.process.isRunning, "the server stopped during the fuzz")
        let ready = try await server.request("GET", "/worker/api/v1/system/readiness")
        #expect(ready.status == 200, "readiness after the fuzz: \(ready.status)")
        let found = failures.all
        let clean = found.isEmpty
        let report =
            "\(found.count) of \(count) requests (seed \(seed)) failed; the first:\n"
            + found.prefix(15).map { String($0.prefix(600)) }.joined(separator: "\n")
        #expect(clean, "\(report)")
        // The requests reached the routes' logic: some were accepted, most refused for a reason.
        let classes = failures.byClass
        #expect(classes[2, default: 0] * 20 >= count, "too few requests were accepted: \(classes)")
        #expect(classes[4, default: 0] * 2 >= count, "too few requests were refused: \(classes)")
    }
}

/// Draws hostile requests from a seed.
struct RequestGenerator {
    var generator: SeededGenerator

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &generator)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &generator) < percent }

    /// A JSON value of any type, `depth` levels deep at most (sometimes far deeper, as a single chain).
    mutating func value(depth: Int) -> Any {
        switch Int.random(in: 0..<9, using: &generator) {
        case 0: return pick(FuzzTests.hostileStrings)
        case 1: return pick(FuzzTests.hostileNumbers)
        case 2: return chance(50)
        case 3: return NSNull()
        case 4 where depth > 0: return (0..<Int.random(in: 0...3, using: &generator)).map { _ in value(depth: depth - 1) }
        case 5 where depth > 0:
            var object: [String: Any] = [:]
            for _ in 0..<Int.random(in: 0...3, using: &generator) { object[pick(FuzzTests.hostileStrings)] = value(depth: depth - 1) }
            return object
        case 6:
            var nested: Any = pick(FuzzTests.hostileStrings)
            for _ in 0..<pick([10, 100, 600]) { nested = chance(50) ? [nested] : ["v": nested] }
            return nested
        default: return pick(FuzzTests.hostileStrings)
        }
    }

    /// A body: usually an object of the route's fields with hostile values, sometimes broken JSON or raw text.
    mutating func body(for route: FuzzTests.Route) -> Data? {
        // URLSession on Linux cannot send a body with GET or HEAD (it fails the request itself).
        if route.method == "GET" || route.method == "HEAD" { return nil }
        if route.method == "DELETE" { return chance(10) ? Data("{".utf8) : nil }
        switch Int.random(in: 0..<10, using: &generator) {
        case 0: return Data(pick(["{", "[1,2", "\"\\ud800\"", "{\"a\":\"\\ud83d\"}", "items.find({\"name\":1e19})", "\u{0}\u{1}"]).utf8)
        case 1:
            return Data(
                pick([
                    #"items.find({"name":{"$match":"*a*a*a*a*a*a*a*a*b"}})"#, #"items.find({"$or":[{"size":{"$gt":1e19}}]}).limit(-1)"#,
                    #"items.find({"created":{"$last":"99999999999y"}}).offset(9223372036854775807)"#,
                    "items.find(" + String(repeating: "[", count: 2_000),
                ]).utf8)
        case 2: return try? JSONSerialization.data(withJSONObject: value(depth: 3), options: [.fragmentsAllowed])
        default:
            var object: [String: Any] = [:]
            for field in route.fields where chance(70) { object[field] = value(depth: 3) }
            if chance(20) { object[pick(FuzzTests.hostileStrings)] = value(depth: 2) }
            return try? JSONSerialization.data(withJSONObject: object)
        }
    }

    mutating func target(for route: FuzzTests.Route) -> String {
        var path = ""
        var rest = Substring(route.path)
        while let range = rest.range(of: "{x}") {
            path += rest[..<range.lowerBound]
            let segment = pick(FuzzTests.hostileStrings)
            path += chance(15) ? segment.replacingOccurrences(of: "?", with: "") : FuzzTests.escape(segment)
            rest = rest[range.upperBound...]
        }
        path += rest
        let pairs = route.query.filter { _ in chance(60) }.map { "\($0)=\(FuzzTests.escape(pick(FuzzTests.hostileStrings)))" }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
}

final class Failures: @unchecked Sendable {  // guarded by its lock
    let lock = NSLock()
    var items: [String] = []
    var statuses: [Int: Int] = [:]

    func add(_ item: String) { lock.withLock { items.append(item) } }
    func count(_ status: Int) { lock.withLock { statuses[status / 100, default: 0] += 1 } }
    var all: [String] { lock.withLock { items } }
    var byClass: [Int: Int] { lock.withLock { statuses } }
}

/// SplitMix64: the same requests on every run of a seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
