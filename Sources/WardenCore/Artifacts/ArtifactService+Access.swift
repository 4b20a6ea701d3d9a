import Foundation
import Synchronization

extension ArtifactService {
    // MARK: Access

    func requireAdmin(_ principal: Principal?) throws(WardenError) {
        guard let principal else { throw WardenError(.unauthorized, "credentials are required") }
        guard principal.isAdmin else { throw WardenError(.forbidden, "only an admin may manage repositories") }
    }

    /// Reads need credentials unless the repository allows anonymous read (spec §9, repositories are private).
    /// A repository's settings, from the cache (filled from the store on first use, dropped on every change).
    func cachedRepository(_ key: String) async throws -> Repository? {
        let (generation, cached) = repositoryCache.withLock { $0 }
        if let cached { return cached[key] }
        let all = Dictionary(uniqueKeysWithValues: try await store.repositories().map { ($0.key, $0) })
        repositoryCache.withLock { if $0.generation == generation { $0.byKey = all } }
        return all[key]
    }

    /// The repository, when the caller may take `action` on `path` in it (`nil`: somewhere in it). An anonymous
    /// caller is told 401 whether or not the repository exists; others 404 for a repository that does not exist,
    /// 403 for one they lack the right in.
    func authorized(_ action: RepositoryAction, _ key: String, path: String?, _ principal: Principal?) async throws -> Repository {
        guard let repository = try await cachedRepository(key) else {
            if principal == nil { throw PermissionService.refusal(action, key, path: path ?? "", principal: nil) }
            throw WardenError(.notFound, "repository '\(key)' does not exist")
        }
        guard try await permissions.decider(for: principal)(action, repository, path) else {
            throw PermissionService.refusal(action, key, path: path ?? "", principal: principal)
        }
        return repository
    }

    /// Answers "may the caller take this action on this item?" for many items from one permission snapshot.
    func itemDecider(for principal: Principal?) async throws -> (RepositoryAction, ArtifactItem) async throws -> Bool {
        let decide = try await permissions.decider(for: principal)
        return { action, item in
            guard let repository = try await self.cachedRepository(item.repo) else { return false }
            return decide(action, repository, item.path)
        }
    }

    /// Refuses unless the caller may take `action` on every item (a folder's files, a recursive change).
    func requireEach(_ action: RepositoryAction, _ items: [ArtifactItem], _ principal: Principal?) async throws {
        let may = try await itemDecider(for: principal)
        for item in items where try await !may(action, item) {
            throw PermissionService.refusal(action, item.repo, path: item.path, principal: principal)
        }
    }

    /// The items the caller may read (a folder listing shows no more than that).
    public func readable(_ items: [ArtifactItem], for principal: Principal?) async throws -> [ArtifactItem] {
        let may = try await itemDecider(for: principal)
        var kept: [ArtifactItem] = []
        for item in items where try await may(.read, item) { kept.append(item) }
        return kept
    }

    /// A repository with a quota refuses a write that would take its files past it (`adding` bytes, `removing` the
    /// bytes of the files it replaces). The store checks again inside the write's transaction.
    func requireRoom(adding: Int64, removing: Int64, in repository: Repository) async throws {
        guard let quota = repository.quotaBytes else { return }
        let used = try await store.usedBytes(repo: repository.key)
        if Checked.sum(Checked.sum(used, adding), -removing) > quota {
            throw WardenError(
                .tooLarge,
                "repository '\(repository.key)' has a quota of \(quota) bytes; \(used) are used and this upload of \(adding) bytes would pass it")
        }
    }

    func existing(_ repo: String, _ path: String) async throws -> ArtifactItem {
        guard let item = try await store.item(repo: repo, path: path) else {
            throw WardenError(.notFound, "\(repo)/\(path) does not exist")
        }
        return item
    }
}
