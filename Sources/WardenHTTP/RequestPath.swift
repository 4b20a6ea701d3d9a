import Hummingbird

/// A request path read the way every dialect reads it: percent-decoded segments, empty ones left out.
enum RequestPath {
    static func segments(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(decoded)
    }

    /// A segment with its percent escapes decoded (kept as sent when they do not decode to UTF-8). Most segments
    /// have none, and Foundation's decoding costs a download a few per cent of its time, so it runs only on those
    /// that do.
    static func decoded(_ segment: Substring) -> String {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return String(segment) }
        return segment.removingPercentEncoding ?? String(segment)
    }
}

extension Parameters {
    /// A path parameter, percent-decoded (the router hands over the raw segment).
    func requireDecoded(_ name: String) throws -> String {
        RequestPath.decoded(try require(name)[...])
    }
}
