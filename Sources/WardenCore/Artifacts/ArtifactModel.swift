import Foundation

/// What a repository holds: a local one, files deployed to it; a remote one, a cache of an upstream URL.
public enum RepositoryClass: String, Sendable, Codable {
    case local, remote
}

/// The package layout a repository follows: `generic` (any path) or `maven` (release and snapshot rules,
/// `maven-metadata.xml` served).
public enum PackageType: String, Sendable, Codable, CaseIterable {
    case generic, maven
}

/// A remote repository's upstream and how long what it fetched is served without asking the upstream again.
public struct RemoteSettings: Sendable, Equatable, Codable {
    public var url: String
    /// Seconds a cached file is served before the upstream is asked whether it changed.
    public var retrievalCachePeriodSecs: Int64
    /// Serve only what is cached; never ask the upstream.
    public var offline: Bool

    public init(url: String, retrievalCachePeriodSecs: Int64 = 7_200, offline: Bool = false) {
        self.url = url
        self.retrievalCachePeriodSecs = retrievalCachePeriodSecs
        self.offline = offline
    }
}

/// A repository's class and layout settings, stored together (one column on both databases).
public struct RepositoryLayout: Sendable, Equatable, Codable {
    public var rclass: RepositoryClass
    public var packageType: PackageType
    /// Maven: accept release versions.
    public var handleReleases: Bool
    /// Maven: accept snapshot versions (`-SNAPSHOT`, or timestamped).
    public var handleSnapshots: Bool
    /// Remote repositories only.
    public var remote: RemoteSettings?

    public init(
        rclass: RepositoryClass = .local, packageType: PackageType = .generic, handleReleases: Bool = true, handleSnapshots: Bool = true,
        remote: RemoteSettings? = nil
    ) {
        self.rclass = rclass
        self.packageType = packageType
        self.handleReleases = handleReleases
        self.handleSnapshots = handleSnapshots
        self.remote = remote
    }

    public static let local = RepositoryLayout()
}

/// An artifact repository (spec: "repositories are private by default").
public struct Repository: Sendable, Equatable {
    public var key: String
    public var description: String
    /// Requests without credentials may read (download, list, search) this repository.
    public var anonymousRead: Bool
    public var createdAt: Int64
    /// The most bytes its files may hold together (`nil`: no quota); an upload past it is refused with 413.
    public var quotaBytes: Int64?
    public var layout: RepositoryLayout

    public init(
        key: String, description: String = "", anonymousRead: Bool = false, createdAt: Int64 = 0, quotaBytes: Int64? = nil,
        layout: RepositoryLayout = .local
    ) {
        self.quotaBytes = quotaBytes
        self.key = key
        self.description = description
        self.anonymousRead = anonymousRead
        self.createdAt = createdAt
        self.layout = layout
    }

    public var isRemote: Bool { layout.rclass == .remote }
}

/// The settings a request gives for a repository; each `nil` keeps what is stored (or the default of a new one).
public struct RepositorySettings: Sendable, Equatable {
    public var description: String?
    public var anonymousRead: Bool?
    /// `.some(nil)` removes the quota.
    public var quotaBytes: Int64??
    /// Set when the repository is made; an update may only repeat them.
    public var rclass: RepositoryClass?
    public var packageType: PackageType?
    public var handleReleases: Bool?
    public var handleSnapshots: Bool?
    public var url: String?
    public var retrievalCachePeriodSecs: Int64?
    public var offline: Bool?

    public init(
        description: String? = nil, anonymousRead: Bool? = nil, quotaBytes: Int64?? = nil, rclass: RepositoryClass? = nil,
        packageType: PackageType? = nil, handleReleases: Bool? = nil, handleSnapshots: Bool? = nil, url: String? = nil,
        retrievalCachePeriodSecs: Int64? = nil, offline: Bool? = nil
    ) {
        self.description = description
        self.anonymousRead = anonymousRead
        self.quotaBytes = quotaBytes
        self.rclass = rclass
        self.packageType = packageType
        self.handleReleases = handleReleases
        self.handleSnapshots = handleSnapshots
        self.url = url
        self.retrievalCachePeriodSecs = retrievalCachePeriodSecs
        self.offline = offline
    }

    /// Checks each given value and sets it on `repository`; `creating` is the only time the class and the package
    /// type may be chosen.
    public func apply(to repository: inout Repository, creating: Bool = false) throws(WardenError) {
        if let description {
            if description.count > 1_000 { throw WardenError.invalid("description", "is longer than 1000 characters") }
            repository.description = description
        }
        if let anonymousRead { repository.anonymousRead = anonymousRead }
        if let quotaBytes {
            if let quota = quotaBytes, quota <= 0 { throw WardenError.invalid("quotaBytes", "must be a positive number of bytes") }
            repository.quotaBytes = quotaBytes
        }
        var layout = repository.layout
        if let rclass, rclass != layout.rclass {
            guard creating else { throw WardenError.invalid("rclass", "is '\(layout.rclass.rawValue)' and cannot change; make a new repository") }
            layout.rclass = rclass
        }
        if let packageType, packageType != layout.packageType {
            guard creating else {
                throw WardenError.invalid("packageType", "is '\(layout.packageType.rawValue)' and cannot change; make a new repository")
            }
            layout.packageType = packageType
        }
        if let handleReleases { layout.handleReleases = handleReleases }
        if let handleSnapshots { layout.handleSnapshots = handleSnapshots }
        if layout.rclass == .remote {
            var remote = layout.remote ?? RemoteSettings(url: "")
            if let url { remote.url = try Self.upstream(url) }
            if let retrievalCachePeriodSecs {
                guard (0...Checked.maxExpirySeconds).contains(retrievalCachePeriodSecs) else {
                    throw WardenError.invalid("retrievalCachePeriodSecs", "must be 0 to \(Checked.maxExpirySeconds) seconds")
                }
                remote.retrievalCachePeriodSecs = retrievalCachePeriodSecs
            }
            if let offline { remote.offline = offline }
            guard !remote.url.isEmpty else { throw WardenError.invalid("url", "is required for a remote repository: the upstream it caches") }
            layout.remote = remote
        } else {
            for (field, given) in [("url", url != nil), ("retrievalCachePeriodSecs", retrievalCachePeriodSecs != nil), ("offline", offline != nil)]
            where given {
                throw WardenError.invalid(field, "is a setting of remote repositories; this one is local")
            }
        }
        repository.layout = layout
    }

    /// An upstream URL: absolute http(s), with a host, without credentials (which would be shown back by the
    /// repository's settings; a BEFORE_REMOTE_INFO worker adds them from its secrets instead).
    static func upstream(_ text: String) throws(WardenError) -> String {
        guard text.count <= 2_048, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { throw WardenError.invalid("url", "must be an absolute http or https URL, such as https://repo.example.com/releases") }
        guard components.user == nil, components.password == nil else {
            throw WardenError.invalid(
                "url", "must not carry credentials (they would be shown with the settings); add them in a BEFORE_REMOTE_INFO worker from its secrets")
        }
        guard components.query == nil, components.fragment == nil else { throw WardenError.invalid("url", "must not have a query or a fragment") }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

/// Multi-valued properties, name → values, as the artifact service keeps them.
public typealias ArtifactProperties = [String: [String]]

/// A file or folder in a repository. `path` has no leading slash; the repository's root is the folder at `""`.
public struct ArtifactItem: Sendable, Equatable {
    public var repo: String
    public var path: String
    public var isFolder: Bool
    public var size: Int64
    public var sha256: String
    public var sha1: String
    public var md5: String
    public var createdAt: Int64
    public var modifiedAt: Int64
    /// When the item's properties or content last changed in the store.
    public var updatedAt: Int64
    public var createdBy: String
    public var modifiedBy: String
    public var downloadCount: Int64
    public var lastDownloaded: Int64?
    public var lastDownloadedBy: String?

    public init(
        repo: String, path: String, isFolder: Bool, size: Int64 = 0, sha256: String = "", sha1: String = "", md5: String = "",
        createdAt: Int64, modifiedAt: Int64, updatedAt: Int64, createdBy: String, modifiedBy: String, downloadCount: Int64 = 0,
        lastDownloaded: Int64? = nil, lastDownloadedBy: String? = nil
    ) {
        self.repo = repo
        self.path = path
        self.isFolder = isFolder
        self.size = size
        self.sha256 = sha256
        self.sha1 = sha1
        self.md5 = md5
        self.createdAt = createdAt
        self.modifiedAt = modifiedAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
        self.modifiedBy = modifiedBy
        self.downloadCount = downloadCount
        self.lastDownloaded = lastDownloaded
        self.lastDownloadedBy = lastDownloadedBy
    }

    /// The last path segment (the repository key for the root).
    public var name: String {
        if path.isEmpty { return repo }
        return String(path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...])
    }
    /// The folder holding this item: `""` for the root's children, `nil` for the root itself.
    public var parentPath: String? { ArtifactPath.parent(of: path) }
}

/// Path rules shared by every artifact operation.
public enum ArtifactPath {
    /// Folder of `path`: `"a/b"` for `"a/b/c"`, `""` for `"c"`, `nil` for the root.
    public static func parent(of path: String) -> String? {
        guard !path.isEmpty else { return nil }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Every folder above `path`, root first: `["", "a", "a/b"]` for `"a/b/c"`.
    public static func ancestors(of path: String) -> [String] {
        var folders: [String] = []
        var current = parent(of: path)
        while let folder = current {
            folders.append(folder)
            current = parent(of: folder)
        }
        return folders.reversed()
    }

    /// Normalises a path from a URL: no leading or trailing slash, no empty, `.` or `..` segment.
    public static func normalize(_ raw: String, field: String = "path") throws(WardenError) -> String {
        let segments = raw.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments where segment == "." || segment == ".." {
            throw WardenError.invalid(field, "'\(raw)' has a '\(segment)' segment; paths inside a repository are plain")
        }
        if raw.utf8.count > 1_024 { throw WardenError.invalid(field, "is longer than 1024 bytes") }
        if raw.contains(where: { $0.isNewline || $0 == "\0" }) { throw WardenError.invalid(field, "contains a control character") }
        return segments.joined(separator: "/")
    }

    /// Whether `path` is `folder` or inside it.
    public static func isWithin(_ path: String, folder: String) -> Bool {
        folder.isEmpty || path == folder || path.hasPrefix(folder + "/")
    }
}

/// A blob being written: bytes go in as they arrive; `seal` makes it durable (fsync) and names it by content.
public protocol StagedBlob: AnyObject, Sendable {
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes to disk and returns the digests; the blob is not visible until the store commits it.
    func seal() throws -> BlobDigest
    /// Removes the temporary file (a failed or refused upload leaves no trace).
    func discard()
}

/// Digests of a blob's content.
public struct BlobDigest: Sendable, Equatable {
    public var sha256: String
    public var sha1: String
    public var md5: String
    public var size: Int64

    public init(sha256: String, sha1: String, md5: String, size: Int64) {
        self.sha256 = sha256
        self.sha1 = sha1
        self.md5 = md5
        self.size = size
    }
}

/// Content-addressed files under the data folder. `materialize` and `release` are called by the artifact store
/// inside its write transaction, so a blob is never removed while a committed item refers to it.
public protocol BlobStore: Sendable {
    func stage() throws -> any StagedBlob
    /// Moves a sealed blob to its content address (or drops it when equal content is already there).
    func materialize(_ blob: any StagedBlob, digest: BlobDigest) throws
    /// Removes the content no item refers to any more.
    func release(sha256: String)
    /// Where a blob's bytes are, for streaming them out.
    func filePath(sha256: String) -> String
    /// Bytes used by all stored blobs.
    func usedBytes() -> Int64
    /// The SHA-256 of every stored blob.
    func storedBlobs() -> [String]
}
