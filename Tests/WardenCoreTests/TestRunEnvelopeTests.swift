import Foundation
import Testing
import RunModel

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

/// GitLab's paging and job order, decided in the core.
@Suite("Paging")
struct PagingTests {
    @Test func pagesCountFromOneWithTwentyByDefaultAndAtMostAHundred() {
        #expect(Paging() == Paging(page: 1, size: 20))
        #expect(Paging(page: 0, size: 0) == Paging(page: 1, size: 20))
        #expect(Paging(page: -5, size: 1_000).size == 100)
        #expect(Paging(page: .max, size: .max).page == Int.max)
    }

    @Test func aPageKnowsItsNeighboursAndAPagePastTheEndIsEmpty() {
        let items = Array(1...45)
        let second = Paging(page: 2, size: 20).page(of: items)
        #expect(second.items == Array(21...40) && second.pages == 3 && second.next == 3 && second.previous == 1)
        let past = Paging(page: 9, size: 20).page(of: items)
        #expect(past.items.isEmpty && past.total == 45 && past.next == nil && past.previous == 3)
        #expect(Paging(page: .max, size: 100).page(of: items).items.isEmpty)
        #expect(Paging().page(of: [Int]()).pages == 1)
    }

    @Test func jobsAreOrderedByIdOnlyNewestFirstByDefault() throws {
        #expect(try JobOrder(orderBy: nil, sort: nil).ascending == false)
        #expect(try JobOrder(orderBy: "id", sort: "asc").ascending == true)
        #expect(throws: WardenError.invalid("order_by", "does not have a valid value")) { try JobOrder(orderBy: "name", sort: nil) }
        #expect(throws: WardenError.invalid("sort", "does not have a valid value")) { try JobOrder(orderBy: nil, sort: "up") }
    }
}

/// Who reads a tenant's builds (the tenant dialect's rule, in the core).
@Suite("Tenant readers")
struct TenantReaderTests {
    static func pipeline(public isPublic: Bool) -> CIPipeline {
        CIPipeline(projectID: 1, name: "check", plan: PipelinePlan(stages: []), triggerTokenHash: "h", isPublic: isPublic)
    }

    @Test func anyoneReadsOnlyPublicPipelinesAndAnAdminReadsAll() {
        #expect(TenantReader.anyone.reads(Self.pipeline(public: true)))
        #expect(!TenantReader.anyone.reads(Self.pipeline(public: false)))
        #expect(TenantReader.admin.reads(Self.pipeline(public: false)))
    }
}
