/// Ant-style path patterns (spec §9): `*` within one segment, `**` across segments, `?` one character.
///
/// Matching never backtracks more than one star deep: a star only ever grows from the last place it was tried, so a
/// pattern of `p` bytes against a text of `t` bytes costs at most `p × t` steps (the same holds for `**` over
/// segments). A backtracking matcher took minutes on `*a*a*a*a*b` against a long name, on the server's own threads.
public struct AntPattern: Sendable, Equatable {
    /// The longest pattern accepted where a request gives one (AQL `$match`, worker filters).
    public static let maxPatternBytes = 1_024

    let segments: [[UInt8]]

    public init(_ pattern: String) {
        segments = pattern.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
    }

    static let doubleStar: [UInt8] = [UInt8(ascii: "*"), UInt8(ascii: "*")]

    public func matches(_ path: String) -> Bool {
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        return Self.greedy(
            patternCount: segments.count, textCount: parts.count, isStar: { segments[$0] == Self.doubleStar },
            matchesOne: { Self.matchSegment(segments[$0][...], Array(parts[$1])[...]) })
    }

    /// `*` and `?` within one segment (no `/` is special here: AQL's `$match` uses this on whole names).
    static func matchSegment(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        let star = UInt8(ascii: "*")
        let question = UInt8(ascii: "?")
        let p0 = pattern.startIndex
        let t0 = text.startIndex
        return greedy(
            patternCount: pattern.count, textCount: text.count, isStar: { pattern[p0 + $0] == star },
            matchesOne: { pattern[p0 + $0] == question || pattern[p0 + $0] == text[t0 + $1] })
    }

    /// Wildcard matching where a star element matches any run of text elements and every other element matches
    /// exactly one (`matchesOne`). Only the last star is ever resumed, which is enough because every non-star element
    /// consumes exactly one text element: the earliest match of what follows a star leaves the most room after it.
    @inline(__always)
    static func greedy(patternCount: Int, textCount: Int, isStar: (Int) -> Bool, matchesOne: (Int, Int) -> Bool) -> Bool {
        var p = 0
        var t = 0
        var resumeP = -1
        var resumeT = 0
        while t < textCount {
            if p < patternCount && isStar(p) {
                resumeP = p
                resumeT = t
                p += 1
            } else if p < patternCount && matchesOne(p, t) {
                p += 1
                t += 1
            } else if resumeP >= 0 {
                resumeT += 1
                t = resumeT
                p = resumeP + 1
            } else {
                return false
            }
        }
        while p < patternCount && isStar(p) { p += 1 }
        return p == patternCount
    }
}

extension ArtifactFilter {
    /// Whether an event on `path` of repository `repo` selects this worker (spec §9). Exclude wins.
    public func selects(repo: String, path: String) -> Bool {
        guard anyLocal || repoKeys.contains(repo) else { return false }
        if excludePatterns.contains(where: { AntPattern($0).matches(path) }) { return false }
        return includePatterns.isEmpty || includePatterns.contains { AntPattern($0).matches(path) }
    }
}
