/// A refusal the core decides and every dialect renders in its own shape.
///
/// A struct with a `Code` after swift-service-lifecycle's errors: codes can be added without breaking callers.
public struct WardenError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        /// Bad input: `message` names the field and the reason.
        public static let badRequest = Code(name: "badRequest")
        public static let unauthorized = Code(name: "unauthorized")
        public static let forbidden = Code(name: "forbidden")
        public static let notFound = Code(name: "notFound")
        /// The thing exists already, or is in a state that forbids the call (a disabled worker).
        public static let conflict = Code(name: "conflict")
        public static let tooLarge = Code(name: "tooLarge")
        /// Storage or the script engine is not ready.
        public static let unavailable = Code(name: "unavailable")
        /// Too many attempts (logins): try again later.
        public static let tooManyRequests = Code(name: "tooManyRequests")
        /// An upstream (a remote repository's) could not be asked, or answered with a failure.
        public static let badGateway = Code(name: "badGateway")
    }

    /// What a refusal is about, when a dialect renders it in a shape of its own (Zuul's HTML 404 for a tenant).
    public struct Resource: Hashable, Sendable {
        let name: String
        public static let tenant = Resource(name: "tenant")
    }

    public var code: Code
    /// The request field at fault, for a refusal of bad input (`invalid`); `nil` otherwise.
    public var field: String?
    /// Why, without the field.
    public var reason: String
    public var resource: Resource?

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.reason = message
    }

    public init(_ code: Code, _ message: String, resource: Resource) {
        self.init(code, message)
        self.resource = resource
    }

    /// `field: reason` when a field is at fault, else the reason: what every dialect shows as the message.
    public var message: String { field.map { "\($0): \(reason)" } ?? reason }

    /// A bad `field` — the form every validation failure takes; dialects that name fields apart (GitLab's
    /// `{"message": {field: [reason]}}`) read `field` and `reason`.
    public static func invalid(_ field: String, _ reason: String) -> WardenError {
        var error = WardenError(.badRequest, reason)
        error.field = field
        return error
    }

    public var description: String { "\(code.name): \(message)" }
}
