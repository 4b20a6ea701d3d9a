import Foundation
import Synchronization

extension ArtifactService {
    // MARK: Storage API

    public func item(repo: String, path rawPath: String, for principal: Principal?) async throws -> ArtifactItem {
        let path = try ArtifactPath.normalize(rawPath)
        await downloads.flush()
        return try await existing(try await authorized(.read, repo, path: path, principal).key, path)
    }

    /// The children of `item` the caller may read.
    public func children(of item: ArtifactItem, for principal: Principal?) async throws -> [ArtifactItem] {
        await downloads.flush()
        return try await readable(try await store.children(repo: item.repo, path: item.path), for: principal)
    }

    /// The items under `item` the caller may read.
    public func descendants(of item: ArtifactItem, for principal: Principal?) async throws -> [ArtifactItem] {
        await downloads.flush()
        return try await readable(try await store.descendants(repo: item.repo, path: item.path), for: principal)
    }

    public func properties(of item: ArtifactItem) async throws -> ArtifactProperties {
        try await store.properties(repo: item.repo, path: item.path)
    }

    /// Sets properties on an item (and everything under it when `recursive`); each property first goes through the
    /// BEFORE_PROPERTY_CREATE workers of that item.
    public func setProperties(
        repo: String, path rawPath: String, _ properties: ArtifactProperties, recursive: Bool, request: ArtifactRequest
    ) async throws {
        let path = try ArtifactPath.normalize(rawPath)
        let repo = try await authorized(.annotate, repo, path: path, request.principal).key
        guard !properties.isEmpty else { throw WardenError.invalid("properties", "name at least one property: ?properties=name=value") }
        try Self.validate(properties)
        let item = try await existing(repo, path)
        var targets = [item]
        if recursive && item.isFolder { targets += try await store.descendants(repo: repo, path: path) }
        try await requireEach(.annotate, targets, request.principal)
        // Each property of each item: asked before (BEFORE_PROPERTY_CREATE), told after (AFTER_PROPERTY_CREATE).
        let each = targets.flatMap { target in properties.keys.sorted().map { (target, $0) } }
        func data(_ target: ArtifactItem, _ name: String) -> () -> String {
            { Payloads.beforePropertyCreate(item: target, name: name, values: properties[name] ?? [], request: request, address: self.address) }
        }
        for (target, name) in each {
            try await requirePolicy(.beforePropertyCreate, repo: repo, path: target.path, request: request, dataJSON: data(target, name))
        }
        try await store.setProperties(repo: repo, paths: targets.map(\.path), properties, at: Self.now())
        for (target, name) in each {
            try await notify(.afterPropertyCreate, repo: repo, path: target.path, request: request, dataJSON: data(target, name))
        }
    }

    public func deleteProperties(repo: String, path rawPath: String, names: [String], recursive: Bool, request: ArtifactRequest) async throws {
        let path = try ArtifactPath.normalize(rawPath)
        let repo = try await authorized(.annotate, repo, path: path, request.principal).key
        guard !names.isEmpty else { throw WardenError.invalid("properties", "name at least one property to delete: ?properties=name") }
        let item = try await existing(repo, path)
        var items = [item]
        if recursive && item.isFolder { items += try await store.descendants(repo: repo, path: path) }
        try await requireEach(.annotate, items, request.principal)
        // Only the properties an item has are deleted from it, so only those ask and tell the workers.
        var present: [(ArtifactItem, String)] = []
        for item in items {
            let has = try await store.properties(repo: repo, path: item.path)
            for name in names where has[name] != nil { present.append((item, name)) }
        }
        func data(_ item: ArtifactItem, _ name: String) -> () -> String {
            { Payloads.propertyDelete(item: item, name: name, request: request, address: self.address) }
        }
        for (item, name) in present {
            try await requirePolicy(.beforePropertyDelete, repo: repo, path: item.path, request: request, dataJSON: data(item, name))
        }
        let paths = items.map(\.path)
        try await store.deleteProperties(repo: repo, paths: paths, names: names, at: Self.now())
        for (item, name) in present {
            try await notify(.afterPropertyDelete, repo: repo, path: item.path, request: request, dataJSON: data(item, name))
        }
    }

    /// Copies (or moves) a file or folder to `/repo/path`; into it when that is an existing folder. Copies keep
    /// properties and share the stored content; each new file fires AFTER_CREATE in its repository.
    public func transfer(
        move: Bool, repo: String, path rawPath: String, to target: String, dryRun: Bool, request: ArtifactRequest
    ) async throws -> TransferReport {
        let path = try ArtifactPath.normalize(rawPath)
        // The statistics a move carries and a copy resets are those of every download before it.
        await downloads.flush()
        // A copy hands the source's content out under a new path: it needs read on each source item (and delete
        // for a move), like a download, and write on each new path.
        let sourceRepo = try await authorized(.read, repo, path: path, request.principal).key
        if move { _ = try await authorized(.delete, repo, path: path, request.principal) }
        let source = try await existing(sourceRepo, path)
        let parts = target.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = parts.first else { throw WardenError.invalid("to", "give the target as /repository/path") }
        let targetRepository = try await authorized(.write, String(first), path: nil, request.principal)
        let targetRepo = targetRepository.key
        var targetPath = try ArtifactPath.normalize(parts.count > 1 ? String(parts[1]) : "", field: "to")
        if let existingTarget = try await store.item(repo: targetRepo, path: targetPath), existingTarget.isFolder {
            guard !path.isEmpty else { throw WardenError.invalid("to", "a repository root is copied into a folder path, not onto one") }
            targetPath = targetPath.isEmpty ? source.name : targetPath + "/" + source.name
        }
        guard !targetPath.isEmpty else { throw WardenError.invalid("to", "the target needs a path inside '\(targetRepo)'") }
        if targetRepo == sourceRepo, ArtifactPath.isWithin(targetPath, folder: path) {
            throw WardenError.invalid("to", "/\(targetRepo)/\(targetPath) is \(source.path) itself or inside it")
        }
        let items = [source] + (source.isFolder ? try await store.descendants(repo: sourceRepo, path: path) : [])
        let files = items.filter { !$0.isFolder }
        func destination(of item: ArtifactItem) -> String {
            let relative = item.path == path ? "" : String(item.path.dropFirst(path.isEmpty ? 0 : path.count + 1))
            return relative.isEmpty ? targetPath : targetPath + "/" + relative
        }
        try await requireEach(.read, items, request.principal)
        if move { try await requireEach(.delete, items, request.principal) }
        var destinations: [ArtifactItem] = []
        var replaced: [ArtifactItem] = []
        for item in items {
            var placed = item
            placed.repo = targetRepo
            placed.path = destination(of: item)
            destinations.append(placed)
            if !item.isFolder, let existing = try await store.item(repo: targetRepo, path: placed.path), !existing.isFolder {
                replaced.append(existing)
            }
        }
        // A remote target refuses even a tree of folders; a maven one is asked about each new file.
        if targetRepository.isRemote { try Self.requireDeployable(targetPath, in: targetRepository) }
        for destination in destinations where !destination.isFolder {
            try Self.requireDeployable(destination.path, in: targetRepository)
        }
        try await requireEach(.write, destinations, request.principal)
        try await requireEach(.delete, replaced, request.principal)
        try await requireRoom(
            adding: files.reduce(Int64(0)) { Checked.sum($0, $1.size) }, removing: replaced.reduce(Int64(0)) { Checked.sum($0, $1.size) },
            in: targetRepository)
        // Read once: the target's upload policies see them, and the copies get them.
        var properties: [String: ArtifactProperties] = [:]
        for file in files { properties[file.path] = try await store.properties(repo: sourceRepo, path: file.path) }
        try await requireTransferable(items, properties: properties, move: move, to: targetRepo, destination: destination, request: request)
        var report = TransferReport(files: files.count, folders: items.count - files.count, dryRun: dryRun)
        if dryRun { return report }
        let now = Self.now()
        let user = request.userID
        let blobs = self.blobs
        var created: [ArtifactItem] = []
        var placed: [(ArtifactItem, ArtifactItem)] = []
        for item in items {
            let destination = destination(of: item)
            var copy = item
            copy.repo = targetRepo
            copy.path = destination
            copy.createdAt = now
            copy.modifiedAt = move ? item.modifiedAt : now
            copy.updatedAt = now
            copy.createdBy = user
            copy.modifiedBy = user
            copy.downloadCount = 0
            copy.lastDownloaded = nil
            copy.lastDownloadedBy = nil
            placed.append((item, copy))
            if item.isFolder {
                try await store.putFolder(copy)
            } else {
                let sha256 = item.sha256
                try await store.putFile(
                    copy, properties: properties[item.path] ?? [:], quotaBytes: targetRepository.quotaBytes,
                    materialize: {
                        guard FileManager.default.fileExists(atPath: blobs.filePath(sha256: sha256)) else {
                            throw WardenError(.conflict, "\(sourceRepo)/\(item.path) was deleted while it was being copied")
                        }
                    }, release: { blobs.release(sha256: $0) })
                created.append(copy)
            }
        }
        if move {
            _ = try await store.delete(repo: sourceRepo, path: path, release: { blobs.release(sha256: $0) })
        }
        for (item, copy) in placed {
            let data = { Payloads.afterTransfer(source: item, target: copy, request: request, address: self.address) }
            try await notify(
                move ? .afterMove : .afterCopy, repo: item.repo, path: item.path, also: (copy.repo, copy.path), request: request, dataJSON: data)
        }
        if move { try await notifyDeleted(items, request, byMove: true) }
        for item in created {
            let data = { Payloads.afterCreate(repo: item.repo, path: item.path, contentLength: item.size, request: request, address: self.address) }
            try await notify(.afterCreate, repo: item.repo, path: item.path, request: request, dataJSON: data)
        }
        report.files = created.count
        return report
    }

    /// The policies a copy or move must pass before anything is written (a dry run asks them too, so that it tells
    /// the truth): each item's BEFORE_COPY or BEFORE_MOVE workers (selected by the source or the target), each
    /// source file's BEFORE_DOWNLOAD workers (a copy is a read of it), for a move each source item's BEFORE_DELETE
    /// workers, each new file's BEFORE_UPLOAD workers in the target, and each item's BEFORE_CREATE workers where it
    /// lands (a file replaced included). The first STOP refuses the whole transfer, before anything changed. A
    /// `modifiedRepoPath` answer does not apply to a copy: the client named the target.
    func requireTransferable(
        _ items: [ArtifactItem], properties: [String: ArtifactProperties], move: Bool, to targetRepo: String,
        destination: (ArtifactItem) -> String, request: ArtifactRequest
    ) async throws {
        let files = items.filter { !$0.isFolder }
        for item in items {
            let target = (repo: targetRepo, path: destination(item))
            let data = {
                Payloads.beforeTransfer(
                    source: item, target: target, properties: properties[item.path] ?? [:], request: request, address: self.address)
            }
            try await requirePolicy(
                move ? .beforeMove : .beforeCopy, repo: item.repo, path: item.path, also: target, request: request, dataJSON: data)
        }
        for file in files {
            let data = { Payloads.download(item: file, headOnly: false, request: request, address: self.address, withRepoPath: true) }
            try await requirePolicy(.beforeDownload, repo: file.repo, path: file.path, request: request, dataJSON: data)
        }
        if move { try await requireDeletable(items, request, byMove: true) }
        for file in files {
            let targetPath = destination(file)
            let data = {
                Payloads.beforeUpload(
                    repo: targetRepo, path: targetPath, contentLength: file.size, properties: properties[file.path] ?? [:], request: request,
                    address: self.address)
            }
            try await requirePolicy(.beforeUpload, repo: targetRepo, path: targetPath, request: request, dataJSON: data)
        }
        for item in items {
            let targetPath = destination(item)
            // A folder that is already there is not created again; a file replaced is (as an upload over one).
            if item.isFolder, try await store.item(repo: targetRepo, path: targetPath)?.isFolder == true { continue }
            try await requireCreatable(repo: targetRepo, path: targetPath, isFolder: item.isFolder, contentLength: item.size, request: request)
        }
    }

    // MARK: Search

    /// Runs an AQL query over the repositories the principal may read.
    public func search(aql text: String, for principal: Principal?) async throws -> AQLResult {
        let query = try AQLQuery.parse(text)
        await downloads.flush()
        var repos = try await repositories(for: principal)
        if let named = query.repositoryKeys { repos = repos.filter { named.contains($0.key) } }
        let byKey = Dictionary(uniqueKeysWithValues: repos.map { ($0.key, $0) })
        // Only the items the caller may read (a target may cover part of a repository).
        let decide = try await permissions.decider(for: principal)
        let rows = try await store.search(repos: repos.map(\.key)).filter { row in byKey[row.0.repo].map { decide(.read, $0, row.0.path) } ?? false }
        return try await searches.evaluate(query, rows, now: Self.now())
    }
}
