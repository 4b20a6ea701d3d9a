import Foundation
import Testing

import RunModel
@testable import WorkerRuntime

/// What leaves an executor parses in Foundation, or the run fails: lone surrogates mended, depth bounded.
@Suite("Result JSON normalisation")
struct ResultJSONTests {
    @Test(arguments: [
        (#"{"message":"Blocked \ud83d"}"#, #"{"message":"Blocked \ufffd"}"#),
        (#"{"m":"\ude00x"}"#, #"{"m":"\ufffdx"}"#),
        (#"{"m":"\ud83d\ude00"}"#, #"{"m":"\ud83d\ude00"}"#),
        (#"{"m":"\\ud83d"}"#, #"{"m":"\\ud83d"}"#),
        (#"{"\ud800":1,"a":["\udbff\udbff"]}"#, #"{"\ufffd":1,"a":["\ufffd\ufffd"]}"#),
        (#"{"m":"plain é"}"#, #"{"m":"plain é"}"#),
    ])
    func loneSurrogatesBecomeReplacementCharacters(input: String, expected: String) throws {
        let output = try ResultJSON.normalise(input).get()
        #expect(output == expected)
        #expect((try? JSONSerialization.jsonObject(with: Data(output.utf8))) != nil, "\(output)")
    }

    @Test func nestingPastTheLimitIsRefusedAndBracketsInStringsDoNotCount() {
        let deep = String(repeating: "[", count: ResultJSON.maxDepth + 1) + String(repeating: "]", count: ResultJSON.maxDepth + 1)
        #expect(ResultJSON.normalise(deep) == .failure(.tooDeep))
        let atLimit = String(repeating: "[", count: ResultJSON.maxDepth) + String(repeating: "]", count: ResultJSON.maxDepth)
        #expect((try? ResultJSON.normalise(atLimit).get()) == atLimit)
        let inString = "[\"" + String(repeating: "[{", count: 500) + "\\\"\"]"
        #expect((try? ResultJSON.normalise(inString).get()) == inString)
    }
}
