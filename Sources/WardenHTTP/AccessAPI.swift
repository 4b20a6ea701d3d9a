import Foundation
import Hummingbird
import WardenCore

/// The Access dialect's tokens (`/access/api/v1/tokens`), over the tokens Warden already has: what the reference
/// platform's token clients and token workers call. Creating and revoking go through `TokenService`, so the
/// BEFORE_CREATE_TOKEN and BEFORE_REVOKE_TOKEN workers decide first. Errors have the worker service's shape.
struct AccessAPI<Context: CallerRequestContext>: Sendable {
    let tokens: TokenService
    let auth: RequestAuthenticator

    var address: ServerAddress { tokens.address }

    func register(on router: Router<Context>) {
        let api = router.group("access/api/v1").add(middleware: DialectMiddleware<Context>("access")).add(
            middleware: WorkerErrorMiddleware<Context>()
        )
        .add(middleware: CallerMiddleware<Context>(auth: auth))
        api.post("tokens") { request, context in try await create(request, caller: try context.requireCaller()) }
        api.get("tokens") { _, context in
            let records = try await tokens.list(by: try context.requireCaller())
            return Response.json(["tokens": records.map(render)])
        }
        api.get("tokens/{id}") { _, context in
            let record = try await tokens.token(id: try context.parameters.require("id"), by: try context.requireCaller())
            return Response.json(render(record))
        }
        api.delete("tokens/{id}") { _, context in
            try await tokens.revoke(id: try context.parameters.require("id"), by: try context.requireCaller())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "Token revoked")))
        }
    }

    /// `POST /access/api/v1/tokens`, with a JSON or a form body: `username` (the caller's own name when left out),
    /// `scope`, `expires_in` (seconds; 0 or left out: the token does not expire), `description`, and the fields this
    /// server cannot honour refused by name rather than ignored.
    func create(_ request: Request, caller: Principal) async throws -> Response {
        let body = try await Self.body(request)
        if let grant = try body.string("grant_type"), grant != "client_credentials" {
            throw WardenError.invalid("grant_type", "'\(grant.prefix(40))' is not supported; this server issues client_credentials tokens")
        }
        if try body.bool("refreshable") == true {
            throw WardenError.invalid("refreshable", "this server issues no refresh tokens; create a new token when one expires")
        }
        if try body.bool("include_reference_token") == true {
            throw WardenError.invalid("include_reference_token", "this server issues no reference tokens")
        }
        if let audience = try body.string("audience"), audience != "*@*" {
            throw WardenError.invalid("audience", "every token of this server is for the whole server: leave it out or give *@*")
        }
        let scope = try Principal.Scope.access(try body.string("scope") ?? "applied-permissions/user")
        if let project = try body.string("project_key"), scope.projectKey != project {
            throw WardenError.invalid(
                "project_key", "'\(project.prefix(64))' must match the project of the scope applied-permissions/roles:<project>:project-admin")
        }
        var expires: Int?
        if body.has("expires_in") {
            let value = body.object["expires_in"]
            guard let seconds = Checked.wholeNumber(value) ?? (value as? String).flatMap({ Int64($0) }), seconds >= 0 else {
                throw WardenError.invalid("expires_in", "must be a whole number of seconds (0 for a token that does not expire)")
            }
            expires = seconds == 0 ? nil : Int(clamping: seconds)
        }
        let spec = TokenService.Spec(
            name: try body.string("username") ?? caller.name, scope: scope, expiresInSeconds: expires,
            description: try body.string("description") ?? "")
        let (record, value) = try await tokens.create(spec, by: caller, expiresField: "expires_in")
        var answer: [String: Any] = ["token_id": record.id, "access_token": value, "scope": scope.accessScope, "token_type": "Bearer"]
        if let expires { answer["expires_in"] = expires }
        return Response.json(answer)
    }

    func render(_ record: TokenRecord) -> [String: Any] {
        var token: [String: Any] = [
            "token_id": record.id, "issuer": "jfac@\(address.serviceID)", "subject": address.subject(of: record.name),
            "issued_at": record.createdAt / 1000, "refreshable": false, "description": record.description, "scope": record.scope.accessScope,
        ]
        if let expiresAt = record.expiresAt { token["expiry"] = expiresAt / 1000 }
        return token
    }

    /// A JSON object, or a form (`application/x-www-form-urlencoded`, as `curl -d` sends): each field a string.
    static func body(_ request: Request) async throws -> JSONBody {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            return try await JSONBody.read(request, limit: 64 << 10)
        }
        return JSONBody(object: JSONBody.formFields(try await JSONBody.text(request, limit: 64 << 10)))
    }
}
