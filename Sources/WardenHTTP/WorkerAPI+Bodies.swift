import Foundation
import Hummingbird
import RunModel
import WardenCore

// The worker dialect's answers of a fixed shape (spec §1–§8), as `Encodable` types: the field names are the
// commercial service's. The filter, version and manifest nest the core's own `Codable` values, whose field names
// are the spec's too.

/// A worker as the API shows it: everything but its secret values.
struct WorkerBody: Encodable {
    struct SecretKey: Encodable { var key: String }
    struct Property: Encodable {
        var key: String
        var value: String
    }
    struct CurrentVersion: Encodable {
        var modifiedAt: Int64
        var modifiedBy: String
    }

    var key: String
    var description: String
    var enabled: Bool
    var debug: Bool
    var sourceCode: String
    var action: String
    var filterCriteria: FilterCriteria
    var secrets: [SecretKey]
    var properties: [Property]
    var shared: Bool
    var projectKey: String
    var currentVersion: CurrentVersion
    /// Absent when the worker has no manifest.
    var platformAccess: PlatformAccess?
    /// Absent when no version label was saved.
    var version: WorkerVersion?

    init(_ view: WorkerService.View) {
        let worker = view.worker
        key = worker.key
        description = worker.description
        enabled = worker.enabled
        debug = worker.debug
        sourceCode = worker.sourceCode
        action = worker.action.name
        filterCriteria = worker.filterCriteria
        secrets = view.secretKeys.map(SecretKey.init)
        properties = worker.properties.map { Property(key: $0.key, value: $0.value) }
        shared = worker.shared
        projectKey = worker.projectKey
        currentVersion = CurrentVersion(modifiedAt: worker.modifiedAt, modifiedBy: worker.modifiedBy)
        platformAccess = worker.platformAccess
        version = worker.version
    }
}

/// An API token: never its value, except in the answer that creates it (`token`).
struct TokenBody: Encodable {
    var id: String
    var name: String
    var scope: String
    var createdAt: Int64
    var projectKey: String?
    var expiresAt: Int64?
    var token: String?

    init(_ record: TokenRecord, value: String? = nil) {
        id = record.id
        name = record.name
        scope = record.scope.name
        createdAt = record.createdAt
        projectKey = record.scope.projectKey
        expiresAt = record.expiresAt
        token = value
    }
}

/// One run in the execution history (spec §8); `result` and `error` are always there, one of them `null`.
struct HistoryEntryBody: Encodable {
    struct ExecutionResult: Encodable {
        var result: JSONValue
        @Null var error: ErrorBody?
        var logs: String
        var workerStats: Stats
    }
    struct ErrorBody: Encodable {
        var type: String
        var message: String
        var line: Int?
    }
    struct Stats: Encodable {
        var cpuTimeMillis: Int64
        var topMemoryUsageBytes: Int64
        var executionDurationMillis: Int64
    }

    var historyEntryId: String
    var traceId: String
    var workerKey: String
    var workerType: String
    var workerProjectKey: String
    var executionPayload: JSONValue
    var executionStatus: String
    var executionResult: ExecutionResult
    var startTimeMillis: Int64
    var endTimeMillis: Int64
    var triggeredBy: String
    var testRun: Bool
    var executedVersion: String

    init(_ entry: HistoryEntry) {
        historyEntryId = entry.id
        traceId = entry.traceID
        workerKey = entry.workerKey
        workerType = entry.action
        workerProjectKey = entry.projectKey
        executionPayload = JSONValue(text: entry.payloadJSON)
        executionStatus = entry.status.rawValue
        executionResult = ExecutionResult(
            result: entry.error == nil ? JSONValue(text: entry.resultJSON) : .null,
            error: entry.error.map { ErrorBody(type: $0.type, message: $0.message, line: $0.line) }, logs: entry.logs,
            workerStats: Stats(
                cpuTimeMillis: entry.stats.cpuMillis, topMemoryUsageBytes: entry.stats.peakMemoryBytes,
                executionDurationMillis: entry.stats.wallMillis))
        startTimeMillis = entry.startMillis
        endTimeMillis = entry.endMillis
        triggeredBy = entry.triggeredBy
        testRun = entry.testRun
        executedVersion = entry.executedVersion
    }
}

/// A JSON value stored as text (a run's payload or returned value), decoded to be nested in an answer: text that
/// is not JSON is shown as a string, none as `null`.
enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(text: String?) {
        guard let text, !text.isEmpty else {
            self = .null
            return
        }
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Response {
    /// An `Encodable` answer as JSON with the worker service's content type.
    static func json(encoding value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }
}
