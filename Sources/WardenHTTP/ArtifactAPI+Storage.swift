import Foundation
import HTTPTypes
import Hummingbird
import WardenCore

extension ArtifactAPI {
    // MARK: Storage API

    func storage(_ request: Request, _ context: Context, at index: Int) async throws -> Response {
        let (repo, path) = try Self.repositoryPath(request, at: index)
        let parameters = request.uri.queryParameters
        let base = baseURL(request)
        let uri = "\(base)/api/storage/\(repo)" + (path.isEmpty ? "" : "/\(path)")
        switch request.method {
        case .put:
            guard let list = parameters.get("properties") else {
                throw WardenError.invalid("properties", "is required: ?properties=name=value1,value2;name2=value3")
            }
            let properties = PropertyText.storageParameter(list)
            try await service.setProperties(
                repo: repo, path: path, properties, recursive: try Self.flag(request, "recursive") ?? false,
                request: artifactRequest(request, context))
            return Response(status: .noContent)
        case .delete:
            guard let list = parameters.get("properties") else { throw WardenError.invalid("properties", "is required: ?properties=name,name2") }
            try await service.deleteProperties(
                repo: repo, path: path, names: list.split(separator: ",").map(String.init), recursive: try Self.flag(request, "recursive") ?? false,
                request: artifactRequest(request, context))
            return Response(status: .noContent)
        case .get:
            break
        default:
            throw WardenError(.badRequest, "\(request.method) is not an operation of the storage API")
        }
        let caller = context.caller
        let item = try await service.item(repo: repo, path: path, for: caller)
        if parameters.get("properties") != nil {
            let wanted = parameters.get("properties").map { $0.split(separator: ",").map(String.init) } ?? []
            var properties = try await service.properties(of: item)
            if !wanted.isEmpty { properties = properties.filter { wanted.contains($0.key) } }
            guard !properties.isEmpty else { throw WardenError(.notFound, "No properties could be found.") }
            return Response.json(["properties": properties, "uri": uri])
        }
        if parameters.get("stats") != nil {
            var stats: [String: Any] = ["uri": uri, "downloadCount": item.downloadCount, "remoteDownloadCount": 0, "remoteLastDownloaded": 0]
            stats["lastDownloaded"] = item.lastDownloaded ?? 0
            if let by = item.lastDownloadedBy { stats["lastDownloadedBy"] = by }
            return Response.json(stats)
        }
        if parameters.get("list") != nil {
            guard item.isFolder else { throw WardenError(.badRequest, "\(repo)/\(path) is a file; ?list needs a folder") }
            let deep = try Self.flag(request, "deep") ?? false
            let listFolders = try Self.flag(request, "listFolders") ?? false
            let depth = try QueryValue.integer(parameters.get("depth"), "depth")
            let items = deep ? try await service.descendants(of: item, for: caller) : try await service.children(of: item, for: caller)
            let files: [[String: Any]] = items.compactMap { child in
                if child.isFolder && !listFolders { return nil }
                let relative = String(child.path.dropFirst(item.path.isEmpty ? 0 : item.path.count + 1))
                if let depth, relative.split(separator: "/").count > depth { return nil }
                var entry: [String: Any] = [
                    "uri": "/" + relative, "size": child.isFolder ? -1 : child.size,
                    "lastModified": ISOTime.format(millis: child.modifiedAt), "folder": child.isFolder,
                ]
                if !child.isFolder {
                    entry["sha1"] = child.sha1
                    entry["sha2"] = child.sha256
                }
                return entry
            }
            return Response.json(["uri": uri, "created": ISOTime.format(millis: Int64(Date().timeIntervalSince1970 * 1000)), "files": files])
        }
        var info: [String: Any] = [
            "repo": item.repo, "path": "/" + item.path, "created": ISOTime.format(millis: item.createdAt), "createdBy": item.createdBy,
            "lastModified": ISOTime.format(millis: item.modifiedAt), "modifiedBy": item.modifiedBy,
            "lastUpdated": ISOTime.format(millis: item.updatedAt),
            "uri": uri,
        ]
        if item.isFolder {
            info["children"] = try await service.children(of: item, for: caller).map { ["uri": "/" + $0.name, "folder": $0.isFolder] }
        } else {
            info["downloadUri"] = "\(base)/\(item.repo)/\(item.path)"
            info["mimeType"] = Self.mimeType(item.name)
            info["size"] = "\(item.size)"
            info["checksums"] = ["sha1": item.sha1, "md5": item.md5, "sha256": item.sha256]
            info["originalChecksums"] = ["sha1": item.sha1, "md5": item.md5, "sha256": item.sha256]
        }
        return Response.json(info)
    }

    func transfer(_ request: Request, _ context: Context, move: Bool, at index: Int) async throws -> Response {
        let (repo, path) = try Self.repositoryPath(request, at: index)
        guard let target = request.uri.queryParameters.get("to"), !target.isEmpty else {
            throw WardenError.invalid("to", "is required: ?to=/repository/path")
        }
        let dry = try Self.flag(request, "dry") ?? false
        let report = try await service.transfer(
            move: move, repo: repo, path: path, to: target.removingPercentEncoding ?? target, dryRun: dry, request: artifactRequest(request, context)
        )
        let verb = move ? "moving" : "copying"
        let done = move ? "moved" : "copied"
        let message =
            dry
            ? "Dry run for \(verb) \(repo):\(path) to \(target) completed successfully, \(report.files) artifacts and \(report.folders) folders would be \(done)"
            : "\(verb) \(repo):\(path) to \(target) completed successfully, \(report.files) artifacts and \(report.folders) folders were \(done)"
        return Response.json(["messages": [["level": "INFO", "message": message]]])
    }
}
