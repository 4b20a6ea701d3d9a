import Foundation

/// The Maven 2 layout (`group/path/artifactId/version/artifactId-version[-classifier].ext`): which paths are
/// releases, which are snapshots, and the `maven-metadata.xml` of an artifact made from the versions stored.
enum MavenLayout {
    enum Kind: Equatable {
        /// `maven-metadata.xml` (or one of its checksum files): always accepted.
        case metadata
        case release(version: String)
        case snapshot(version: String)
        /// Not in the layout (a file at the top, a name that does not start with `artifactId-version`): a maven
        /// repository keeps it as a generic one would.
        case other
    }

    static let checksumSuffixes = [".sha1", ".md5", ".sha256", ".sha512", ".asc"]

    static func kind(of path: String) -> Kind {
        let segments = path.split(separator: "/").map(String.init)
        guard var file = segments.last else { return .other }
        for suffix in checksumSuffixes where file.hasSuffix(suffix) {
            file = String(file.dropLast(suffix.count))
            break
        }
        if file == "maven-metadata.xml" { return .metadata }
        guard segments.count >= 4 else { return .other }
        let version = segments[segments.count - 2]
        let artifactID = segments[segments.count - 3]
        if version.hasSuffix("-SNAPSHOT") {
            // `lib-1.0-SNAPSHOT.jar`, or timestamped: `lib-1.0-20261207.101010-3.jar`.
            let base = String(version.dropLast("-SNAPSHOT".count))
            guard file.hasPrefix("\(artifactID)-\(base)-") else { return .other }
            return .snapshot(version: version)
        }
        guard file.hasPrefix("\(artifactID)-\(version)") else { return .other }
        let rest = file.dropFirst("\(artifactID)-\(version)".count)
        guard rest.hasPrefix(".") || rest.hasPrefix("-") else { return .other }
        // A release folder holding a snapshot file is a snapshot that would pass as a release.
        if rest.contains("SNAPSHOT") { return .snapshot(version: version) }
        return .release(version: version)
    }

    /// Refuses (409) a path the repository's release and snapshot handling does not accept.
    static func check(_ path: String, in repository: Repository) throws(WardenError) {
        guard repository.layout.packageType == .maven else { return }
        switch kind(of: path) {
        case .snapshot(let version) where !repository.layout.handleSnapshots:
            throw WardenError(
                .conflict,
                "repository '\(repository.key)' does not take snapshots (handleSnapshots is false): \(path) is version \(version); deploy it to a snapshot repository"
            )
        case .release(let version) where !repository.layout.handleReleases:
            throw WardenError(
                .conflict,
                "repository '\(repository.key)' does not take releases (handleReleases is false): \(path) is version \(version); deploy it to a release repository"
            )
        default: return
        }
    }

    /// The artifact folder a `…/artifactId/maven-metadata.xml` path describes, or nil for any other path.
    static func metadataFolder(of path: String) -> String? {
        let segments = path.split(separator: "/")
        guard segments.count >= 3, segments.last == "maven-metadata.xml" else { return nil }
        return segments.dropLast().joined(separator: "/")
    }

    /// `maven-metadata.xml` of the artifact at `folder` (`org/acme/lib`) whose version folders are `versions`, each
    /// with when it last changed.
    static func metadata(folder: String, versions: [(String, Int64)]) -> String {
        let segments = folder.split(separator: "/").map(String.init)
        let artifactID = segments.last ?? ""
        let group = segments.dropLast().joined(separator: ".")
        let sorted = versions.map(\.0).sorted { compare($0, $1) }
        let latest = sorted.last ?? ""
        let release = sorted.last { !$0.hasSuffix("-SNAPSHOT") }
        let updated = versions.map(\.1).max() ?? 0
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n"
        xml += "  <groupId>\(escape(group))</groupId>\n  <artifactId>\(escape(artifactID))</artifactId>\n  <versioning>\n"
        xml += "    <latest>\(escape(latest))</latest>\n"
        if let release { xml += "    <release>\(escape(release))</release>\n" }
        xml += "    <versions>\n"
        for version in sorted { xml += "      <version>\(escape(version))</version>\n" }
        xml += "    </versions>\n    <lastUpdated>\(timestamp(updated))</lastUpdated>\n  </versioning>\n</metadata>\n"
        return xml
    }

    /// Maven's order, simplified: dot- and dash-separated parts compared as numbers when both are, as text
    /// otherwise; a `-SNAPSHOT` comes before its release.
    static func compare(_ left: String, _ right: String) -> Bool {
        func parts(_ version: String) -> [Substring] { version.split(whereSeparator: { $0 == "." || $0 == "-" }) }
        let a = parts(left)
        let b = parts(right)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : nil
            let y = index < b.count ? b[index] : nil
            if x == y { continue }
            // A shorter version is earlier, but "1.0-SNAPSHOT" is before "1.0".
            guard let x else { return y != "SNAPSHOT" }
            guard let y else { return x == "SNAPSHOT" }
            if x == "SNAPSHOT" { return true }
            if y == "SNAPSHOT" { return false }
            if let m = Int(x), let n = Int(y) { return m < n }
            if Int(x) != nil { return false }
            if Int(y) != nil { return true }
            return x < y
        }
        return false
    }

    static func timestamp(_ millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02d%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
