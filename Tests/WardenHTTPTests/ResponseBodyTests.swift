import Foundation
import Hummingbird
import RunModel
import Testing
import WardenCore

@testable import WardenHTTP

/// The answers of a fixed shape are `Encodable` types (issue 12): each keeps the field names, the `null`s and the
/// absent fields the dictionaries it replaced had.
@Suite("Response bodies")
struct ResponseBodyTests {
    static func object(_ value: some Encodable) throws -> [String: Any] {
        let response = try Response.json(encoding: value)
        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func entry(resultJSON: String?, error: WorkerError?, payload: String) -> HistoryEntry {
        HistoryEntry(
            id: "h1", traceID: "t1", workerKey: "w", action: "BEFORE_DOWNLOAD", projectKey: "", payloadJSON: payload,
            status: error == nil ? .success : .fail, resultJSON: resultJSON, error: error, logs: "[info ] - hi",
            stats: RunStats(cpuNanos: 3_000_000, wallNanos: 5_000_000, peakMemoryBytes: 1024), startMillis: 1, endMillis: 6, triggeredBy: "admin",
            testRun: false, executedVersion: "1-admin")
    }

    @Test func aHistoryEntryNestsItsPayloadAndResultAndShowsNoError() throws {
        let object = try Self.object(HistoryEntryBody(Self.entry(resultJSON: #"{"status":1,"n":[1,2.5,null]}"#, error: nil, payload: #"{"a":true}"#)))
        let result = try #require(object["executionResult"] as? [String: Any])
        #expect((result["result"] as? [String: Any])?["status"] as? Int == 1)
        #expect(((result["result"] as? [String: Any])?["n"] as? [Any])?.count == 3)
        #expect(result["error"] is NSNull)
        #expect((result["workerStats"] as? [String: Any])?["cpuTimeMillis"] as? Int == 3)
        #expect((object["executionPayload"] as? [String: Any])?["a"] as? Bool == true)
        #expect(object["historyEntryId"] as? String == "h1" && object["executionStatus"] as? String == ExecutionStatus.success.rawValue)
    }

    @Test func aFailedEntryShowsItsErrorAndANullResult() throws {
        let error = WorkerError(type: "TypeError", message: "x is undefined", line: 3)
        let object = try Self.object(HistoryEntryBody(Self.entry(resultJSON: "1", error: error, payload: "not json")))
        let result = try #require(object["executionResult"] as? [String: Any])
        #expect(result["result"] is NSNull)
        #expect((result["error"] as? [String: Any])?["line"] as? Int == 3)
        #expect(object["executionPayload"] as? String == "not json")
    }

    @Test func aTokenShowsItsValueOnlyWhenCreated() throws {
        let record = TokenRecord(id: "k1", name: "ci", hash: "secret-hash", scope: .projectAdmin("p"), createdAt: 5)
        let listed = try Self.object(TokenBody(record))
        #expect(listed["token"] == nil && listed["expiresAt"] == nil && listed["hash"] == nil)
        #expect(listed["projectKey"] as? String == "p")
        #expect(try Self.object(TokenBody(record, value: "v")).keys.contains("token"))
    }

    @Test func anAgentRunnerShowsAbsentValuesAsNull() throws {
        let object = try Self.object(AgentRunnerBody(Runner(tokenHash: "h", scope: .group(7))))
        for key in ["connectedAt", "name", "platform", "architecture", "ipAddress", "maxTimeoutInSec"] {
            #expect(object[key] is NSNull, "\(key)")
        }
        #expect(object["ownerType"] as? String == "COMPANY" && object["ownerId"] as? Int == 7)
        #expect(object["tokenHash"] == nil)
    }

    @Test func anAgentJobShowsAbsentTimesAsNull() throws {
        let job = CIJob(runID: 4, projectID: 1, runnerID: nil, name: "build", stage: "test", status: "running", createdAt: 1, startedAt: 0)
        let object = try Self.object(AgentJobBody(job))
        for key in ["finishedAt", "erasedAt", "artifactsExpireAt"] { #expect(object[key] is NSNull, "\(key)") }
        #expect(object["startedAt"] as? String == ISOTime.format(millis: 0))
        #expect(object["tag"] as? Bool == false && object["status"] as? String == "RUNNING")
        #expect(object.count == 12)
    }

    @Test func aHALPageNamesItsList() throws {
        let page = HALPage(embedded: [.runners: [1, 2]], page: .init(size: 20, totalElements: 2, totalPages: 1, number: 0))
        let object = try Self.object(page)
        #expect(((object["_embedded"] as? [String: Any])?["restPipelineRunnerModelList"] as? [Int]) == [1, 2])
    }
}
