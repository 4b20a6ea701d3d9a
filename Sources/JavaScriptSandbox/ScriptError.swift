/// Why a script did not produce a value.
///
/// Built after the pattern of swift-service-lifecycle's errors: a struct with a `Code`, so that new codes can be
/// added without breaking callers that switch on the ones they know.
public struct ScriptError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case exception, terminated, engineUnavailable, invalidArgument }
        private let base: Base
        /// The script threw; `exception` describes what it threw.
        public static let exception = Code(base: .exception)
        /// The engine stopped the script because a budget ran out; see `termination`.
        public static let terminated = Code(base: .terminated)
        /// The JavaScriptCore library lacks a symbol the sandbox needs.
        public static let engineUnavailable = Code(base: .engineUnavailable)
        /// The embedding passed something the engine refused (bad JSON, a non-function to call).
        public static let invalidArgument = Code(base: .invalidArgument)
        public var description: String { "\(base)" }
    }

    public let code: Code
    /// A readable account of what happened (the exception's `String()` form for `.exception`).
    public let message: String
    /// For `.terminated`: which budget ran out.
    public let termination: Termination?

    public init(code: Code, message: String, termination: Termination? = nil) {
        self.code = code
        self.message = message
        self.termination = termination
    }

    public var description: String { "\(code): \(message)" }
}

/// The budget that ended a script.
public enum Termination: String, Sendable, Equatable {
    case cpuTime
    case memory
}
