import Foundation
import Hummingbird
import WardenCore

/// The worker service's error: `{"errors":[{"status":<code>,"message":"<reason>"}]}` (spec §1).
public struct WorkerAPIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String

    public init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }

    init(_ error: WardenError) {
        self.init(status: HTTPResponse.Status(error.code), message: error.message)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = "{\"errors\":[{\"status\":\(status.code),\"message\":\(JSONBody.quote(message))}]}"
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"warden\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Turns core refusals into the worker service's error shape; anything unexpected becomes a 500 with that shape
/// too, so clients always get a body they can read.
struct WorkerErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as WardenError {
            throw WorkerAPIError(error)
        } catch let error as WorkerAPIError {
            throw error
        } catch let error as HTTPError {
            throw WorkerAPIError(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("worker API \(request.method) \(request.uri.path): \(error)")
            throw WorkerAPIError(status: .internalServerError, message: "internal error: \(error)")
        }
    }
}

extension HTTPResponse.Status {
    /// The HTTP status of a core refusal (every dialect renders its own body around it).
    init(_ code: WardenError.Code) {
        self =
            switch code {
            case .badRequest: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .tooLarge: .contentTooLarge
            case .unavailable: .serviceUnavailable
            case .tooManyRequests: .tooManyRequests
            case .badGateway: .badGateway
            default: .internalServerError
            }
    }
}
