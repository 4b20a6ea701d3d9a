import Foundation

/// What a synchronous worker answered, read into its parts (issue 13): the executor reads them from the value it
/// has just written as JSON, so the server does not parse the result again; what to do with them (stop, warn, a
/// header refused) is the core's decision. `read(json:)` is the same reading for a runner that does not send one,
/// and the executor's reading is tested against it.
public struct WorkerAnswer: Sendable, Equatable {
    /// The answer's `status` as given: the core decides what a number or a name means.
    public enum Status: Sendable, Equatable {
        case absent
        case number(Double)
        case name(String)
    }

    public struct RepoPath: Sendable, Equatable {
        /// `nil` when the answer named no repository (or not as a string): the event's own.
        public var key: String?
        public var path: String

        public init(key: String?, path: String) {
            self.key = key
            self.path = path
        }
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var values: [String]

        public init(name: String, values: [String]) {
            self.name = name
            self.values = values
        }
    }

    /// How an answer read: nothing (`undefined` or `null`: no objection), an object, or unreadable (a failure).
    public enum Reading: Sendable, Equatable {
        case nothing
        case answer(WorkerAnswer)
        case unreadable(String)
    }

    public var status: Status
    /// `nil` when absent or not a string.
    public var message: String?
    public var modifiedRepoPath: RepoPath?
    /// In the order of their names; a name with a value of the wrong shape has no values.
    public var headers: [Header]

    public init(status: Status = .absent, message: String? = nil, modifiedRepoPath: RepoPath? = nil, headers: [Header] = []) {
        self.status = status
        self.message = message
        self.modifiedRepoPath = modifiedRepoPath
        self.headers = headers
    }

    public static let notJSON = "its answer is not JSON the server can read"
    public static let notAnObject = "its answer is not an object with a status"
    public static let badStatus = "its status is neither a number nor a status name"

    /// Reads a result's JSON text (`nil`: the worker returned `undefined`). Header values are strings; a safe
    /// integer or a boolean is written as JavaScript writes it, and anything else is left out.
    public static func read(json: String?) -> Reading {
        guard let json else { return .nothing }
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            return .unreadable(notJSON)
        }
        if value is NSNull { return .nothing }
        guard let object = value as? [String: Any] else { return .unreadable(notAnObject) }
        var answer = WorkerAnswer()
        switch object["status"] {
        case nil, is NSNull: break
        case let name as String: answer.status = .name(name)
        case let number as NSNumber where !JSONText.isBoolean(number): answer.status = .number(number.doubleValue)
        default: return .unreadable(badStatus)
        }
        answer.message = object["message"] as? String
        if let modified = object["modifiedRepoPath"] as? [String: Any], let path = modified["path"] as? String {
            answer.modifiedRepoPath = RepoPath(key: modified["key"] as? String, path: path)
        }
        if let headers = object["headers"] as? [String: Any] {
            for (name, value) in headers {
                var values: [String] = []
                if let list = (value as? [String: Any])?["value"] as? [Any] {
                    values = list.compactMap(headerValue)
                } else if let text = value as? String {
                    values = [text]
                }
                answer.headers.append(Header(name: name, values: values))
            }
            answer.headers.sort { $0.name < $1.name }
        }
        return .answer(answer)
    }

    /// The largest integer a JavaScript number holds exactly.
    public static let maxSafeInteger: Double = 9_007_199_254_740_991

    static func headerValue(_ value: Any) -> String? {
        if let text = value as? String { return text }
        guard let number = value as? NSNumber else { return nil }
        if JSONText.isBoolean(number) { return number.boolValue ? "true" : "false" }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) <= maxSafeInteger else { return nil }
        return String(Int64(double))
    }

    /// Every string of the answer with the run's secrets masked, as its result JSON is.
    public func masked(by masker: SecretMasker) -> WorkerAnswer {
        var masked = self
        if case .name(let name) = status { masked.status = .name(masker.mask(name)) }
        masked.message = message.map(masker.mask)
        masked.modifiedRepoPath = modifiedRepoPath.map { RepoPath(key: $0.key.map(masker.mask), path: masker.mask($0.path)) }
        masked.headers = headers.map { Header(name: masker.mask($0.name), values: $0.values.map(masker.mask)) }
        return masked
    }
}
