import Foundation
import RunModel

/// The answer of a test run (spec §6): `{"logs": ..., "<actionCamelCase>": {...returned..., "executionStatus"}}`.
///
/// What the worker returned is merged into the action's object when it is an object; `GENERIC_EVENT` results (and
/// any non-object) go under `data`. A failed run carries `error {type, message, line}` and an `[error]` log line.
public enum TestRunEnvelope {
    public static func json(action: WorkerAction, result: RunResult) -> [String: Any] {
        var body: [String: Any] = [:]
        var logs = result.logs
        switch result.outcome {
        case .success(let resultJSON):
            // A result that is not JSON is shown as its text.
            let returned = resultJSON.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed]) }
            if action != .genericEvent, let object = returned as? [String: Any] {
                body = object
            } else if let returned {
                body["data"] = returned
            }
        default:
            if let error = result.outcome.error {
                body["error"] = error.jsonObject
                let at = error.line.map { " (line \($0))" } ?? ""
                logs += (logs.isEmpty ? "" : "\n") + "[error] - \(error.type): \(error.message)\(at)"
            }
        }
        body["executionStatus"] = result.executionStatus.rawValue
        return ["logs": logs, action.camelCaseName: body]
    }

    /// The envelope as pretty-printed JSON text with sorted keys.
    public static func text(action: WorkerAction, result: RunResult) -> String {
        let object = json(action: action, result: result)
        // Only JSON values are put in the envelope; a failure here is a bug, answered as an empty envelope.
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The answer of an execution (spec §7): `{data, executionStatus}`, and `{error, logs}` for a failed run. A worker
/// that returns an object whose `executionStatus` is 2 (fail) or 4 (success) decides the outer status itself.
public enum ExecuteAnswer {
    public static func json(_ result: RunResult) -> [String: Any] {
        var body: [String: Any] = ["executionStatus": result.executionStatus.rawValue]
        switch result.outcome {
        case .success(let json?):
            // A result that is not JSON is answered as null data.
            let value = (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) ?? NSNull()
            body["data"] = value
            if let object = value as? [String: Any], let status = object["executionStatus"] as? Int {
                body["executionStatus"] =
                    status == 2 ? ExecutionStatus.fail.rawValue : status == 4 ? ExecutionStatus.success.rawValue : body["executionStatus"]
            }
        case .success(nil):
            break
        default:
            if let error = result.outcome.error { body["error"] = error.jsonObject }
            body["logs"] = result.logs
        }
        return body
    }
}

extension WorkerError {
    /// `{type, message, line?}`: how test runs, executions and histories show an error.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["type": type, "message": message]
        object["line"] = line
        return object
    }
}
