import Synchronization

/// The token a run calls the platform with (`context.platformToken`, and every `platformHttp` call): minted the
/// first time the run needs it, since most runs never do (issue 13: a mint and a revoke per run were on the hooked
/// download's path), and never again after the run has ended (`close`).
public final class PlatformToken: Sendable {
    enum State {
        case unminted
        case minted(String)
        case closed
    }

    let mint: @Sendable () -> String
    let state = Mutex(State.unminted)

    /// `mint` makes the value; it is called at most once, under this token's lock.
    public init(mint: @escaping @Sendable () -> String) { self.mint = mint }

    /// A value known in advance (a local run, a test); empty for a run with no platform.
    public convenience init(fixed value: String) { self.init(mint: { value }) }

    /// The run's token, minted now if this is its first use; empty once the run has ended.
    public var value: String {
        state.withLock { state in
            switch state {
            case .minted(let value): return value
            case .closed: return ""
            case .unminted:
                let value = mint()
                state = .minted(value)
                return value
            }
        }
    }

    /// Ends the token's life with its run: the value that was minted, if one was, for the caller to revoke.
    public func close() -> String? {
        state.withLock { state in
            defer { state = .closed }
            if case .minted(let value) = state { return value }
            return nil
        }
    }
}
