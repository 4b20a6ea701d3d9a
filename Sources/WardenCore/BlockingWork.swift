import Dispatch

/// Work that may hold its thread for long (an upload's fsync on a slow disk), done on a queue of its own: the
/// calling task's thread is one of the HTTP server's event loops (`EventLoopExecutor`), which would otherwise stop
/// serving every other connection on it until the work ends.
public enum BlockingWork {
    static let queue = DispatchQueue(label: "warden.blocking", qos: .userInitiated, attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
