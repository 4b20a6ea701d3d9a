import NIOCore
import NIOPosix

/// Swift concurrency's global executor, replaced by the HTTP server's event loops (`MultiThreadedEventLoopGroup`'s
/// singleton, which Hummingbird serves on). A request's handler then runs on the event loop that read it, with no
/// hop to the cooperative pool and back, and a task resumed from another thread (an executor's reply) wakes an
/// event loop that is mostly awake under load anyway.
public enum EventLoopExecutor {
    /// Installs it; call once, first thing in `main`, before any task runs. False when it could not be installed
    /// (the default executor stays, which works the same, only with more thread switches).
    @discardableResult
    public static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
