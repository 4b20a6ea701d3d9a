import Foundation
import GRDB

extension SQLiteStorage {
    /// A consistent copy of this database at `path` (a new file), made with SQLite's online backup API while other
    /// connections go on reading and writing: the copy is the database as of one moment.
    public func backup(to path: String) throws {
        let copy = try DatabaseQueue(path: path)
        try databasePool.backup(to: copy)
        try copy.close()
    }
}

extension FileBlobStore {
    /// Where `sha256`'s blob lives under `root`, without opening a store (which would clear its staging folder).
    public static func path(root: String, sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256.dropFirst(2).prefix(2))/\(sha256)"
    }
}
