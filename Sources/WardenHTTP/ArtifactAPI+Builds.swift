import Foundation
import Hummingbird
import WardenCore

/// The builds API (`/artifactory/api/build`): build info published by build tools (and by finished CI runs),
/// listed and read in the reference's shapes, and deleted.
struct BuildsAPI<Context: CallerRequestContext>: Sendable {
    let builds: BuildService

    func register(on callers: RouterGroup<Context>) {
        callers.put("api/build") { request, context in
            let text = try await JSONBody.text(request, limit: 8 << 20)
            try await builds.publish(text, by: context.caller, depth: context.caller?.eventDepth ?? 0)
            return Response(status: .noContent)
        }
        callers.get("api/build") { request, context in
            let names = try await builds.names(for: context.caller)
            let base = Self.base(request)
            return Response.json([
                "builds": names.map { ["uri": "/" + Self.escaped($0.name), "lastStarted": $0.lastStarted] }, "uri": base,
            ])
        }
        // A build name may hold `/`: it is sent as %2F, one segment, decoded here.
        callers.get("api/build/{name}") { request, context in
            let name = try context.parameters.requireDecoded("name")
            let runs = try await builds.runs(named: name, for: context.caller)
            let numbers = runs.map { ["uri": "/" + Self.escaped($0.number), "started": $0.started] }
            // `builds` (with each `number`) beside the reference's `buildsNumbers`: the published build-cleanup
            // worker reads that form.
            let listed = runs.map { ["uri": "/" + Self.escaped($0.number), "number": $0.number, "started": $0.started] }
            return Response.json(["buildsNumbers": numbers, "builds": listed, "uri": "\(Self.base(request))/\(Self.escaped(name))"])
        }
        callers.get("api/build/{name}/{number}") { request, context in
            let name = try context.parameters.requireDecoded("name")
            let number = try context.parameters.requireDecoded("number")
            let build = try await builds.build(name: name, number: number, for: context.caller)
            let info = (try? JSONSerialization.jsonObject(with: Data(build.infoJSON.utf8))) ?? [:]
            return Response.json(["buildInfo": info, "uri": "\(Self.base(request))/\(Self.escaped(name))/\(Self.escaped(number))"])
        }
        callers.delete("api/build/{name}") { request, context in
            let numbers = request.uri.queryParameters.get("buildNumbers").map { $0.split(separator: ",").map(String.init) } ?? []
            if numbers.isEmpty, try ArtifactAPI<Context>.flag(request, "deleteAll") != true {
                throw WardenError.invalid("buildNumbers", "name the runs to delete (?buildNumbers=1,2), or give deleteAll=1 for every run")
            }
            return try await delete(request, context, name: try context.parameters.requireDecoded("name"), numbers: numbers)
        }
        callers.delete("api/build/{name}/{number}") { request, context in
            try await delete(
                request, context, name: try context.parameters.requireDecoded("name"), numbers: [try context.parameters.requireDecoded("number")])
        }
    }

    func delete(_ request: Request, _ context: Context, name: String, numbers: [String]) async throws -> Response {
        let artifacts = try ArtifactAPI<Context>.flag(request, "artifacts") ?? false
        let caller = ArtifactRequest(
            principal: context.caller, headers: request.headers.map { ($0.name.rawName, $0.value) },
            clientAddress: request.headers[.xForwardedFor] ?? "127.0.0.1")
        let count = try await builds.delete(name: name, numbers: numbers, artifacts: artifacts, request: caller)
        let text = "\(count) build(s) of '\(name)' deleted" + (artifacts ? ", with their artifacts" : "")
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func base(_ request: Request) -> String { "http://\(request.head.authority ?? "127.0.0.1")/artifactory/api/build" }

    static func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}
