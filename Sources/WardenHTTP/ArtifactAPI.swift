import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

/// The artifact repositories' HTTP dialect under `/artifactory` (the subset in docs/artifact-api.md): repository
/// configuration, deploy/download/delete with checksums, matrix properties and ranges, the storage, copy, move and
/// AQL search APIs. It parses, asks `ArtifactService`, and renders; errors are `{"errors":[{status, message}]}`.
struct ArtifactAPI<Context: CallerRequestContext>: Sendable {
    let service: ArtifactService
    let auth: RequestAuthenticator
    /// The builds API, when the server keeps build info.
    var builds: BuildService? = nil
    let fileIO = FileIO()

    func register(on router: Router<Context>) {
        let group = router.group("artifactory").add(middleware: DialectMiddleware<Context>("artifactory")).add(
            middleware: WorkerErrorMiddleware<Context>())
        group.get("api/system/ping") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "OK")))
        }
        group.get("api/v1/system/readiness") { _, _ in Response.json(["code": "OK"]) }
        // Everything else knows its caller (or that there is none: anonymous reads) before its handler runs.
        let callers = group.group().add(middleware: CallerMiddleware<Context>(auth: auth, credentials: .artifactKey))
        for method in [HTTPRequest.Method.get, .post] {
            callers.on("api/v2/security/permissions", method: method) { request, context in try await permissionTargets(request, context, name: nil) }
            callers.on("api/security/groups", method: method) { request, context in try await groups(request, context, name: nil) }
            callers.on("api/repositories", method: method) { request, context in try await repositories(request, context, key: nil) }
        }
        for method in [HTTPRequest.Method.get, .put, .post, .delete] {
            callers.on("api/v2/security/permissions/{name}", method: method) { request, context in
                try await permissionTargets(request, context, name: try context.parameters.requireDecoded("name"))
            }
            callers.on("api/security/groups/{name}", method: method) { request, context in
                try await groups(request, context, name: try context.parameters.requireDecoded("name"))
            }
            callers.on("api/repositories/{key}", method: method) { request, context in
                try await repositories(request, context, key: try context.parameters.requireDecoded("key"))
            }
        }
        callers.get("api/storageinfo") { request, context in try await storageInfo(request, context) }
        if let builds { BuildsAPI<Context>(builds: builds).register(on: callers) }
        callers.post("api/search/aql") { request, context in
            let text = try await JSONBody.text(request, limit: 1 << 20)
            let result = try await service.search(aql: text, for: context.caller)
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: result.json)))
        }
        // `**`: an artifact's path holds slashes; it is read from the request's path (percent-decoded, matrix
        // parameters split off), not from the router's raw catch-all.
        for method in [HTTPRequest.Method.get, .put, .delete] {
            callers.on("api/storage/{repo}", method: method) { request, context in try await storage(request, context, at: 3) }
            callers.on("api/storage/{repo}/**", method: method) { request, context in try await storage(request, context, at: 3) }
        }
        for verb in ["copy", "move"] {
            callers.post("api/\(verb)/{repo}") { request, context in try await transfer(request, context, move: verb == "move", at: 3) }
            callers.post("api/\(verb)/{repo}/**") { request, context in try await transfer(request, context, move: verb == "move", at: 3) }
        }
        // Any other API path is an unknown API, not a repository named `api`.
        for method in [HTTPRequest.Method.get, .head, .put, .post, .delete] {
            group.on("api/**", method: method) { request, _ -> Response in
                throw WardenError(.notFound, "no such API: \(request.method) \(request.uri.path)")
            }
        }
        for method in [HTTPRequest.Method.get, .head, .put, .post, .delete] {
            callers.on("{repo}", method: method) { request, context in try await artifact(request, context: context) }
            callers.on("{repo}/**", method: method) { request, context in try await artifact(request, context: context) }
        }
    }

    /// `/artifactory/{repo}/{path}`: download, deploy (a folder when the path ends with `/`) or delete.
    func artifact(_ request: Request, context: Context) async throws -> Response {
        let (repo, path, properties) = Self.artifactPath(request, at: 1)
        switch request.method {
        case .get, .head: return try await download(request, context: context, repo: repo, path: path)
        case .put:
            if request.uri.path.hasSuffix("/") { return try await createFolder(request, context, repo: repo, path: path) }
            return try await deploy(request, context, repo: repo, path: path, properties: properties)
        case .delete:
            try await service.delete(repo: repo, path: path, request: artifactRequest(request, context))
            return Response(status: .noContent)
        default:
            throw WardenError(.badRequest, "\(request.method) is not an operation on \(repo)/\(path)")
        }
    }

    /// The repository at segment `index` of `/artifactory/...` and the path after it (storage, copy and move name
    /// plain paths, without matrix properties).
    static func repositoryPath(_ request: Request, at index: Int) throws -> (repo: String, path: String) {
        let segments = RequestPath.segments(of: request.uri.path)
        guard segments.count > index else { throw WardenError(.notFound, "no repository in \(request.uri.path)") }
        return (segments[index], segments.dropFirst(index + 1).joined(separator: "/"))
    }

    /// The repository and the artifact path that start at segment `index` of `/artifactory/...`, with the matrix
    /// properties (`;name=value`) of every segment.
    static func artifactPath(_ request: Request, at index: Int) -> (repo: String, path: String, properties: ArtifactProperties) {
        let segments = RequestPath.segments(of: request.uri.path)
        let (repo, _) = PropertyText.matrix(segments.count > index ? segments[index] : "")
        var pathSegments: [String] = []
        var properties: ArtifactProperties = [:]
        for segment in segments.dropFirst(index + 1) {
            let (name, found) = PropertyText.matrix(segment)
            if !name.isEmpty { pathSegments.append(name) }
            properties.merge(found) { $0 + $1 }
        }
        return (repo, pathSegments.joined(separator: "/"), properties)
    }

    /// `quotaBytes`: a positive whole number of bytes, `null` to remove the quota; absent is `nil` (keep it).
    static func quota(_ body: JSONBody) throws -> Int64?? {
        guard let value = body.object["quotaBytes"] else { return nil }
        if value is NSNull { return .some(nil) }
        guard let bytes = Checked.wholeNumber(value), bytes > 0 else {
            throw WardenError.invalid("quotaBytes", "must be a positive whole number of bytes, or null for no quota")
        }
        return .some(bytes)
    }

    // MARK: Parsing helpers

    /// `1`, `0`, `true`, `false` (the artifact API writes flags both ways); absent is `nil`.
    static func flag(_ request: Request, _ name: String) throws -> Bool? {
        guard let value = request.uri.queryParameters.get(name) else { return nil }
        switch value.lowercased() {
        case "", "1", "true": return true
        case "0", "false": return false
        default: throw WardenError.invalid(name, "must be 1, 0, true or false, got '\(value)'")
        }
    }

    func artifactRequest(_ request: Request, _ context: Context) -> ArtifactRequest {
        ArtifactRequest(
            principal: context.caller, headers: request.headers.map { ($0.name.rawName, $0.value) },
            clientAddress: request.headers[.xForwardedFor] ?? "127.0.0.1")
    }

    func baseURL(_ request: Request) -> String {
        "http://\(request.head.authority ?? "127.0.0.1")/artifactory"
    }

    // MARK: Repositories

    func repositories(_ request: Request, _ context: Context, key: String?) async throws -> Response {
        let principal = context.caller
        guard let key else {
            guard request.method == .get else { throw WardenError(.badRequest, "\(request.method) needs a repository key in the path") }
            let list = try await service.repositories(for: principal)
            return Response.json(
                list.map {
                    [
                        "key": $0.key, "type": $0.layout.rclass.rawValue.uppercased(), "description": $0.description,
                        "url": $0.layout.remote?.url ?? "\(baseURL(request))/\($0.key)", "packageType": $0.layout.packageType.rawValue.capitalized,
                    ]
                })
        }
        switch request.method {
        case .get:
            let repository = try await service.repository(key: key, for: principal)
            return Response.json(Self.render(repository))
        case .put, .post:
            let body = try await JSONBody.read(request)
            if let given = try body.string("key"), given != key {
                throw WardenError.invalid("key", "'\(given)' differs from the key in the path '\(key)'")
            }
            var rclass: RepositoryClass?
            if let text = try body.string("rclass") {
                guard let parsed = RepositoryClass(rawValue: text.lowercased()) else {
                    throw WardenError.invalid("rclass", "'\(text.prefix(40))' is not local or remote (federated and virtual are not served)")
                }
                rclass = parsed
            }
            var packageType: PackageType?
            if let text = try body.string("packageType") {
                guard let parsed = PackageType(rawValue: text.lowercased()) else {
                    throw WardenError.invalid("packageType", "'\(text.prefix(40))' is not generic or maven")
                }
                packageType = parsed
            }
            var period: Int64?
            if body.has("retrievalCachePeriodSecs") {
                guard let seconds = Checked.wholeNumber(body.object["retrievalCachePeriodSecs"]) else {
                    throw WardenError.invalid("retrievalCachePeriodSecs", "must be a whole number of seconds")
                }
                period = seconds
            }
            let settings = RepositorySettings(
                description: try body.string("description"), anonymousRead: try body.bool("anonymousRead"), quotaBytes: try Self.quota(body),
                rclass: rclass, packageType: packageType, handleReleases: try body.bool("handleReleases"),
                handleSnapshots: try body.bool("handleSnapshots"), url: try body.string("url"), retrievalCachePeriodSecs: period,
                offline: try body.bool("offline"))
            if request.method == .put {
                try await service.createRepository(key: key, settings, by: principal)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "Successfully created repository '\(key)'")))
            }
            try await service.updateRepository(key: key, settings, by: principal)
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "Repository '\(key)' update successful.")))
        case .delete:
            try await service.deleteRepository(key: key, force: try Self.flag(request, "force") ?? false, by: principal)
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "Repository '\(key)' and all its content have been removed successfully.")))
        default:
            throw WardenError(.badRequest, "\(request.method) is not an operation on repositories")
        }
    }

    static func render(_ repository: Repository) -> [String: Any] {
        let layout = repository.layout
        var body: [String: Any] = [
            "key": repository.key, "rclass": layout.rclass.rawValue, "packageType": layout.packageType.rawValue,
            "description": repository.description, "anonymousRead": repository.anonymousRead,
            "quotaBytes": repository.quotaBytes.map { $0 as Any } ?? NSNull(),
        ]
        if layout.packageType == .maven {
            body["handleReleases"] = layout.handleReleases
            body["handleSnapshots"] = layout.handleSnapshots
            body["repoLayoutRef"] = "maven-2-default"
        }
        if let remote = layout.remote {
            body["url"] = remote.url
            body["retrievalCachePeriodSecs"] = remote.retrievalCachePeriodSecs
            body["offline"] = remote.offline
        }
        return body
    }

    func storageInfo(_ request: Request, _ context: Context) async throws -> Response {
        let caller = context.caller
        let summaries = try await service.summaries(for: caller)
        let files = summaries.reduce(Int64(0)) { $0 + $1.files }
        let artifactsSize = summaries.reduce(Int64(0)) { $0 + $1.usedBytes }
        let (binariesCount, binariesSize) = try await service.binaries(for: caller)
        let list: [[String: Any]] = summaries.map {
            [
                "repoKey": $0.key, "repoType": "LOCAL", "foldersCount": $0.folders, "filesCount": $0.files, "usedSpace": "\($0.usedBytes) bytes",
                "usedSpaceInBytes": $0.usedBytes, "itemsCount": $0.files + $0.folders, "packageType": "Generic",
            ]
        }
        return Response.json([
            "binariesSummary": [
                "binariesCount": "\(binariesCount)", "binariesSize": "\(binariesSize) bytes", "artifactsSize": "\(artifactsSize) bytes",
                "artifactsCount": "\(files)", "itemsCount": "\(summaries.reduce(Int64(0)) { $0 + $1.files + $1.folders })",
                "optimization": artifactsSize == 0 ? "0%" : String(format: "%.2f%%", Double(binariesSize) * 100 / Double(artifactsSize)),
            ],
            // Where the data folder is stays the server's business: no absolute path in any answer.
            "fileStoreSummary": ["storageType": "file-system", "storageDirectory": "<data>/blobs"],
            "repositoriesSummaryList": list,
        ])
    }

    // MARK: Content

    func deploy(_ request: Request, _ context: Context, repo: String, path: String, properties: ArtifactProperties) async throws -> Response {
        let headers = request.headers
        let expected = ExpectedChecksums(
            sha256: headers[.xChecksumSha256], sha1: headers[.xChecksumSha1],
            md5: headers[.xChecksumMd5])
        var contentLength: Int64 = -1
        if let text = headers[.contentLength] {
            guard let value = Int64(text), value >= 0 else { throw WardenError.invalid("Content-Length", "'\(text)' is not a size") }
            contentLength = value
        }
        let ticket = try await service.beginUpload(
            repo: repo, path: path, properties: properties, expected: expected, contentLength: contentLength,
            request: artifactRequest(request, context))
        let blob = try service.blobs.stage()
        do {
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { try blob.append($0) }
            }
        } catch {
            blob.discard()
            throw error
        }
        let item = try await service.commitUpload(ticket, blob: blob)
        let base = baseURL(request)
        return Response.json(
            [
                "repo": item.repo, "path": "/" + item.path, "created": ISOTime.format(millis: item.createdAt), "createdBy": item.createdBy,
                "downloadUri": "\(base)/\(item.repo)/\(item.path)", "mimeType": Self.mimeType(item.name), "size": "\(item.size)",
                "checksums": ["sha1": item.sha1, "md5": item.md5, "sha256": item.sha256],
                "originalChecksums": ["sha1": item.sha1, "md5": item.md5, "sha256": item.sha256], "uri": "\(base)/\(item.repo)/\(item.path)",
            ], status: .created)
    }

    func createFolder(_ request: Request, _ context: Context, repo: String, path: String) async throws -> Response {
        let item = try await service.createFolder(repo: repo, path: path, request: artifactRequest(request, context))
        let base = baseURL(request)
        return Response.json(
            [
                "repo": item.repo, "path": "/" + item.path, "created": ISOTime.format(millis: item.createdAt), "createdBy": item.createdBy,
                "children": [], "uri": "\(base)/\(item.repo)/\(item.path)",
            ], status: .created)
    }

    func download(_ request: Request, context: Context, repo: String, path: String) async throws -> Response {
        let headOnly = request.method == .head
        switch try await service.download(repo: repo, path: path, headOnly: headOnly, request: artifactRequest(request, context)) {
        case .folder(let folder, let children):
            let title = "Index of \(folder.repo)/\(folder.path)"
            var html = "<!DOCTYPE html><html><head><title>\(Self.escape(title))</title></head><body><h1>\(Self.escape(title))</h1><pre>"
            if !folder.path.isEmpty { html += "<a href=\"../\">../</a>\n" }
            for child in children {
                let name = child.name + (child.isFolder ? "/" : "")
                html +=
                    "<a href=\"\(Self.escape(name))\">\(Self.escape(name))</a>  \(ISOTime.format(millis: child.modifiedAt))  \(child.isFolder ? "-" : String(child.size))\n"
            }
            html += "</pre></body></html>"
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: headOnly ? .init() : .init(byteBuffer: ByteBuffer(string: html)))
        case .generated(let name, let text, let contentType):
            let headers: HTTPFields = [.contentType: contentType, .xArtifactoryFilename: name]
            return Response(status: .ok, headers: headers, body: headOnly ? .init() : .init(byteBuffer: ByteBuffer(string: text)))
        case .file(let item, let blobPath, let extra, let delivery):
            var headers: HTTPFields = [
                .contentType: Self.mimeType(item.name), .eTag: "\"\(item.sha1)\"", .lastModified: HTTPDate.format(millis: item.modifiedAt),
                .acceptRanges: "bytes",
            ]
            headers[.xChecksumSha1] = item.sha1
            headers[.xChecksumSha256] = item.sha256
            headers[.xChecksumMd5] = item.md5
            headers[.xArtifactoryFilename] = item.name
            headers[.contentDisposition] = "attachment; filename=\"\(String(item.name.filter { $0 != "\"" }))\""
            for (name, values) in extra {
                guard let field = HTTPField.Name(name) else { continue }
                for value in values { headers.append(HTTPField(name: field, value: value)) }
            }
            let range: ClosedRange<Int64>?
            var status = HTTPResponse.Status.ok
            switch delivery {
            case .notModified:
                return Response(status: .notModified, headers: headers)
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(item.size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            case .whole:
                range = item.size > 0 ? 0...(item.size - 1) : nil
            case .part(let part):
                range = part
                status = .partialContent
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound)/\(item.size)"
            }
            headers[.contentLength] = "\(range?.count ?? 0)"
            guard !headOnly, let range else { return Response(status: status, headers: headers) }
            if range.count <= SmallFile.limit {
                return Response(status: status, headers: headers, body: .init(byteBuffer: try SmallFile.read(blobPath, range)))
            }
            let body = try await fileIO.loadFile(path: blobPath, range: Int(range.lowerBound)...Int(range.upperBound), context: context)
            return Response(status: status, headers: headers, body: body)
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func mimeType(_ name: String) -> String {
        // What Foundation calls the path extension: after the last dot, none for a name that starts with its only one.
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let pathExtension = dot.map { name[name.index(after: $0)...] } ?? ""
        switch pathExtension.lowercased() {
        case "txt", "log", "md": return "text/plain"
        case "json": return "application/json"
        case "xml", "pom": return "application/xml"
        case "html", "htm": return "text/html"
        case "zip", "jar", "war": return "application/zip"
        case "gz", "tgz": return "application/x-gzip"
        case "tar": return "application/x-tar"
        default: return "application/octet-stream"
        }
    }

}
