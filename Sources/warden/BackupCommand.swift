import ArgumentParser
import Foundation
import WardenCore
import WardenStorage

/// `warden backup DIR` and `warden restore DIR`: a consistent copy of a server's SQLite database (online, while it
/// serves), the blobs it refers to and its master key; and that copy put back into a data folder no server uses.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy a server's database, blobs and master key into a new folder, while it runs.",
        discussion: """
            Example: warden backup /var/backups/warden-2026-12-07 --data /var/lib/warden
            The database is copied with SQLite's online backup (the server goes on serving); then every blob the copy
            refers to, and the master key (without it, the secrets in the copy cannot be opened). PostgreSQL servers
            are backed up with pg_dump (docs/scale-out.md).
            """)

    @Argument(help: "A new folder (or an empty one) to write the backup into.") var folder: String
    @Option(help: "Data folder of the server (default: WARDEN_DATA or ./data).") var data: String?
    @Option(help: "The server's blob folder when it is not <data>/blobs (warden.blobs).") var blobs: String?

    func run() async throws {
        let dataFolder = data ?? ProcessInfo.processInfo.environment["WARDEN_DATA"] ?? "./data"
        let database = (dataFolder as NSString).appendingPathComponent("warden.sqlite")
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("--data: no Warden database at \(database) (a PostgreSQL server is backed up with pg_dump)")
        }
        try Self.prepareEmpty(folder, option: "folder")
        let blobRoot = blobs ?? ProcessInfo.processInfo.environment["WARDEN_BLOBS"] ?? (dataFolder as NSString).appendingPathComponent("blobs")
        let target = (folder as NSString).appendingPathComponent("warden.sqlite")
        try SQLiteStorage(path: database).backup(to: target)
        // The blobs the copy refers to: content-addressed files that never change, copied after the database so
        // that every one the copy names existed when it was made.
        let referenced = try await SQLiteStorage(path: target).referencedBlobs()
        var copied = 0
        var missing: [String] = []
        for sha256 in referenced.sorted() {
            let source = FileBlobStore.path(root: blobRoot, sha256: sha256)
            let destination = FileBlobStore.path(root: (folder as NSString).appendingPathComponent("blobs"), sha256: sha256)
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            do {
                try FileManager.default.copyItem(atPath: source, toPath: destination)
                copied += 1
            } catch {
                // Deleted from the server between the database's copy and this one: its item is in the copy, its
                // content is not. Said, not hidden.
                missing.append(sha256)
            }
        }
        for name in ["master.key", "warden.json"] {
            let source = (dataFolder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source) else { continue }
            try FileManager.default.copyItem(atPath: source, toPath: (folder as NSString).appendingPathComponent(name))
        }
        let manifest: [String: Any] = [
            "createdAt": ISOTime.format(millis: Int64(Date().timeIntervalSince1970 * 1000)), "from": dataFolder, "blobs": copied,
            "blobsMissing": missing,
        ]
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]).write(
            to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("backup.json")))
        var report = "warden: backed up \(database) and \(copied) blob(s) into \(folder)"
        if !missing.isEmpty {
            report += "; \(missing.count) blob(s) were deleted from the server during the backup (listed in backup.json)"
        }
        if !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("master.key")) {
            report += "; the master key is not in \(dataFolder) (WARDEN_MASTER_KEY or warden.masterKeyFile): keep it with this backup"
        }
        print(report)
    }

    /// `path` as a new or empty folder (0700).
    static func prepareEmpty(_ path: String, option: String) throws {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw ValidationError("\(option): '\(path)' is not empty; give a new folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ValidationError("\(option): cannot use '\(path)': \(HumanError.reason(error as NSError))")
        }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Put a backup made by `warden backup` into a data folder no server uses.",
        discussion: """
            Example: warden restore /var/backups/warden-2026-12-07 --data /var/lib/warden-restored
            The data folder must be new or empty: a restore never overwrites data, and a folder a server runs on is
            refused. Start the server on it afterwards: warden serve --data /var/lib/warden-restored
            """)

    @Argument(help: "The folder `warden backup` wrote.") var folder: String
    @Option(help: "The data folder to restore into (default: WARDEN_DATA or ./data); new or empty.") var data: String?

    func run() async throws {
        let dataFolder = data ?? ProcessInfo.processInfo.environment["WARDEN_DATA"] ?? "./data"
        let database = (folder as NSString).appendingPathComponent("warden.sqlite")
        guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("backup.json")),
            FileManager.default.fileExists(atPath: database)
        else { throw ValidationError("folder: '\(folder)' is not a backup made by warden backup (no backup.json and warden.sqlite)") }
        if ServerLock.isHeld(dataFolder: dataFolder) {
            throw ValidationError("--data: a server is running on '\(dataFolder)'; stop it, and restore into a new folder")
        }
        try BackupCommand.prepareEmpty(dataFolder, option: "--data")
        let lock = try ServerLock.acquire(dataFolder: dataFolder)
        defer { lock.release() }
        for name in ["warden.sqlite", "master.key", "warden.json", "blobs"] {
            let source = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source) else { continue }
            try FileManager.default.copyItem(atPath: source, toPath: (dataFolder as NSString).appendingPathComponent(name))
        }
        print("warden: restored \(folder) into \(dataFolder); start the server with: warden serve --data \(dataFolder)")
    }
}

/// The lock a server holds on its data folder while it runs (`<data>/warden.lock`, flock): a second server, or a
/// restore, on the same folder is refused.
final class ServerLock: Sendable {
    let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    static func path(_ dataFolder: String) -> String { (dataFolder as NSString).appendingPathComponent("warden.lock") }

    /// Takes the lock, or says who has it.
    static func acquire(dataFolder: String) throws -> ServerLock {
        let descriptor = open(path(dataFolder), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CommandFailure("--data: cannot lock '\(path(dataFolder))': \(String(cString: strerror(errno)))")
        }
        // A holder that is going away (a server just stopped) is given two seconds.
        for attempt in 0..<40 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return ServerLock(descriptor: descriptor) }
            let reason = errno
            if reason != EWOULDBLOCK && reason != EINTR {
                close(descriptor)
                throw CommandFailure("--data: cannot lock '\(path(dataFolder))': \(String(cString: strerror(reason)))")
            }
            if attempt < 39 { usleep(50_000) }
        }
        close(descriptor)
        throw CommandFailure("--data: another warden process uses '\(dataFolder)' (it holds \(path(dataFolder))); stop it first")
    }

    static func isHeld(dataFolder: String) -> Bool {
        let descriptor = open(path(dataFolder), O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return false
        }
        return true
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
