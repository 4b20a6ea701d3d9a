/// Ant-style path patterns (spec §9): `*` within one segment, `**` across segments, `?` one character.
public struct AntPattern: Sendable, Equatable {
    let segments: [Substring]

    public init(_ pattern: String) {
        segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
    }

    public func matches(_ path: String) -> Bool {
        Self.match(segments[...], path.split(separator: "/", omittingEmptySubsequences: true)[...])
    }

    static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            var tail = path
            while true {
                if match(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        }
        guard let segment = path.first, matchSegment(Array(first.utf8)[...], Array(segment.utf8)[...]) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    static func matchSegment(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let p = pattern.first else { return text.isEmpty }
        switch p {
        case UInt8(ascii: "*"):
            var tail = text
            while true {
                if matchSegment(pattern.dropFirst(), tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        case UInt8(ascii: "?"):
            return !text.isEmpty && matchSegment(pattern.dropFirst(), text.dropFirst())
        default:
            return text.first == p && matchSegment(pattern.dropFirst(), text.dropFirst())
        }
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
