/// What a server binary is: its version, the commit and time it was built from, and the JavaScriptCore it runs
/// workers on. `warden --version` prints it; `GET /api/version` answers it.
public struct BuildInfo: Sendable, Codable, Equatable {
    public var version: String
    /// The git commit, with "-dirty" when the tree had changes; "unknown" outside a checkout.
    public var commit: String
    /// When the binary was first built from that commit (UTC, ISO 8601).
    public var buildDate: String
    /// The JavaScriptCore library's version, or "unknown".
    public var javaScriptCore: String

    public init(version: String, commit: String, buildDate: String, javaScriptCore: String) {
        self.version = version
        self.commit = commit
        self.buildDate = buildDate
        self.javaScriptCore = javaScriptCore
    }

    /// A server built without a stamp (the tests' in-process servers).
    public static let unstamped = BuildInfo(version: "unknown", commit: "unknown", buildDate: "unknown", javaScriptCore: "unknown")

    /// One line: `warden 0.16.0 (commit 1a2b3c4d5e6f, built 2026-12-07T06:25:51Z, JavaScriptCore 2.50.6)`.
    public var line: String {
        "warden \(version) (commit \(commit.prefix(12))\(commit.hasSuffix("-dirty") ? "-dirty" : ""), built \(buildDate), JavaScriptCore \(javaScriptCore))"
    }
}
