import RunModel

/// Host calls for a worker run with no server (`warden worker run`): there is no platform to call, and outbound
/// requests are refused unless the egress policy names the host, in which case they are still refused because a
/// local run has no HTTP client. Every refusal says why, so the worker's error tells the user what to change.
public struct LocalHostCallHandler: HostCallHandler {
    public var egress: EgressPolicy

    public init(egress: EgressPolicy = EgressPolicy()) { self.egress = egress }

    public func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse {
        switch call.kind {
        case .platformHttp:
            throw LocalRunError(
                "context.clients.platformHttp needs a Warden server; `warden worker run` runs the worker alone (\(call.method) \(call.url))")
        case .axios:
            if let refusal = egress.refusal(for: call.url) { throw LocalRunError("context.clients.axios refused: \(refusal)") }
            throw LocalRunError(
                "context.clients.axios: outbound requests are made by `warden serve`, not by a local run (\(call.method) \(call.url))")
        }
    }
}

struct LocalRunError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
