import Foundation
import WardenCore

/// How values are written into columns, the same for every database: JSON for lists and maps, a word for a scope.
/// Both stores (`SQLiteStorage`, `PostgresStorage`) read and write through these, so a row means the same on each.
enum StoredForm {
    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A repository's class and layout as its `layout` column: JSON; empty for a repository made before the column
    /// (a local generic one).
    static func layout(_ text: String?) -> RepositoryLayout {
        guard let text, !text.isEmpty else { return .local }
        return (try? JSONDecoder().decode(RepositoryLayout.self, from: Data(text.utf8))) ?? .local
    }

    static func layoutText(_ layout: RepositoryLayout) -> String {
        layout == .local ? "" : ((try? json(layout)) ?? "")
    }

    /// A worker's properties, in their order.
    struct PropertyRow: Codable {
        var key: String
        var value: String
    }

    /// A permission target's grants, by user or group name.
    struct Grants: Codable {
        var grants: [String: [String]]

        init(_ map: [String: Set<RepositoryAction>]) { grants = map.mapValues { $0.sorted().map(\.rawValue) } }
        var map: [String: Set<RepositoryAction>] {
            grants.mapValues { Set($0.compactMap(RepositoryAction.init(rawValue:))) }
        }
    }

    /// A token's scope as its `scope` and `project_key` columns.
    static func encode(_ scope: Principal.Scope) -> (String, String?) {
        switch scope {
        case .admin: return ("admin", nil)
        case .projectAdmin(let project): return ("project-admin", project)
        case .user: return ("user", nil)
        }
    }

    static func tokenScope(_ name: String, project: String?) -> Principal.Scope {
        switch name {
        case "admin": .admin
        case "project-admin": .projectAdmin(project ?? "")
        default: .user
        }
    }

    static func encode(_ scope: RunnerScope) -> String {
        switch scope {
        case .instance: return "instance"
        case .group(let id): return "group:\(id)"
        case .project(let id): return "project:\(id)"
        }
    }

    /// A file stored over `existing`: it keeps the existing file's creation and download figures; a folder in the
    /// way is a conflict.
    static func replacing(_ existing: ArtifactItem, with new: ArtifactItem) throws -> ArtifactItem {
        guard !existing.isFolder else { throw WardenError(.conflict, "\(new.repo)/\(new.path) is a folder; a file cannot replace it") }
        var item = new
        item.createdAt = existing.createdAt
        item.createdBy = existing.createdBy
        item.downloadCount = existing.downloadCount
        item.lastDownloaded = existing.lastDownloaded
        item.lastDownloadedBy = existing.lastDownloadedBy
        return item
    }

    static func runnerScope(_ text: String) -> RunnerScope {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let id = Int64(parts[1]) else { return .instance }
        return parts[0] == "group" ? .group(id) : .project(id)
    }
}
