import Foundation
import RunModel

/// A JSON value built in Swift and written without Foundation's bridging (event payloads are on the hot path).
indirect enum JSONOut {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([JSONOut])
    case object([(String, JSONOut)])

    var text: String {
        var out: [UInt8] = []
        out.reserveCapacity(1_024)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes the value as UTF-8 bytes (appending to a `String` piece by piece cost twice as much, perf).
    func write(to out: inout [UInt8]) {
        switch self {
        case .string(let value): JSONText.appendQuoted(value, to: &out)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .bool(let value): out.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let trueBytes = Array("true".utf8)
    static let falseBytes = Array("false".utf8)
}

/// The `data` of artifact events, field for field as spec §4 names them.
public enum Payloads {
    static func json(_ object: [String: Any]) -> String {
        // Only JSON values are put in a payload; a failure here is a bug, sent as an empty object.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func repoPath(_ repo: String, _ path: String, isFolder: Bool = false) -> JSONOut {
        .object([
            ("key", .string(repo)), ("path", .string(path)), ("id", .string("\(repo):\(path)")), ("isRoot", .bool(path.isEmpty)),
            ("isFolder", .bool(isFolder)),
        ])
    }

    /// Who acts, as the platform names them: `jfac@<service id>/users/<name>` (a published sample decides "is admin"
    /// from the `/users/admin` suffix); every caller of Warden is identified by a token, so `isToken` is true and
    /// the realm is `token`. A request without credentials is `anonymous` (spec §9).
    static func userContext(_ request: ArtifactRequest, _ address: ServerAddress) -> JSONOut {
        userContext(principal: request.principal, address)
    }

    /// The same, for a caller known by its principal only (token and build events).
    static func userContext(principal: Principal?, _ address: ServerAddress) -> JSONOut {
        guard let principal else {
            return .object([("id", .string("anonymous")), ("isToken", .bool(false)), ("realm", .string("anonymous"))])
        }
        return .object([("id", .string(address.subject(of: principal.name))), ("isToken", .bool(true)), ("realm", .string("token"))])
    }

    static let credentialHeaders: Set<String> = ["authorization", "cookie", "x-jfrog-art-api", "private-token"]

    /// Request headers as `name → {value: [..]}`; credentials are never shown to workers.
    static func headers(_ request: ArtifactRequest) -> JSONOut {
        var order: [String] = []
        var map: [String: [JSONOut]] = [:]
        for (name, value) in request.headers {
            let masked = credentialHeaders.contains(name.lowercased()) ? "***" : value
            if map[name] == nil { order.append(name) }
            map[name, default: []].append(.string(masked))
        }
        return .object(order.map { ($0, .object([("value", .array(map[$0] ?? []))])) })
    }

    static func properties(_ properties: ArtifactProperties) -> JSONOut {
        .object(properties.keys.sorted().map { ($0, .object([("value", .array((properties[$0] ?? []).map { .string($0) }))])) })
    }

    static func uploadMetadata(repo: String, path: String, contentLength: Int64, address: ServerAddress, isFolder: Bool = false) -> JSONOut {
        .object([
            ("repoPath", repoPath(repo, path, isFolder: isFolder)), ("contentLength", .int(contentLength)),
            ("lastModified", .int(ArtifactService.now())),
            ("trustServerChecksums", .bool(false)), ("servletContextUrl", .string(address.url + "/artifactory")), ("skipJarIndexing", .bool(false)),
            ("disableRedirect", .bool(false)), ("repoType", .int(1)),
        ])
    }

    static func beforeUpload(
        repo: String, path: String, contentLength: Int64, properties: ArtifactProperties, request: ArtifactRequest, address: ServerAddress
    ) -> String {
        JSONOut.object([
            ("metadata", uploadMetadata(repo: repo, path: path, contentLength: contentLength, address: address)), ("headers", headers(request)),
            ("userContext", userContext(request, address)), ("artifactProperties", Self.properties(properties)),
        ]).text
    }

    static func afterCreate(repo: String, path: String, contentLength: Int64, request: ArtifactRequest, address: ServerAddress) -> String {
        JSONOut.object([
            ("metadata", uploadMetadata(repo: repo, path: path, contentLength: contentLength, address: address)), ("headers", headers(request)),
            ("userContext", userContext(request, address)),
        ]).text
    }

    static func download(
        item: ArtifactItem, headOnly: Bool, request: ArtifactRequest, address: ServerAddress, withRepoPath: Bool, remote: Bool = false
    ) -> String {
        let path = repoPath(item.repo, item.path)
        let ifModifiedSince =
            request.headers.first { $0.name.lowercased() == "if-modified-since" }.flatMap { HTTPDate.parse($0.value) }.flatMap {
                Checked.int64($0 * 1000)
            } ?? 0
        let metadata = JSONOut.object([
            ("repoPath", path), ("originalRepoPath", path), ("name", .string(item.name)), ("headOnly", .bool(headOnly)), ("checksum", .bool(false)),
            ("recursive", .bool(false)), ("modificationTime", .int(item.modifiedAt)), ("directoryRequest", .bool(false)),
            ("metadata", .bool(false)), ("lastModified", .int(item.modifiedAt)), ("ifModifiedSince", .int(ifModifiedSince)),
            ("servletContextUrl", .string(address.url + "/artifactory")), ("uri", .string("/artifactory/\(item.repo)/\(item.path)")),
            ("clientAddress", .string(request.clientAddress)), ("zipResourcePath", .string("")), ("zipResourceRequest", .bool(false)),
            ("replaceHeadRequestWithGet", .bool(false)), ("repoType", .int(remote ? 2 : 1)),
        ])
        var data: [(String, JSONOut)] = [("metadata", metadata), ("headers", headers(request)), ("userContext", userContext(request, address))]
        if withRepoPath { data.append(("repoPath", path)) }
        return JSONOut.object(data).text
    }

    static func itemInfo(_ item: ArtifactItem) -> JSONOut {
        .object([
            ("repoPath", repoPath(item.repo, item.path, isFolder: item.isFolder)), ("name", .string(item.name)), ("created", .int(item.createdAt)),
            ("lastModified", .int(item.modifiedAt)),
        ])
    }

    /// BEFORE_REMOTE_INFO: the path a remote repository is about to ask its upstream for, the URL it will ask, and
    /// the client's request (its headers with credentials masked).
    static func beforeRemoteInfo(repo: String, path: String, remoteURL: String, request: ArtifactRequest, address: ServerAddress) -> String {
        let repoPath = repoPath(repo, path)
        return JSONOut.object([
            ("metadata", .object([("repoPath", repoPath), ("repoType", .int(2)), ("servletContextUrl", .string(address.url + "/artifactory"))])),
            ("repoPath", repoPath), ("remoteUrl", .string(remoteURL)), ("headers", headers(request)), ("userContext", userContext(request, address)),
        ]).text
    }

    /// BEFORE_CREATE: the item about to be created (or the file about to be replaced) as `metadata` and `itemInfo`.
    static func beforeCreate(
        repo: String, path: String, isFolder: Bool, contentLength: Int64, request: ArtifactRequest, address: ServerAddress
    ) -> String {
        let now = ArtifactService.now()
        let info = JSONOut.object([
            ("repoPath", repoPath(repo, path, isFolder: isFolder)), ("name", .string(String(path.split(separator: "/").last ?? ""))),
            ("created", .int(now)), ("lastModified", .int(now)),
        ])
        return JSONOut.object([
            ("metadata", uploadMetadata(repo: repo, path: path, contentLength: contentLength, address: address, isFolder: isFolder)),
            ("itemInfo", info), ("userContext", userContext(request, address)),
        ]).text
    }

    /// BEFORE_COPY and BEFORE_MOVE: the source as `metadata` and `itemInfo`, where it goes as `targetRepoPath`, and
    /// the properties the new item gets.
    static func beforeTransfer(
        source: ArtifactItem, target: (repo: String, path: String), properties: ArtifactProperties, request: ArtifactRequest,
        address: ServerAddress
    ) -> String {
        JSONOut.object([
            (
                "metadata",
                uploadMetadata(repo: source.repo, path: source.path, contentLength: source.size, address: address, isFolder: source.isFolder)
            ),
            ("itemInfo", itemInfo(source)), ("targetRepoPath", repoPath(target.repo, target.path, isFolder: source.isFolder)),
            ("userContext", userContext(request, address)), ("properties", Self.properties(properties)),
        ]).text
    }

    /// AFTER_COPY and AFTER_MOVE: the new item as `metadata`, and both ends as `source` and `target`.
    static func afterTransfer(source: ArtifactItem, target: ArtifactItem, request: ArtifactRequest, address: ServerAddress) -> String {
        JSONOut.object([
            (
                "metadata",
                uploadMetadata(repo: target.repo, path: target.path, contentLength: target.size, address: address, isFolder: target.isFolder)
            ),
            ("source", itemInfo(source)), ("target", itemInfo(target)), ("userContext", userContext(request, address)),
        ]).text
    }

    /// BEFORE_PROPERTY_DELETE and AFTER_PROPERTY_DELETE: a property event without values.
    static func propertyDelete(item: ArtifactItem, name: String, request: ArtifactRequest, address: ServerAddress) -> String {
        property(item: item, name: name, values: nil, request: request, address: address)
    }

    /// BEFORE_DELETE and AFTER_DELETE.
    static func beforeDelete(item: ArtifactItem, request: ArtifactRequest, address: ServerAddress, byMove: Bool = false) -> String {
        let metadata = JSONOut.object([
            ("repoPath", repoPath(item.repo, item.path, isFolder: item.isFolder)), ("repoType", .int(1)), ("triggerMetadataCalculation", .bool(true)),
            ("allowAsyncDelete", .bool(false)), ("skipTrashcan", .bool(false)), ("isTriggeredByGc", .bool(false)), ("triggeredByMove", .bool(byMove)),
        ])
        return JSONOut.object([("metadata", metadata), ("userContext", userContext(request, address)), ("itemInfo", itemInfo(item))]).text
    }

    /// BEFORE_PROPERTY_CREATE and AFTER_PROPERTY_CREATE.
    static func beforePropertyCreate(item: ArtifactItem, name: String, values: [String], request: ArtifactRequest, address: ServerAddress) -> String {
        property(item: item, name: name, values: values, request: request, address: address)
    }

    /// `{metadata, userContext, itemInfo, name[, values]}`: every property event's data.
    static func property(item: ArtifactItem, name: String, values: [String]?, request: ArtifactRequest, address: ServerAddress) -> String {
        let metadata = JSONOut.object([("repoPath", repoPath(item.repo, item.path, isFolder: item.isFolder)), ("repoType", .int(1))])
        var fields: [(String, JSONOut)] = [
            ("metadata", metadata), ("userContext", userContext(request, address)), ("itemInfo", itemInfo(item)), ("name", .string(name)),
        ]
        if let values { fields.append(("values", .array(values.map { .string($0) }))) }
        return JSONOut.object(fields).text
    }
}

extension Payloads {
    /// BEFORE_CREATE_TOKEN: `{tokenSpec: {subject, owner, scope, audience, expiresIn, refreshable, extension,
    /// description, includeReferenceToken}, userContext}`; `expiresIn` 0 is a token that does not expire.
    static func beforeCreateToken(_ spec: TokenService.Spec, by principal: Principal?, address: ServerAddress) -> String {
        JSONOut.object([
            (
                "tokenSpec",
                .object([
                    ("subject", .string(address.subject(of: spec.name))), ("owner", .string(address.subject(of: principal?.name ?? "warden"))),
                    ("scope", .array([.string(spec.scope.accessScope)])), ("audience", .array([.string("*@*")])),
                    ("expiresIn", .int(Int64(spec.expiresInSeconds ?? 0))), ("refreshable", .bool(false)), ("extension", .string("")),
                    ("description", .string(spec.description)), ("includeReferenceToken", .bool(false)),
                ])
            ),
            ("userContext", userContext(principal: principal, address)),
        ]).text
    }

    /// BEFORE_REVOKE_TOKEN: `{token: {tokenId, subject, scope, issuedAt, expiry, description}, userContext}` (times in
    /// seconds since 1970; `expiry` 0 for a token that does not expire).
    static func beforeRevokeToken(_ record: TokenRecord, by principal: Principal?, address: ServerAddress) -> String {
        JSONOut.object([
            (
                "token",
                .object([
                    ("tokenId", .string(record.id)), ("subject", .string(address.subject(of: record.name))),
                    ("scope", .array([.string(record.scope.accessScope)])), ("issuedAt", .int(record.createdAt / 1000)),
                    ("expiry", .int((record.expiresAt ?? 0) / 1000)), ("description", .string(record.description)),
                ])
            ),
            ("userContext", userContext(principal: principal, address)),
        ]).text
    }

    /// AFTER_BUILD_INFO_SAVE: `{build: <the build info as stored>, userContext}`.
    static func afterBuildInfoSave(infoJSON: String, by principal: Principal?, address: ServerAddress) -> String {
        "{\"build\":" + infoJSON + ",\"userContext\":" + userContext(principal: principal, address).text + "}"
    }

    /// A sample `data` of `action`, made by the builders the events use (so the catalogue's sample is what a worker
    /// gets): an admin's token request on `libs-local/org/acme/lib.jar`.
    public static func sample(for action: WorkerAction) -> String {
        let address = ServerAddress("http://localhost:8080", serviceID: "01jdq8x0ybwqv1m4h3zk6r9t2e")
        let request = ArtifactRequest(
            principal: Principal(name: "admin", scope: .admin), headers: [("User-Agent", "curl/8.5.0")], clientAddress: "10.1.2.3")
        let item = ArtifactItem(
            repo: "libs-local", path: "org/acme/lib.jar", isFolder: false, size: 1024, sha256: "", sha1: "", md5: "",
            createdAt: 1_767_225_600_000, modifiedAt: 1_767_225_600_000, updatedAt: 1_767_225_600_000, createdBy: "admin", modifiedBy: "admin")
        var target = item
        target.repo = "libs-release"
        let properties: ArtifactProperties = ["qa": ["passed"]]
        switch action {
        case .beforeDownload: return download(item: item, headOnly: false, request: request, address: address, withRepoPath: true)
        case .afterDownload: return download(item: item, headOnly: false, request: request, address: address, withRepoPath: false)
        case .beforeRemoteInfo:
            return beforeRemoteInfo(
                repo: "maven-central", path: "org/acme/lib/1.0/lib-1.0.jar",
                remoteURL: "https://repo.maven.apache.org/maven2/org/acme/lib/1.0/lib-1.0.jar",
                request: request, address: address)
        case .beforeUpload:
            return beforeUpload(
                repo: item.repo, path: item.path, contentLength: item.size, properties: properties, request: request, address: address)
        case .beforeCreate:
            return beforeCreate(repo: item.repo, path: item.path, isFolder: false, contentLength: item.size, request: request, address: address)
        case .afterCreate: return afterCreate(repo: item.repo, path: item.path, contentLength: item.size, request: request, address: address)
        case .beforeDelete, .afterDelete: return beforeDelete(item: item, request: request, address: address)
        case .beforeCopy, .beforeMove:
            return beforeTransfer(source: item, target: (target.repo, target.path), properties: properties, request: request, address: address)
        case .afterCopy, .afterMove: return afterTransfer(source: item, target: target, request: request, address: address)
        case .beforePropertyCreate, .afterPropertyCreate:
            return beforePropertyCreate(item: item, name: "qa", values: ["passed"], request: request, address: address)
        case .beforePropertyDelete, .afterPropertyDelete: return propertyDelete(item: item, name: "qa", request: request, address: address)
        case .beforeCreateToken:
            return beforeCreateToken(
                TokenService.Spec(name: "ci-bot", scope: .user, expiresInSeconds: 2_592_000, description: "CI"), by: request.principal,
                address: address)
        case .beforeRevokeToken:
            return beforeRevokeToken(
                TokenRecord(
                    id: "2f0c7a4e-6c1b-4f7e-9d63-0a8b5e1c2d3f", name: "ci-bot", hash: "", scope: .user, createdAt: 1_767_225_600_000,
                    expiresAt: 1_769_817_600_000, description: "CI"), by: request.principal, address: address)
        case .afterBuildInfoSave:
            let info: [String: Any] = [
                "name": "libs-build", "number": "42", "started": "2026-01-01T00:00:00.000+0000", "durationMillis": 61_000,
                "principal": "ci-bot", "url": "http://localhost:8080/ci/runs/42",
                "modules": [
                    [
                        "id": "org.acme:lib:1.0",
                        "artifacts": [
                            ["type": "jar", "name": "lib-1.0.jar", "sha1": "", "sha256": "", "md5": "", "path": "org/acme/lib/1.0/lib-1.0.jar"]
                        ],
                    ]
                ],
            ]
            return afterBuildInfoSave(infoJSON: json(info), by: request.principal, address: address)
        case .scheduledEvent: return #"{"triggerID":"nightly@29456640"}"#
        default: return #"{"hello":"world"}"#
        }
    }
}

/// HTTP dates (RFC 7231 IMF-fixdate), as Last-Modified and If-Modified-Since carry them.
public enum HTTPDate {
    static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
    static let lock = NSLock()

    /// With the C library (the process runs in the C locale): this is on every download.
    public static func format(millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
