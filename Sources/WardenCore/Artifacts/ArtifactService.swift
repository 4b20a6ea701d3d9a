import Foundation
import Logging
import Synchronization

/// Who asks and how, as the artifact events tell workers (spec §4 `UserContext`, `headers`).
public struct ArtifactRequest: Sendable {
    /// `nil` for a request without credentials.
    public var principal: Principal?
    /// Request headers in arrival order; credentials are masked before a worker sees them.
    public var headers: [(name: String, value: String)]
    public var clientAddress: String

    public init(principal: Principal?, headers: [(name: String, value: String)] = [], clientAddress: String = "") {
        self.principal = principal
        self.headers = headers
        self.clientAddress = clientAddress
    }

    public var userID: String { principal?.name ?? "anonymous" }

    /// The event depth its events run at (a worker's own request is one level deeper than that worker's run).
    public var depth: Int { principal?.eventDepth ?? 0 }
}

/// What an upload will do, decided before its body is read (the BEFORE_UPLOAD workers may have moved it).
public struct UploadTicket: Sendable {
    public var repo: String
    public var path: String
    public var properties: ArtifactProperties
    public var expected: ExpectedChecksums
    let request: ArtifactRequest
    let contentLength: Int64
}

/// Checksums a client sent with its upload; each is verified when present.
public struct ExpectedChecksums: Sendable, Equatable {
    public var sha256: String?
    public var sha1: String?
    public var md5: String?

    public init(sha256: String? = nil, sha1: String? = nil, md5: String? = nil) {
        self.sha256 = sha256
        self.sha1 = sha1
        self.md5 = md5
    }
}

/// What a download serves: a file (with the headers workers added and what of it to send) or a folder's children.
public enum DownloadAnswer: Sendable {
    case file(ArtifactItem, blobPath: String, extraHeaders: [(name: String, values: [String])], delivery: Delivery)
    case folder(ArtifactItem, children: [ArtifactItem])
    /// A file the server makes rather than stores (a maven artifact's `maven-metadata.xml`).
    case generated(name: String, text: String, contentType: String)
}

/// What of a file a download sends, decided from the request's conditional and range headers before anything is
/// counted or fired: only `whole` and `part` are downloads.
public enum Delivery: Sendable, Equatable {
    case whole
    /// `bytes=a-b`, `bytes=a-` or `bytes=-n`, as offsets into the file.
    case part(ClosedRange<Int64>)
    /// `If-None-Match` names its ETag (the SHA-1) or `*`, or it has not changed since `If-Modified-Since`.
    case notModified
    /// A `Range` this file cannot satisfy (416).
    case unsatisfiable

    public var isDownload: Bool {
        switch self {
        case .whole, .part: true
        case .notModified, .unsatisfiable: false
        }
    }

    /// Decides from `headers` (names in any case): a matching `If-None-Match` or `If-Modified-Since` first, then
    /// `Range` (one range; several, or one past the end, cannot be satisfied). An empty file is sent whole.
    public static func of(_ item: ArtifactItem, headers: [(name: String, value: String)]) -> Delivery {
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        // RFC 9110 §13.2.2: when If-None-Match is given, If-Modified-Since is not looked at (a change within the
        // second the date names would otherwise pass as no change).
        if let match = header("if-none-match") {
            let tags = match.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if tags.contains("\"\(item.sha1)\"") || tags.contains("W/\"\(item.sha1)\"") || tags.contains("*") { return .notModified }
        } else if let since = header("if-modified-since"), let seconds = HTTPDate.parse(since).flatMap(Checked.int64),
            seconds >= item.modifiedAt / 1000
        {
            return .notModified
        }
        guard let range = header("range"), item.size > 0 else { return .whole }
        return byteRange(range, size: item.size).map(Delivery.part) ?? .unsatisfiable
    }

    /// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size` bytes; `nil` when it cannot be satisfied.
    static func byteRange(_ header: String, size: Int64) -> ClosedRange<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let suffix = Int64(spec[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int64(spec[0]), start >= 0, start < size else { return nil }
        if spec[1].isEmpty { return start...(size - 1) }
        guard let end = Int64(spec[1]), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}

/// Copy and move outcome.
public struct TransferReport: Sendable, Equatable {
    public var files: Int
    public var folders: Int
    public var dryRun: Bool
}

/// The artifact repositories: every decision of the artifact API, and the events that run workers (spec §9).
public final class ArtifactService: Sendable {
    let store: any ArtifactStore
    public let blobs: any BlobStore
    /// Who may do what where (docs/permissions.md).
    public let permissions: PermissionService
    public let events: EventDispatcher
    /// The server's URL, as payloads give it (`servletContextUrl`); set again once the port is bound.
    let address: ServerAddress
    var baseURL: String { address.url }
    /// Download statistics, written behind the answer in batches; the reads that show them flush it first, so this
    /// server's own downloads are always counted in what it shows. A service of the server's group (flushed last).
    public let downloads: WriteBehind<DownloadRecord>
    /// Repository settings as this server last read or wrote them; `nil` until read.
    let repositoryCache = Mutex<(generation: Int, byKey: [String: Repository]?)>((0, nil))

    /// Where AQL queries are evaluated: off the request threads, a few at a time, each within a time budget.
    let searches: SearchRunner
    /// How remote repositories reach their upstreams (`nil`: they serve what they cached).
    let upstream: (any UpstreamClient)?
    let logger: Logger

    public init(
        store: any ArtifactStore, blobs: any BlobStore, events: EventDispatcher, permissions: PermissionService, address: ServerAddress,
        searchBudget: Duration = .seconds(10), concurrentSearches: Int = 2, upstream: (any UpstreamClient)? = nil,
        logger: Logger = Logger(label: "warden")
    ) {
        self.upstream = upstream
        self.logger = logger
        self.permissions = permissions
        self.searches = SearchRunner(budget: searchBudget, concurrency: concurrentSearches)
        self.downloads = WriteBehind(name: "download statistics", logger: logger) { [store] records in try await store.recordDownloads(records) }
        self.store = store
        self.blobs = blobs
        self.events = events
        self.address = address
    }

    /// Removes the blobs no item refers to: a blob renamed into place whose transaction then failed (a crash between
    /// the two) is such a file. Each is looked at again under its own lock before it goes, so that an upload of the
    /// same content under way (here or on another server sharing the blobs) keeps its file.
    @discardableResult
    public func removeUnreferencedBlobs() async throws -> Int {
        let referenced = try await store.referencedBlobs()
        let candidates = blobs.storedBlobs().filter { !referenced.contains($0) }
        let removed = Mutex(0)
        try await store.releaseIfUnreferenced(candidates) { [blobs] hash in
            blobs.release(sha256: hash)
            removed.withLock { $0 += 1 }
        }
        return removed.withLock { $0 }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Forgets the repository settings when another server changed them.
    public func forget(_ change: StoreChange) {
        if change == .repositories || change == .everything { repositoryCache.withLock { $0 = ($0.generation + 1, nil) } }
    }

    // MARK: Upload

    /// Checks the target and runs the BEFORE_UPLOAD workers, before any byte of the body is read.
    public func beginUpload(
        repo: String, path rawPath: String, properties: ArtifactProperties, expected: ExpectedChecksums, contentLength: Int64,
        request: ArtifactRequest
    ) async throws -> UploadTicket {
        var path = try ArtifactPath.normalize(rawPath)
        guard !path.isEmpty else { throw WardenError.invalid("path", "a file needs a path inside the repository") }
        var repository = try await authorized(.write, repo, path: path, request.principal)
        var repo = repository.key
        try Self.validate(properties)
        for (field, value, length) in [
            ("X-Checksum-Sha256", expected.sha256, 64), ("X-Checksum-Sha1", expected.sha1, 40), ("X-Checksum-Md5", expected.md5, 32),
        ] {
            if let value, value.count != length || !value.allSatisfy(\.isHexDigit) {
                throw WardenError.invalid(field, "'\(value)' is not \(length) hexadecimal digits")
            }
        }
        let data = {
            Payloads.beforeUpload(
                repo: repo, path: path, contentLength: contentLength, properties: properties, request: request, address: self.address)
        }
        let verdict = try await requirePolicy(.beforeUpload, repo: repo, path: path, request: request, dataJSON: data)
        if let moved = verdict.modifiedRepoPath {
            let newPath = try ArtifactPath.normalize(moved.path, field: "modifiedRepoPath.path")
            guard !newPath.isEmpty else { throw WardenError(.badRequest, "a worker moved the upload to the root of '\(moved.key)'") }
            repository = try await authorized(.write, moved.key, path: newPath, request.principal)
            repo = repository.key
            path = newPath
        }
        try Self.requireDeployable(path, in: repository)
        let replaced = try await store.item(repo: repo, path: path)
        if let replaced, replaced.isFolder {
            throw WardenError(.conflict, "\(repo)/\(path) is a folder; a file cannot replace it")
        }
        // Overwriting a file deletes it: that needs `delete` besides `write` (as in the reference).
        if let replaced { try await requireEach(.delete, [replaced], request.principal) }
        try await requireRoom(adding: contentLength, removing: replaced?.size ?? 0, in: repository)
        try await requireCreatable(repo: repo, path: path, isFolder: false, contentLength: contentLength, request: request)
        return UploadTicket(repo: repo, path: path, properties: properties, expected: expected, request: request, contentLength: contentLength)
    }

    /// Verifies and stores a fully received body, then queues the AFTER_CREATE workers. The staged blob is
    /// discarded on every failure.
    public func commitUpload(_ ticket: UploadTicket, blob: any StagedBlob) async throws -> ArtifactItem {
        let digest: BlobDigest
        do {
            digest = try await BlockingWork.run { try blob.seal() }
            for (name, expected, actual) in [
                ("SHA-256", ticket.expected.sha256, digest.sha256), ("SHA-1", ticket.expected.sha1, digest.sha1),
                ("MD5", ticket.expected.md5, digest.md5),
            ] {
                if let expected, expected.lowercased() != actual {
                    throw WardenError(.conflict, "\(name) checksum mismatch: the client sent \(expected.lowercased()), the content has \(actual)")
                }
            }
        } catch {
            blob.discard()
            throw error
        }
        let now = Self.now()
        let user = ticket.request.userID
        let item = ArtifactItem(
            repo: ticket.repo, path: ticket.path, isFolder: false, size: digest.size, sha256: digest.sha256, sha1: digest.sha1, md5: digest.md5,
            createdAt: now, modifiedAt: now, updatedAt: now, createdBy: user, modifiedBy: user)
        let blobs = self.blobs
        let stored: ArtifactItem
        do {
            let quota = try await cachedRepository(ticket.repo)?.quotaBytes
            stored = try await store.putFile(
                item, properties: ticket.properties.isEmpty ? nil : ticket.properties, quotaBytes: quota,
                materialize: { try blobs.materialize(blob, digest: digest) }, release: { blobs.release(sha256: $0) })
        } catch {
            blob.discard()
            throw error
        }
        let data = {
            Payloads.afterCreate(
                repo: ticket.repo, path: ticket.path, contentLength: digest.size, request: ticket.request, address: self.address)
        }
        try await notify(.afterCreate, repo: ticket.repo, path: ticket.path, request: ticket.request, dataJSON: data)
        return stored
    }

    /// Creates a folder (a PUT of a path ending in `/`).
    public func createFolder(repo: String, path rawPath: String, request: ArtifactRequest) async throws -> ArtifactItem {
        let path = try ArtifactPath.normalize(rawPath)
        let repository = try await authorized(.write, repo, path: path, request.principal)
        if repository.isRemote { try Self.requireDeployable(path, in: repository) }
        let repo = repository.key
        if let existing = try await store.item(repo: repo, path: path) {
            guard existing.isFolder else { throw WardenError(.conflict, "\(repo)/\(path) is a file") }
            return existing
        }
        try await requireCreatable(repo: repo, path: path, isFolder: true, contentLength: 0, request: request)
        let now = Self.now()
        let user = request.userID
        try await store.putFolder(
            ArtifactItem(repo: repo, path: path, isFolder: true, createdAt: now, modifiedAt: now, updatedAt: now, createdBy: user, modifiedBy: user))
        return try await existing(repo, path)
    }

    /// What a repository refuses whoever deploys: anything to a remote one (a cache of its upstream), and in a maven
    /// one what its release and snapshot handling does not take (409).
    static func requireDeployable(_ path: String, in repository: Repository) throws(WardenError) {
        if repository.isRemote {
            throw WardenError(
                .badRequest,
                "'\(repository.key)' is a remote repository, a cache of \(repository.layout.remote?.url ?? "its upstream"): deploy to a local repository"
            )
        }
        try MavenLayout.check(path, in: repository)
    }

    static func validate(_ properties: ArtifactProperties) throws(WardenError) {
        for (name, values) in properties {
            if name.isEmpty || name.count > 255 || name.contains(where: { ";|=,&".contains($0) || $0.isNewline }) {
                throw WardenError.invalid("properties", "'\(name)' is not a property name (1 to 255 characters, none of ;|=,&)")
            }
            if values.contains(where: { $0.utf8.count > 2_400 }) {
                throw WardenError.invalid("properties", "a value of '\(name)' is over 2400 bytes")
            }
        }
    }

    // MARK: Download

    /// Resolves a download and runs the BEFORE_DOWNLOAD workers (a 304 would still tell the file's checksum, so they
    /// run for it too); a GET (not a HEAD) that sends the file or part of it also counts the download and queues the
    /// AFTER_DOWNLOAD workers before the client gets the answer. A 304 or 416 counts and fires nothing.
    public func download(repo: String, path rawPath: String, headOnly: Bool, request: ArtifactRequest) async throws -> DownloadAnswer {
        let path = try ArtifactPath.normalize(rawPath)
        let repository = try await authorized(.read, repo, path: path, request.principal)
        if repository.isRemote { try await refreshRemote(repository, path: path, request: request) }
        return try await serve(repo: repository.key, path: path, headOnly: headOnly, request: request, remote: repository.isRemote)
    }

    /// A file a CI run archived, for a caller the pipeline's reading rule let in (`PipelineService.archived`): the
    /// archive repository's permission targets are not asked (a pipeline's reader need not read the repository),
    /// everything else is a download's: the BEFORE_DOWNLOAD workers run as the caller (a STOP refuses), the
    /// download is counted for the caller, and AFTER_DOWNLOAD fires.
    func downloadArchived(repo: String, path rawPath: String, request: ArtifactRequest) async throws -> (ArtifactItem, blobPath: String) {
        let path = try ArtifactPath.normalize(rawPath)
        guard try await cachedRepository(repo) != nil,
            case .file(let item, let blobPath, _, _) = try await serve(repo: repo, path: path, headOnly: false, request: request, whole: true)
        else { throw WardenError(.notFound, "\(repo)/\(path) does not exist") }
        return (item, blobPath)
    }

    /// The download of `repo/path` once it is authorized; `whole` sends the file whatever conditional or range
    /// headers the request has (Candor's archive route knows none).
    func serve(
        repo: String, path: String, headOnly: Bool, request: ArtifactRequest, whole: Bool = false, remote: Bool = false
    ) async throws -> DownloadAnswer {
        guard let item = try await store.item(repo: repo, path: path) else {
            // Asked only after a miss, so that a download of a stored file pays nothing for it.
            if let generated = try await generatedMetadata(repo: repo, path: path, for: request.principal) { return generated }
            throw WardenError(.notFound, "\(repo)/\(path) does not exist")
        }
        if item.isFolder {
            return .folder(item, children: try await readable(try await store.children(repo: repo, path: path), for: request.principal))
        }
        let data = {
            Payloads.download(item: item, headOnly: headOnly, request: request, address: self.address, withRepoPath: true, remote: remote)
        }
        let verdict = try await requirePolicy(.beforeDownload, repo: repo, path: path, request: request, dataJSON: data)
        let delivery = whole ? Delivery.whole : Delivery.of(item, headers: request.headers)
        if !headOnly && delivery.isDownload {
            await downloads.enqueue(DownloadRecord(repo: repo, path: path, millis: Self.now(), user: request.userID))
            let after = {
                Payloads.download(item: item, headOnly: false, request: request, address: self.address, withRepoPath: false, remote: remote)
            }
            try await events.enqueue(
                action: .afterDownload, repo: repo, path: path, dataJSON: after, triggeredBy: request.userID, depth: request.depth)
        }
        return .file(item, blobPath: blobs.filePath(sha256: item.sha256), extraHeaders: verdict.headers, delivery: delivery)
    }

    /// A maven artifact's `maven-metadata.xml` when none was deployed (`path` holds nothing): made from its version
    /// folders (the ones the caller may read), so a build resolves `latest` and `release` of what was deployed with
    /// plain PUTs.
    func generatedMetadata(repo: String, path: String, for principal: Principal?) async throws -> DownloadAnswer? {
        guard let folder = MavenLayout.metadataFolder(of: path), try await cachedRepository(repo)?.layout.packageType == .maven,
            let artifact = try await store.item(repo: repo, path: folder), artifact.isFolder
        else { return nil }
        var versions: [(String, Int64)] = []
        for child in try await readable(try await store.children(repo: repo, path: folder), for: principal) where child.isFolder {
            let files = try await store.children(repo: repo, path: child.path).filter { !$0.isFolder }
            guard !files.isEmpty else { continue }
            versions.append((child.name, files.map(\.modifiedAt).max() ?? child.modifiedAt))
        }
        guard !versions.isEmpty else { return nil }
        return .generated(name: "maven-metadata.xml", text: MavenLayout.metadata(folder: folder, versions: versions), contentType: "application/xml")
    }

    /// Runs the synchronous workers of `action` on `repo/path` for `request` (at its event depth); a STOP refuses
    /// the operation with the worker's message (403). The verdict, for what else it says (headers, a new path).
    @discardableResult
    func requirePolicy(
        _ action: WorkerAction, repo: String, path: String, also: (repo: String, path: String)? = nil, request: ArtifactRequest,
        dataJSON: () -> String
    ) async throws -> SyncVerdict {
        let verdict = try await events.runSynchronous(
            action: action, repo: repo, path: path, also: also, dataJSON: dataJSON, triggeredBy: request.userID, depth: request.depth)
        if let message = verdict.stopMessage { throw WardenError(.forbidden, message) }
        return verdict
    }

    /// Queues the asynchronous workers of `action` on `repo/path` (and `also`) for `request`'s event.
    func notify(
        _ action: WorkerAction, repo: String, path: String, also: (repo: String, path: String)? = nil, request: ArtifactRequest,
        dataJSON: () -> String
    ) async throws {
        try await events.enqueue(
            action: action, repo: repo, path: path, also: also, dataJSON: dataJSON, triggeredBy: request.userID, depth: request.depth)
    }

    /// The BEFORE_CREATE workers of an item about to be created (or a file about to be replaced) at `repo/path`.
    func requireCreatable(repo: String, path: String, isFolder: Bool, contentLength: Int64, request: ArtifactRequest) async throws {
        let data = {
            Payloads.beforeCreate(repo: repo, path: path, isFolder: isFolder, contentLength: contentLength, request: request, address: self.address)
        }
        try await requirePolicy(.beforeCreate, repo: repo, path: path, request: request, dataJSON: data)
    }

    // MARK: Delete

    /// Deletes a file or a folder with its content, after the BEFORE_DELETE workers agree.
    public func delete(repo: String, path rawPath: String, request: ArtifactRequest) async throws {
        let path = try ArtifactPath.normalize(rawPath)
        let repo = try await authorized(.delete, repo, path: path, request.principal).key
        // A download counted after the delete would count for a file uploaded again at the same path.
        await downloads.flush()
        guard !path.isEmpty else {
            throw WardenError.invalid("path", "the root of a repository is deleted with DELETE /artifactory/api/repositories/\(repo)")
        }
        let item = try await existing(repo, path)
        let doomed = [item] + (item.isFolder ? try await store.descendants(repo: repo, path: path) : [])
        // A folder goes with everything in it: the caller needs delete on each of its items.
        try await requireEach(.delete, doomed, request.principal)
        try await requireDeletable(doomed, request, byMove: false)
        let blobs = self.blobs
        guard try await store.delete(repo: repo, path: path, release: { blobs.release(sha256: $0) }) else {
            throw WardenError(.notFound, "\(repo)/\(path) does not exist")
        }
        try await notifyDeleted(doomed, request, byMove: false)
    }

    /// Queues the AFTER_DELETE workers of each item that went (the same items BEFORE_DELETE asked about).
    func notifyDeleted(_ items: [ArtifactItem], _ request: ArtifactRequest, byMove: Bool) async throws {
        for item in items {
            let data = { Payloads.beforeDelete(item: item, request: request, address: self.address, byMove: byMove) }
            try await notify(.afterDelete, repo: item.repo, path: item.path, request: request, dataJSON: data)
        }
    }

    /// Runs the BEFORE_DELETE workers of each item that would go (a folder's files too: a policy on
    /// `internal/**/*.key` must not be passed by deleting `internal`); the first STOP refuses the whole operation.
    func requireDeletable(_ items: [ArtifactItem], _ request: ArtifactRequest, byMove: Bool) async throws {
        for item in items {
            let data = { Payloads.beforeDelete(item: item, request: request, address: self.address, byMove: byMove) }
            try await requirePolicy(.beforeDelete, repo: item.repo, path: item.path, request: request, dataJSON: data)
        }
    }

}
