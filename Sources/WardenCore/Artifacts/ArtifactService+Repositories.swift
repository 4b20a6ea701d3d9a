import Foundation
import Synchronization

extension ArtifactService {
    // MARK: Repositories

    /// The repositories the caller may read something in.
    public func repositories(for principal: Principal?) async throws -> [Repository] {
        let decide = try await permissions.decider(for: principal)
        return try await store.repositories().filter { decide(.read, $0, nil) }
    }

    public func repository(key: String, for principal: Principal?) async throws -> Repository {
        try await authorized(.read, key, path: nil, principal)
    }

    /// Creates a repository (admins only) with `settings` (what they leave out gets the default). A key that
    /// exists is refused with 400 (the reference's answer to a PUT of an existing key) unless `ifMissing`, which
    /// returns the stored one untouched. The check and the insert are one transaction.
    @discardableResult
    public func createRepository(key: String, _ settings: RepositorySettings, ifMissing: Bool = false, by principal: Principal?) async throws
        -> Repository
    {
        try requireAdmin(principal)
        try Self.validateRepositoryKey(key)
        var repository = Repository(key: key, createdAt: Self.now())
        try settings.apply(to: &repository, creating: true)
        defer { repositoryCache.withLock { $0 = ($0.generation + 1, nil) } }
        if try await store.createRepository(repository) { return repository }
        guard ifMissing, let stored = try await store.repository(key: key) else {
            throw WardenError(.badRequest, "repository '\(key)' already exists; POST /artifactory/api/repositories/\(key) updates it")
        }
        return stored
    }

    /// Changes the settings given of a repository (admins, or a caller with `manage` on the whole repository); 404
    /// when it does not exist. Read, change and write are one transaction.
    @discardableResult
    public func updateRepository(key: String, _ settings: RepositorySettings, by principal: Principal?) async throws -> Repository {
        guard let existing = try await store.repository(key: key) else { throw WardenError(.notFound, "repository '\(key)' does not exist") }
        if try await !permissions.allows(.manage, existing, path: "", principal: principal) { try requireAdmin(principal) }
        var checked = existing
        try settings.apply(to: &checked)  // refuses bad values before the transaction
        defer { repositoryCache.withLock { $0 = ($0.generation + 1, nil) } }
        guard let updated = try await store.updateRepository(key: key, { try settings.apply(to: &$0) }) else {
            throw WardenError(.notFound, "repository '\(key)' does not exist")
        }
        return updated
    }

    /// Deletes a repository (admin only); one with content needs `force`.
    public func deleteRepository(key: String, force: Bool, by principal: Principal?) async throws {
        try requireAdmin(principal)
        guard try await store.repository(key: key) != nil else { throw WardenError(.notFound, "repository '\(key)' does not exist") }
        if !force, try await !store.children(repo: key, path: "").isEmpty {
            throw WardenError(.conflict, "repository '\(key)' is not empty; add ?force=true to delete it with its content")
        }
        let blobs = self.blobs
        defer { repositoryCache.withLock { $0 = ($0.generation + 1, nil) } }
        try await store.deleteRepository(key: key) { blobs.release(sha256: $0) }
    }

    static func validateRepositoryKey(_ key: String) throws(WardenError) {
        guard !key.isEmpty, key.count <= 64 else { throw WardenError.invalid("key", "must be 1 to 64 characters") }
        guard key.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }),
            key.first != ".", key != "api", key != BuildService.repositoryKey
        else {
            throw WardenError.invalid(
                "key",
                "'\(key)' may hold only letters, digits, '-', '_' and '.', not start with '.', and not be 'api' or '\(BuildService.repositoryKey)' (build info)"
            )
        }
    }

    /// Whether a permission target may name `key`: a repository, or the build info (which is kept as one).
    public func repositoryExists(_ key: String) async throws -> Bool {
        if key == BuildService.repositoryKey { return true }
        return try await cachedRepository(key) != nil
    }

    /// The figures of the repositories the caller may read something in.
    public func summaries(for principal: Principal?) async throws -> [RepositorySummary] {
        guard principal != nil else { throw WardenError(.unauthorized, "credentials are required") }
        let readable = Set(try await repositories(for: principal).map(\.key))
        return try await store.summaries().filter { readable.contains($0.key) }
    }

    /// Distinct stored contents (count and bytes), read from the items rather than by walking the blob folder.
    public func binaries(for principal: Principal?) async throws -> (count: Int64, bytes: Int64) {
        guard principal != nil else { throw WardenError(.unauthorized, "credentials are required") }
        return try await store.binaries()
    }
}
