import Hummingbird

/// A request path read the way every dialect reads it: percent-decoded segments, empty ones left out.
enum RequestPath {
    static func segments(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
    }
}

extension Parameters {
    /// A path parameter, percent-decoded (the router hands over the raw segment).
    func requireDecoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
