import Foundation

/// An HTTP request a worker made through `context.clients.platformHttp` or `context.clients.axios`.
public struct HostCall: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case platformHttp
        case axios
    }

    public enum Body: Sendable, Equatable {
        /// A string body, sent as is.
        case text(String)
        /// Any other value, as JSON text.
        case json(String)
    }

    public var kind: Kind
    public var method: String
    /// A path for platformHttp (`/artifactory/api/...`), an absolute URL for axios.
    public var url: String
    public var headers: [String: String]
    public var body: Body?

    public init(kind: Kind, method: String, url: String, headers: [String: String] = [:], body: Body? = nil) {
        self.kind = kind
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The answer to a host call; any status is an answer (the worker's client decides what rejects).
public struct HostResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public init(status: Int, headers: [String: String] = [:], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Who made a host call: the embedding authorises it as this worker, with its run's token.
public struct HostCallOrigin: Sendable {
    public var workerKey: String
    public var token: PlatformToken
    public var runID: UInt64

    public init(workerKey: String, token: PlatformToken, runID: UInt64) {
        self.workerKey = workerKey
        self.token = token
        self.runID = runID
    }

    /// The run's token value, minted by this first use if the worker had not asked for it yet.
    public var platformToken: String { token.value }
}

/// Answers workers' HTTP calls. The server wires its own routes (platformHttp) and an outbound client limited by the
/// egress allow-list (axios); tests and `warden worker run` give their own.
public protocol HostCallHandler: Sendable {
    /// A response, or an error whose message the worker's promise rejects with.
    func handle(_ call: HostCall, from origin: HostCallOrigin) async throws -> HostResponse
}
