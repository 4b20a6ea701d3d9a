import Foundation
import Testing

/// A remote repository on a live server, caching another live server's repository over loopback (issue 15): a miss
/// is fetched through the egress allow-list and cached (AFTER_CREATE fires), BEFORE_REMOTE_INFO decides and adds
/// headers, the cache period holds, offline serves only the cache, and caching needs write.
@Suite("remote repositories, end to end", .serialized)
struct RemoteRepositoryEndToEndTests {
    @Test func aRemoteRepositoryFetchesCachesAndServesItsUpstream() async throws {
        let upstream = try await LiveServer.launch(data: try temporaryFolder("warden-upstream"))
        defer { upstream.stop() }
        try await upstream.createRepository("central", anonymousRead: true)
        // The upstream says which headers reached it.
        try await upstream.deployWorker(
            key: "seen", action: "BEFORE_DOWNLOAD",
            source: "export default async (c, data) => ({ status: 1, message: 'note=' + (data.headers['X-Proxy-Note']?.value?.[0] ?? 'none') });",
            repos: ["central"])
        #expect(try await upstream.text("PUT", "/artifactory/central/org/a/1.0/a.jar", body: "jar one").status == 201)
        #expect(try await upstream.text("PUT", "/artifactory/central/org/a/1.0/blocked.jar", body: "no").status == 201)

        let proxy = try await LiveServer.launch(
            data: try temporaryFolder("warden-proxy"), arguments: ["--allow-hosts", "127.0.0.1:*"],
            environment: ["WARDEN_EGRESS_PRIVATE_HOSTS": "127.0.0.1:*"])
        defer { proxy.stop() }
        let upstreamURL = "\(upstream.url)/artifactory/central"
        let settings: [String: Any] = ["rclass": "remote", "packageType": "generic", "url": upstreamURL, "retrievalCachePeriodSecs": 3600]
        #expect(try await proxy.request("PUT", "/artifactory/api/repositories/central-cache", json: settings).status == 200)
        let shown = try await proxy.request("GET", "/artifactory/api/repositories/central-cache").body as? [String: Any]
        #expect(shown?["rclass"] as? String == "remote" && shown?["url"] as? String == upstreamURL && shown?["offline"] as? Bool == false)
        let remoteInfo = """
            export default async (context: PlatformContext, data: BeforeRemoteInfoRequest) => {
              if (data.repoPath.path.includes('blocked')) return { status: ActionStatus.STOP, message: 'not from upstream: ' + data.remoteUrl };
              return { status: ActionStatus.PROCEED, message: 'fetch ' + data.remoteUrl, headers: { 'X-Proxy-Note': { value: ['from-warden'] } } };
            };
            """
        try await proxy.deployWorker(key: "remote-info", action: "BEFORE_REMOTE_INFO", source: remoteInfo, repos: ["central-cache"])
        try await proxy.deployWorker(
            key: "downloads", action: "BEFORE_DOWNLOAD",
            source: "export default async (c, data) => ({ status: 1, message: 'repoType=' + data.metadata.repoType });",
            repos: ["central-cache"])
        try await proxy.deployWorker(
            key: "cached", action: "AFTER_CREATE", source: "export default async (c, data) => ({ message: 'cached ' + data.metadata.repoPath.id });",
            repos: ["central-cache"])

        // A miss: fetched (with the worker's header), cached, served; AFTER_CREATE fires on the cached item.
        let first = try await proxy.text("GET", "/artifactory/central-cache/org/a/1.0/a.jar")
        #expect(first.status == 200 && first.text == "jar one", "\(first.text)")
        let item = try await proxy.request("GET", "/artifactory/api/storage/central-cache/org/a/1.0/a.jar").body as? [String: Any]
        #expect(item?["size"] as? String == "7")
        try await proxy.eventually("AFTER_CREATE of the cached file") {
            try await proxy.history("cached").contains { "\($0["executionResult"] ?? "")".contains("cached central-cache:org/a/1.0/a.jar") }
        }
        #expect(try await proxy.history("downloads").contains { "\($0["executionResult"] ?? "")".contains("repoType=2") })
        let asked = try #require(try await proxy.history("remote-info").first?["executionPayload"] as? [String: Any])
        #expect(asked["remoteUrl"] as? String == "\(upstreamURL)/org/a/1.0/a.jar")
        #expect(try await upstream.history("seen").contains { "\($0["executionResult"] ?? "")".contains("note=from-warden") })
        // Within the cache period the upstream is not asked again: a change there is not seen.
        #expect(try await upstream.text("PUT", "/artifactory/central/org/a/1.0/a.jar", body: "jar two").status == 201)
        #expect(try await proxy.text("GET", "/artifactory/central-cache/org/a/1.0/a.jar").text == "jar one")
        // Refused by BEFORE_REMOTE_INFO: nothing fetched, nothing cached.
        let blocked = try await proxy.text("GET", "/artifactory/central-cache/org/a/1.0/blocked.jar")
        #expect(blocked.status == 403 && blocked.text.contains("not from upstream"), "\(blocked.text)")
        #expect(try await proxy.text("GET", "/artifactory/api/storage/central-cache/org/a/1.0/blocked.jar").status == 404)
        // Not upstream: 404. A cache takes no deploys.
        #expect(try await proxy.text("GET", "/artifactory/central-cache/org/none.jar").status == 404)
        let deploy = try await proxy.text("PUT", "/artifactory/central-cache/org/mine.jar", body: "x")
        #expect(deploy.status == 400 && deploy.text.contains("remote repository"), "\(deploy.text)")

        // Caching a miss needs write there (the reference's deploy/cache); reading the cache needs read.
        let made = try await proxy.request("POST", "/worker/api/v1/tokens", json: ["name": "reader", "scope": "user"])
        let reader = try #require((made.body as? [String: Any])?["token"] as? String)
        let target: [String: Any] = ["name": "readers", "repo": ["repositories": ["central-cache"], "actions": ["users": ["reader": ["read"]]]]]
        #expect(try await proxy.request("POST", "/artifactory/api/v2/security/permissions", json: target).status == 201)
        #expect(try await proxy.text("GET", "/artifactory/central-cache/org/a/1.0/a.jar", token: .some(reader)).text == "jar one")
        #expect(try await upstream.text("PUT", "/artifactory/central/org/b.jar", body: "b").status == 201)
        let miss = try await proxy.text("GET", "/artifactory/central-cache/org/b.jar", token: .some(reader))
        #expect(miss.status == 403 && miss.text.contains("caching"), "\(miss.text)")

        // A period of 0 asks the upstream each time: the change is seen.
        let eager: [String: Any] = ["rclass": "remote", "url": upstreamURL, "retrievalCachePeriodSecs": 0]
        #expect(try await proxy.request("PUT", "/artifactory/api/repositories/central-eager", json: eager).status == 200)
        #expect(try await proxy.text("GET", "/artifactory/central-eager/org/b.jar").text == "b")
        #expect(try await upstream.text("PUT", "/artifactory/central/org/b.jar", body: "b two").status == 201)
        #expect(try await proxy.text("GET", "/artifactory/central-eager/org/b.jar").text == "b two")

        // Offline: the cache only. With the upstream gone, a stale copy is still served.
        #expect(try await proxy.request("POST", "/artifactory/api/repositories/central-cache", json: ["offline": true]).status == 200)
        upstream.stop()
        #expect(try await proxy.text("GET", "/artifactory/central-cache/org/a/1.0/a.jar").text == "jar one")
        #expect(try await proxy.text("GET", "/artifactory/central-cache/org/c.jar").status == 404)
        #expect(try await proxy.text("GET", "/artifactory/central-eager/org/b.jar").text == "b two")
        let gone = try await proxy.text("GET", "/artifactory/central-eager/org/never.jar")
        #expect(gone.status == 502 && gone.text.contains("could not be asked"), "\(gone.text)")

        // An upstream off the egress allow-list is not reached.
        let elsewhere: [String: Any] = ["rclass": "remote", "url": "http://upstream.example.com/repo"]
        #expect(try await proxy.request("PUT", "/artifactory/api/repositories/elsewhere", json: elsewhere).status == 200)
        let refused = try await proxy.text("GET", "/artifactory/elsewhere/a.jar")
        #expect(refused.status == 502 && refused.text.contains("allow-list"), "\(refused.text)")
    }
}
