import Foundation
import Testing
import WorkerRuntime

@testable import WardenCore

@Suite("Actions and the test-run envelope")
struct TestRunEnvelopeTests {
    @Test func actionsHaveCamelCaseNamesAndLookUpCaseInsensitively() {
        #expect(WorkerAction.named("before_download")?.camelCaseName == "beforeDownload")
        #expect(WorkerAction.named("BEFORE_PROPERTY_CREATE")?.camelCaseName == "beforePropertyCreate")
        #expect(WorkerAction.named("GENERIC_EVENT")?.isSynchronous == true)
        #expect(WorkerAction.named("AFTER_CREATE")?.isSynchronous == false)
        #expect(WorkerAction.named("NOPE") == nil)
        #expect(Set(WorkerAction.all.map(\.name)).isSuperset(of: ["BEFORE_DOWNLOAD", "AFTER_DOWNLOAD", "BEFORE_UPLOAD", "AFTER_CREATE"]))
    }

    @Test func successMergesTheReturnedObject() throws {
        let action = try #require(WorkerAction.named("BEFORE_DOWNLOAD"))
        let envelope = TestRunEnvelope.json(
            action: action, result: RunResult(outcome: .success(resultJSON: #"{"status":1,"message":"ok"}"#), logs: "[info ] - x"))
        let body = try #require(envelope["beforeDownload"] as? [String: Any])
        #expect(body["status"] as? Int == 1)
        #expect(body["message"] as? String == "ok")
        #expect(body["executionStatus"] as? String == "STATUS_SUCCESS")
        #expect(envelope["logs"] as? String == "[info ] - x")
    }

    @Test func genericEventResultsGoUnderData() throws {
        let action = try #require(WorkerAction.named("GENERIC_EVENT"))
        let envelope = TestRunEnvelope.json(action: action, result: RunResult(outcome: .success(resultJSON: #"{"a":[1,2]}"#)))
        let body = try #require(envelope["genericEvent"] as? [String: Any])
        #expect((body["data"] as? [String: Any])?["a"] as? [Int] == [1, 2])
        let nothing = TestRunEnvelope.json(action: action, result: RunResult(outcome: .success(resultJSON: nil)))
        #expect((nothing["genericEvent"] as? [String: Any])?.keys.sorted() == ["executionStatus"])
    }

    @Test func failuresCarryTheErrorInTheResultAndTheLogs() throws {
        let action = try #require(WorkerAction.named("BEFORE_UPLOAD"))
        let failed = TestRunEnvelope.json(
            action: action, result: RunResult(outcome: .threw(WorkerError(type: "TypeError", message: "x is undefined", line: 7))))
        let body = try #require(failed["beforeUpload"] as? [String: Any])
        #expect(body["executionStatus"] as? String == "STATUS_FAIL")
        #expect((body["error"] as? [String: Any])?["line"] as? Int == 7)
        #expect(failed["logs"] as? String == "[error] - TypeError: x is undefined (line 7)")
        let limit = TestRunEnvelope.json(action: action, result: RunResult(outcome: .cpuLimit, logs: "[info ] - before"))
        #expect(limit["logs"] as? String == "[info ] - before\n[error] - LimitError: Worker used too much cpu time")
    }
}

/// The execute answer's rule (spec §7), decided in the core.
@Suite("Execute answers")
struct ExecuteAnswerTests {
    @Test func aReturnedExecutionStatusOfTwoMakesTheAnswerAFailure() {
        let answer = ExecuteAnswer.json(RunResult(outcome: .success(resultJSON: #"{"executionStatus": 2, "why": "no"}"#)))
        #expect(answer["executionStatus"] as? String == "STATUS_FAIL")
        #expect((answer["data"] as? [String: Any])?["why"] as? String == "no")
    }

    @Test func aReturnedExecutionStatusOfFourIsASuccessAndOthersLeaveTheRunsOwn() {
        #expect(
            ExecuteAnswer.json(RunResult(outcome: .success(resultJSON: #"{"executionStatus": 4}"#)))["executionStatus"] as? String == "STATUS_SUCCESS"
        )
        #expect(
            ExecuteAnswer.json(RunResult(outcome: .success(resultJSON: #"{"executionStatus": 7}"#)))["executionStatus"] as? String == "STATUS_SUCCESS"
        )
    }

    @Test func aFailedRunAnswersItsErrorAndLogsAndNoData() {
        let answer = ExecuteAnswer.json(RunResult(outcome: .wallLimit, logs: "[info ] - started"))
        #expect(answer["executionStatus"] as? String == "STATUS_FAIL" && answer["data"] == nil)
        #expect((answer["error"] as? [String: Any])?["message"] as? String == "Worker execution timeout")
        #expect(answer["logs"] as? String == "[info ] - started")
    }

    @Test func undefinedIsASuccessWithoutData() {
        let answer = ExecuteAnswer.json(RunResult(outcome: .success(resultJSON: nil)))
        #expect(answer.count == 1 && answer["executionStatus"] as? String == "STATUS_SUCCESS")
    }
}
