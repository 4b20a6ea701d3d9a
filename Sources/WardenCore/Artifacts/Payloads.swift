import Foundation

/// The `data` of artifact events, field for field as spec §4 names them.
enum Payloads {
    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func repoPath(_ repo: String, _ path: String, isFolder: Bool = false) -> [String: Any] {
        ["key": repo, "path": path, "id": "\(repo):\(path)", "isRoot": path.isEmpty, "isFolder": isFolder]
    }

    static func userContext(_ request: ArtifactRequest) -> [String: Any] {
        ["id": request.userID, "isToken": request.principal != nil, "realm": request.principal == nil ? "anonymous" : "token"]
    }

    /// Request headers as `name → {value: [..]}`; credentials are never shown to workers.
    static func headers(_ request: ArtifactRequest) -> [String: Any] {
        var map: [String: [String]] = [:]
        for (name, value) in request.headers {
            let masked = ["authorization", "cookie", "x-jfrog-art-api", "private-token"].contains(name.lowercased()) ? "***" : value
            map[name, default: []].append(masked)
        }
        return map.mapValues { ["value": $0] }
    }

    static func properties(_ properties: ArtifactProperties) -> [String: Any] {
        properties.mapValues { ["value": $0] }
    }

    static func uploadMetadata(repo: String, path: String, contentLength: Int64, baseURL: String) -> [String: Any] {
        [
            "repoPath": repoPath(repo, path), "contentLength": contentLength, "lastModified": ArtifactService.now(), "trustServerChecksums": false,
            "servletContextUrl": baseURL + "/artifactory", "skipJarIndexing": false, "disableRedirect": false, "repoType": 1,
        ]
    }

    static func beforeUpload(
        repo: String, path: String, contentLength: Int64, properties: ArtifactProperties, request: ArtifactRequest, baseURL: String
    ) -> String {
        json([
            "metadata": uploadMetadata(repo: repo, path: path, contentLength: contentLength, baseURL: baseURL), "headers": headers(request),
            "userContext": userContext(request), "artifactProperties": Self.properties(properties),
        ])
    }

    static func afterCreate(repo: String, path: String, contentLength: Int64, request: ArtifactRequest, baseURL: String) -> String {
        json([
            "metadata": uploadMetadata(repo: repo, path: path, contentLength: contentLength, baseURL: baseURL), "headers": headers(request),
            "userContext": userContext(request),
        ])
    }

    static func download(item: ArtifactItem, headOnly: Bool, request: ArtifactRequest, baseURL: String, withRepoPath: Bool) -> String {
        let path = repoPath(item.repo, item.path)
        let ifModifiedSince =
            request.headers.first { $0.name.lowercased() == "if-modified-since" }.flatMap { HTTPDate.parse($0.value) }.map { Int64($0 * 1000) } ?? 0
        let metadata: [String: Any] = [
            "repoPath": path, "originalRepoPath": path, "name": item.name, "headOnly": headOnly, "checksum": false, "recursive": false,
            "modificationTime": item.modifiedAt, "directoryRequest": false, "metadata": false, "lastModified": item.modifiedAt,
            "ifModifiedSince": ifModifiedSince, "servletContextUrl": baseURL + "/artifactory", "uri": "/artifactory/\(item.repo)/\(item.path)",
            "clientAddress": request.clientAddress, "zipResourcePath": "", "zipResourceRequest": false, "replaceHeadRequestWithGet": false,
            "repoType": 1,
        ]
        var data: [String: Any] = ["metadata": metadata, "headers": headers(request), "userContext": userContext(request)]
        if withRepoPath { data["repoPath"] = path }
        return json(data)
    }

    static func itemInfo(_ item: ArtifactItem) -> [String: Any] {
        [
            "repoPath": repoPath(item.repo, item.path, isFolder: item.isFolder), "name": item.name, "created": item.createdAt,
            "lastModified": item.modifiedAt,
        ]
    }

    static func beforeDelete(item: ArtifactItem, request: ArtifactRequest) -> String {
        let metadata: [String: Any] = [
            "repoPath": repoPath(item.repo, item.path, isFolder: item.isFolder), "repoType": 1, "triggerMetadataCalculation": true,
            "allowAsyncDelete": false, "skipTrashcan": false, "isTriggeredByGc": false, "triggeredByMove": false,
        ]
        return json(["metadata": metadata, "userContext": userContext(request), "itemInfo": itemInfo(item)])
    }

    static func beforePropertyCreate(item: ArtifactItem, name: String, values: [String], request: ArtifactRequest) -> String {
        let metadata: [String: Any] = ["repoPath": repoPath(item.repo, item.path, isFolder: item.isFolder), "repoType": 1]
        return json(["metadata": metadata, "userContext": userContext(request), "itemInfo": itemInfo(item), "name": name, "values": values])
    }
}

/// HTTP dates (RFC 7231 IMF-fixdate), as Last-Modified and If-Modified-Since carry them.
public enum HTTPDate {
    nonisolated(unsafe) static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
    static let lock = NSLock()

    public static func format(millis: Int64) -> String {
        lock.withLock { formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)) }
    }

    /// Seconds since 1970, or `nil` when `text` is not an HTTP date.
    public static func parse(_ text: String) -> Double? {
        lock.withLock { formatter.date(from: text)?.timeIntervalSince1970 }
    }
}

/// ISO 8601 with milliseconds in UTC, as the storage API shows times.
public enum ISOTime {
    nonisolated(unsafe) static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    public static func format(millis: Int64) -> String {
        HTTPDate.lock.withLock { formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)) }
    }

    /// Milliseconds since 1970, or `nil` when `text` is not an ISO 8601 time.
    public static func parse(_ text: String) -> Int64? {
        HTTPDate.lock.withLock {
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
            let plain = ISO8601DateFormatter()
            return plain.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
        }
    }
}
