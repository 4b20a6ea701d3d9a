import Synchronization

/// The swift-metrics handles of one metric family, kept per label set: recording on the hot path costs a dictionary
/// lookup, not the metrics backend's registry. Label sets must be bounded (route patterns, worker keys, actions).
public final class MetricHandles<Key: Hashable & Sendable, Handles: Sendable>: Sendable {
    let handles = Mutex<[Key: Handles]>([:])

    public init() {}

    /// The handles of `key`, made by `make` the first time.
    public func handles(for key: Key, make: () -> Handles) -> Handles {
        if let known = handles.withLock({ $0[key] }) { return known }
        let made = make()
        handles.withLock { $0[key] = made }
        return made
    }
}
