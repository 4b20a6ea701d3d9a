import Foundation
import Logging
import PostgresNIO
import Synchronization
import WardenCore

// MARK: Changes told to the other servers
//
// Each write that changes something servers keep in memory sends a notice on the `warden_changes` channel inside its
// transaction: PostgreSQL delivers it when (and only if) the transaction commits, to every listening connection. A
// notice is `<origin>\t<kind>\t<key>`; a server drops its own (it forgot what it changed already).

extension PostgresStorage: StoreChangeFeed {
    static let changeChannel = "warden_changes"

    /// Sends `change` when the caller's transaction commits.
    func notify(_ change: StoreChange, on connection: PostgresConnection) async throws {
        let payload = "\(instance)\t\(Self.encode(change))"
        try await connection.query("SELECT pg_notify(\(Self.changeChannel), \(payload))", logger: logger)
    }

    static func encode(_ change: StoreChange) -> String {
        switch change {
        case .workers: "workers\t"
        case .workerState(let key): "state\t\(key)"
        case .token(let id): "token\t\(id)"
        case .repositories: "repositories\t"
        case .items(let repo): "items\t\(repo)"
        case .session(let hash): "session\t\(hash)"
        case .permissions: "permissions\t"
        case .pendingRuns: "pending\t"
        case .everything: "everything\t"
        }
    }

    static func decode(_ text: Substring, key: String) -> StoreChange? {
        switch text {
        case "workers": .workers
        case "state": .workerState(key: key)
        case "token": .token(id: key)
        case "repositories": .repositories
        case "items": .items(repo: key)
        case "session": .session(tokenHash: key)
        case "permissions": .permissions
        case "pending": .pendingRuns
        case "everything": .everything
        default: nil
        }
    }

    /// The changes other servers commit. One connection of its own listens; when it is lost it reconnects (every
    /// second until the server answers) and reports `.everything`, since notices sent meanwhile are lost.
    public func changes() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingNewest(10_000))
        let task = Task { [self] in
            var first = true
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: try connectionConfiguration(), id: 1, logger: logger)
                    defer { Task { try? await connection.close() } }
                    let notices = try await connection.listen(Self.changeChannel)
                    if !first { continuation.yield(.everything) }
                    first = false
                    for try await notice in notices {
                        let parts = notice.payload.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
                        guard parts.count == 3, parts[0] != instance[...], let change = Self.decode(parts[1], key: String(parts[2])) else { continue }
                        continuation.yield(change)
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("the feed of other servers' changes lost its connection; reconnecting: \(String(reflecting: error))")
                }
                first = false
                try? await Task.sleep(for: .seconds(1))
            }
            continuation.finish()
        }
        listeners.withLock { $0.append(task) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
