import Foundation
import Testing

@testable import WardenCore

/// Ant patterns and AQL `$match` run on hostile input: the matcher must agree with the obvious definition and stay
/// within pattern × text steps where a backtracking one took minutes.
@Suite("Linear matchers")
struct MatcherTests {
    /// The definition, memoised: `matches[i][j]` is whether pattern[i...] matches text[j...].
    static func reference(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var table = Array(repeating: Array(repeating: false, count: text.count + 1), count: pattern.count + 1)
        table[pattern.count][text.count] = true
        for i in stride(from: pattern.count - 1, through: 0, by: -1) {
            for j in stride(from: text.count, through: 0, by: -1) {
                switch pattern[i] {
                case UInt8(ascii: "*"): table[i][j] = table[i + 1][j] || (j < text.count && table[i][j + 1])
                case UInt8(ascii: "?"): table[i][j] = j < text.count && table[i + 1][j + 1]
                default: table[i][j] = j < text.count && text[j] == pattern[i] && table[i + 1][j + 1]
                }
            }
        }
        return table[0][0]
    }

    @Test func segmentMatchingAgreesWithTheDefinitionOnSeededRandomCases() {
        var generator = SeededGenerator(seed: 0x5EED)
        let alphabet = Array("ab*?".utf8)
        for _ in 0..<4_000 {
            let pattern = (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let text = (0..<Int.random(in: 0...10, using: &generator)).map { _ in Array("ab".utf8).randomElement(using: &generator)! }
            #expect(
                AntPattern.matchSegment(pattern[...], text[...]) == Self.reference(pattern, text),
                "\(String(decoding: pattern, as: UTF8.self)) ~ \(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func manyStarsAgainstALongNameFinishAtOnce() {
        let name = Array(String(repeating: "a", count: 200).utf8)
        let pattern = Array((String(repeating: "*a", count: 40) + "*b").utf8)
        #expect(!AntPattern.matchSegment(pattern[...], name[...]))
        let deepPath = Array(repeating: "a", count: 300).joined(separator: "/")
        #expect(!AntPattern(String(repeating: "**/a/", count: 30) + "b").matches(deepPath))
        #expect(AntPattern(String(repeating: "**/a/", count: 30) + "**").matches(deepPath))
    }

    @Test(.timeLimit(.minutes(1)))
    func anAQLMatchWithManyStarsOverManyRowsAnswers() throws {
        let query = try AQLQuery.parse(#"items.find({"name":{"$match":"*a*a*a*a*a*a*a*a*b"}})"#)
        let rows: [(ArtifactItem, ArtifactProperties)] = (0..<500).map { index in
            (ArtifactRulesTests.item(String(repeating: "a", count: 200) + "\(index)"), [:])
        }
        #expect(query.evaluate(rows, now: 0)?.results.isEmpty == true)
        // A spent budget stops the search.
        #expect(query.evaluate(rows, now: 0, overBudget: { true }) == nil)
        let long = "items.find({\"name\":{\"$match\":\"\(String(repeating: "*", count: AntPattern.maxPatternBytes + 1))\"}})"
        #expect(throws: WardenError.self) { try AQLQuery.parse(long) }
    }
}

/// SplitMix64: the same cases on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
