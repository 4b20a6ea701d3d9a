import Foundation

/// A tenant's event queues (Zuul's `POST state`): while `triggerQueuePaused`, new runs of its projects wait refused;
/// with `triggerQueueDiscarding` they are dropped.
/// The fields of a state change; each `nil` keeps the stored value (`reason: .some(nil)` clears it).
public struct TenantStatePatch: Sendable, Equatable {
    public var triggerQueueDiscarding: Bool?
    public var triggerQueuePaused: Bool?
    public var resultQueuePaused: Bool?
    public var reason: String??

    public init(triggerQueueDiscarding: Bool? = nil, triggerQueuePaused: Bool? = nil, resultQueuePaused: Bool? = nil, reason: String?? = nil) {
        self.triggerQueueDiscarding = triggerQueueDiscarding
        self.triggerQueuePaused = triggerQueuePaused
        self.resultQueuePaused = resultQueuePaused
        self.reason = reason
    }

    public func apply(to state: inout TenantState) {
        if let triggerQueueDiscarding { state.triggerQueueDiscarding = triggerQueueDiscarding }
        if let triggerQueuePaused { state.triggerQueuePaused = triggerQueuePaused }
        if let resultQueuePaused { state.resultQueuePaused = resultQueuePaused }
        if let reason { state.reason = reason }
    }
}

public struct TenantState: Sendable, Equatable, Codable {
    public var triggerQueueDiscarding: Bool
    public var triggerQueuePaused: Bool
    public var resultQueuePaused: Bool
    public var reason: String?

    public init(triggerQueueDiscarding: Bool = false, triggerQueuePaused: Bool = false, resultQueuePaused: Bool = false, reason: String? = nil) {
        self.triggerQueueDiscarding = triggerQueueDiscarding
        self.triggerQueuePaused = triggerQueuePaused
        self.resultQueuePaused = resultQueuePaused
        self.reason = reason
    }
}

/// An autohold request: the next `maxCount` failing builds of `job` in `project` whose ref matches `refFilter` keep
/// their node (the runner is paused) for `nodeExpiration` seconds (0: until released).
public struct Autohold: Sendable, Equatable {
    public var id: Int64
    public var tenantID: Int64
    public var projectID: Int64
    public var job: String
    public var refFilter: String
    public var maxCount: Int
    public var currentCount: Int
    public var reason: String
    public var nodeExpiration: Int
    /// The held nodes: `{build, nodes: [runner names]}` per hold, as Zuul lists them.
    public var nodes: [HeldNodes]
    public var createdAt: Int64

    public struct HeldNodes: Sendable, Equatable, Codable {
        public var build: String
        public var nodes: [String]
        /// When the hold began (milliseconds); it ends `nodeExpiration` seconds later.
        public var heldAt: Int64?

        public init(build: String, nodes: [String], heldAt: Int64? = nil) {
            self.build = build
            self.nodes = nodes
            self.heldAt = heldAt
        }
    }

    public init(
        id: Int64 = 0, tenantID: Int64, projectID: Int64, job: String, refFilter: String, maxCount: Int, currentCount: Int = 0, reason: String,
        nodeExpiration: Int, nodes: [HeldNodes] = [], createdAt: Int64
    ) {
        self.id = id
        self.tenantID = tenantID
        self.projectID = projectID
        self.job = job
        self.refFilter = refFilter
        self.maxCount = maxCount
        self.currentCount = currentCount
        self.reason = reason
        self.nodeExpiration = nodeExpiration
        self.nodes = nodes
        self.createdAt = createdAt
    }

    /// The request has held as many builds as it asked for.
    public var isDone: Bool { currentCount >= maxCount }

    /// When a hold's nodes are let go (milliseconds), or `nil` while it holds them until released.
    public func releaseTime(of held: HeldNodes) -> Int64? {
        guard nodeExpiration > 0, let start = held.heldAt else { return nil }
        return Checked.millis(after: start, seconds: Int64(nodeExpiration))
    }
}

public protocol TenantStore: Sendable {
    func tenantState(id: Int64) async throws -> TenantState
    func setTenantState(_ state: TenantState, id: Int64) async throws
    /// Reads, changes and writes a tenant's state in one transaction; the state as written.
    func updateTenantState(id: Int64, _ change: @escaping @Sendable (inout TenantState) -> Void) async throws -> TenantState

    func createAutohold(_ request: Autohold) async throws -> Autohold
    func autoholds(tenantID: Int64) async throws -> [Autohold]
    func deleteAutohold(id: Int64) async throws -> Bool
    /// Counts one more hold (with its nodes) unless the request has held its last; the request after, or `nil`.
    func recordHold(id: Int64, _ held: Autohold.HeldNodes) async throws -> Autohold?

    /// A key kept sealed under `owner` (`project:<id>:rsa` …), made by `make` the first time it is asked for.
    func sealedKey(owner: String, make: @Sendable () throws -> Data) async throws -> Data
}
