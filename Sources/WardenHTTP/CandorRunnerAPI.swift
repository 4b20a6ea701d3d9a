import Foundation
import Hummingbird
import Logging
import WardenCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The runner side of the Candor dialect (seed 002), served by `warden runner`: `GET /`, `POST /run`,
/// `GET|POST /logs/:runId`, and Warden's `POST /cancel/:runId`. All but `GET /` want `Authorization: Bearer <runner
/// token>`.
struct CandorRunnerAPI<Context: RequestContext>: Sendable {
    let runner: StageRunner
    let token: String

    func register(on router: Router<Context>) {
        router.get("/") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "OK"))) }
        router.post("run") { request, _ in try await run(request) }
        router.get("logs/{runId}") { request, context in try await log(request, context) }
        router.post("logs/{runId}") { request, context in try await log(request, context) }
        router.post("cancel/{runId}") { request, context in
            if let refusal = refusal(request) { return refusal }
            let runID = try context.parameters.require("runId")
            guard runner.cancel(runID: runID) else { return Self.text(.notFound, "run \(runID) is not going on here") }
            return Response.json(["runId": runID, "canceled": true])
        }
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    /// `nil` when the bearer token is right, else the answer to give.
    func refusal(_ request: Request) -> Response? {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            return Self.text(.badRequest, "the Authorization header is missing: send Authorization: Bearer <runner token>")
        }
        guard header == "Bearer \(token)" else { return Self.text(.unauthorized, "wrong runner token") }
        return nil
    }

    func run(_ request: Request) async throws -> Response {
        if let refusal = refusal(request) { return refusal }
        guard request.headers[.contentType]?.lowercased().contains("json") == true else {
            return Self.text(.unsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
        }
        let text = try await JSONBody.text(request, limit: 4 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return Self.text(.badRequest, "the body is not a JSON object")
        }
        guard let planObject = object["plan"] as? [String: Any], let stages = planObject["stages"] as? [Any], !stages.isEmpty,
            let plan = try? JSONDecoder().decode(PipelinePlan.self, from: JSONSerialization.data(withJSONObject: planObject))
        else { return Self.text(.badRequest, "plan.stages is missing or empty, or a stage has no name or image") }
        do {
            try plan.validate()
        } catch {
            return Self.text(.badRequest, error.message)
        }
        let runID = (object["runId"] as? String) ?? (object["runId"] as? NSNumber)?.stringValue ?? Self.randomHex()
        var upload: StageRunner.Upload?
        if let target = object["upload"] as? [String: Any], let url = target["url"] as? String, let token = target["token"] as? String {
            upload = StageRunner.Upload(url: url, token: token)
        }
        let outcome: StageRunner.Outcome
        do {
            outcome = try await runner.run(runID: runID, plan: plan, upload: upload, put: Self.put)
        } catch let error as WardenError {
            return Self.text(.badRequest, error.message)
        }
        return Response.json([
            "runId": runID, "status": outcome.status,
            "stages": outcome.stages.map { ["name": $0.name, "status": $0.status, "exitCode": $0.exitCode] }, "archived": outcome.archived,
        ])
    }

    func log(_ request: Request, _ context: Context) async throws -> Response {
        if let refusal = refusal(request) { return refusal }
        let runID = try context.parameters.require("runId")
        guard let path = runner.logPath(runID: runID.removingPercentEncoding ?? runID) else {
            return Self.text(.badRequest, "'\(runID)' is not a run id")
        }
        guard let data = FileManager.default.contents(atPath: path) else { return Self.text(.notFound, "No log could be found") }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func randomHex() -> String {
        (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    @Sendable static func put(_ url: URL, _ token: String, _ data: Data) async throws -> Int {
        var request = URLRequest(url: url)
        request.httpMethod = "PUT"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = data
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// The HTTP server of `warden runner`.
public func buildRunnerApplication(
    runner: StageRunner, token: String, host: String, port: Int, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    CandorRunnerAPI<BasicRequestContext>(runner: runner, token: token).register(on: router)
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: "warden-runner"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger)
}
