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
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `field`: reason — the form every validation failure takes.
    public static func invalid(_ field: String, _ reason: String) -> WardenError { WardenError(.badRequest, "\(field): \(reason)") }

    public var description: String { "\(code.name): \(message)" }
}
