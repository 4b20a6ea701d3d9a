import Foundation
import Logging

/// What an upstream answered a remote repository's fetch.
public struct UpstreamResponse: Sendable, Equatable {
    public var status: Int
    /// Names in lower case.
    public var headers: [String: String]

    public init(status: Int, headers: [String: String]) {
        self.status = status
        self.headers = headers
    }
}

/// How a remote repository reaches its upstream: the server's HTTP client, held to the egress allow-list
/// (WardenHTTP implements it over URLSession).
public protocol UpstreamClient: Sendable {
    /// GETs `url` with `headers`; the body of a 200 is appended to `blob`, at most `maxBytes` of it (more fails the
    /// fetch). Any other status leaves `blob` empty. Throws when the host may not be reached or the fetch fails.
    func fetch(url: String, headers: [(name: String, value: String)], into blob: any StagedBlob, maxBytes: Int64) async throws
        -> UpstreamResponse
}

extension ArtifactService {
    /// The most a remote repository fetches for one file.
    static let maxRemoteFileBytes: Int64 = 4 << 30

    /// A remote repository's file as `serve` should find it: cached and fresh as it is; missing or stale, fetched
    /// from the upstream first (BEFORE_REMOTE_INFO workers decide and may add headers to the upstream request;
    /// the new file fires AFTER_CREATE). A stale copy is served when the upstream cannot be asked; `offline` never
    /// asks. Caching a file the repository does not have needs `write` there (the reference's deploy/cache).
    func refreshRemote(_ repository: Repository, path: String, request: ArtifactRequest) async throws {
        guard let remote = repository.layout.remote, !path.isEmpty else { return }
        let cached = try await store.item(repo: repository.key, path: path)
        if let cached, cached.isFolder { return }
        let periodMillis = Checked.product(remote.retrievalCachePeriodSecs, 1_000)
        if let cached, remote.offline || Checked.sum(cached.updatedAt, periodMillis) > Self.now() { return }
        if remote.offline { return }  // not cached: `existing` answers 404
        if cached == nil, try await !permissions.allows(.write, repository, path: path, principal: request.principal) {
            throw PermissionService.refusal(.write, repository.key, path: path, principal: request.principal).explained(
                "(caching \(path) from \(remote.url) is a deploy to the cache)")
        }
        let url =
            remote.url + "/"
            + path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
            .joined(separator: "/")
        let data = { Payloads.beforeRemoteInfo(repo: repository.key, path: path, remoteURL: url, request: request, address: self.address) }
        let verdict = try await requirePolicy(.beforeRemoteInfo, repo: repository.key, path: path, request: request, dataJSON: data)
        guard let upstream else {
            if cached != nil { return }
            throw WardenError(.badGateway, "\(repository.key) cannot reach its upstream: this server has no upstream client")
        }
        var headers: [(name: String, value: String)] = verdict.headers.flatMap { header in header.values.map { (header.name, $0) } }
        if let cached {
            // Both: an upstream that tags by SHA-1 (as this server does) answers If-None-Match exactly; one that only
            // knows dates answers If-Modified-Since.
            headers.append(("If-None-Match", "\"\(cached.sha1)\""))
            headers.append(("If-Modified-Since", HTTPDate.format(millis: cached.updatedAt)))
        }
        let blob = try blobs.stage()
        let response: UpstreamResponse
        do {
            response = try await upstream.fetch(url: url, headers: headers, into: blob, maxBytes: Self.maxRemoteFileBytes)
        } catch {
            blob.discard()
            guard cached == nil else {
                logger.warning("remote repository '\(repository.key)': \(url) could not be fetched (\(error)); serving the cached copy")
                return
            }
            throw WardenError(.badGateway, "\(repository.key)/\(path): the upstream \(remote.url) could not be asked: \(Self.reason(error))")
        }
        switch response.status {
        case 200:
            break
        case 304:
            blob.discard()
            return
        case 404, 410:
            blob.discard()
            // Gone upstream: a cached copy stays (as a cache of what was); nothing to fetch otherwise.
            if cached != nil { return }
            throw WardenError(.notFound, "\(repository.key)/\(path) is not in the upstream \(remote.url) (it answered \(response.status))")
        default:
            blob.discard()
            guard cached == nil else {
                logger.warning("remote repository '\(repository.key)': \(url) answered \(response.status); serving the cached copy")
                return
            }
            throw WardenError(.badGateway, "\(repository.key)/\(path): the upstream \(remote.url) answered \(response.status)")
        }
        let ticket = UploadTicket(
            repo: repository.key, path: path, properties: [:], expected: ExpectedChecksums(sha256: nil, sha1: nil, md5: nil), request: request,
            contentLength: -1)
        _ = try await commitUpload(ticket, blob: blob)
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? WardenError { return error.message }
        return String(describing: error)
    }
}

extension WardenError {
    /// The same refusal with a few words more.
    func explained(_ more: String) -> WardenError {
        var error = self
        error.reason += " " + more
        return error
    }
}
